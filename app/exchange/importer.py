"""`vr import`: migrate a bestuur's spreadsheet of verenigingen through the one write path.

Dry run: every row is parsed, checked by the domain rules and SHACL, compared with the register
and with the other rows for duplicates, and reported (row, column, Dutch message) without writing.
Commit: valid rows are registered, or updated when the bestuur's own key (column 'Sleutel') is
already known, each as its own transaction with its version, so a crash (even kill -9) leaves
every committed association complete and a rerun continues where it stopped.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app import paths
from app.domain import duplicates, parse
from app.domain.commands import CommandHandler, unique_keys
from app.domain.versions import Initiator, Provenance
from app.exchange.spreadsheet import Row, read_rows
from app.validation.errors import CommandRejected, FieldError

MAPPINGS = {"verenigingen": "import-verenigingen.json", "kbo": "import-kbo.json"}
IMPORTED_KINDS = ("locaties", "contactgegevens", "vertegenwoordigers")


@dataclass
class Mapping:
    columns: dict[str, str]
    required: set[str]
    defaults: dict[str, str]
    kind: str

    @classmethod
    def load(cls, kind: str) -> Mapping:
        data = json.loads((paths.MAPPINGS / MAPPINGS[kind]).read_text(encoding="utf-8"))
        return cls(data["columns"], set(data["required"]), data.get("defaults", {}), data["kind"])


@dataclass
class Finding:
    row: int
    column: str
    message: str


@dataclass
class Report:
    errors: list[Finding] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    skipped_empty: list[int] = field(default_factory=list)

    def write(self, directory: Path) -> list[Path]:
        """validatie / dubbels / resultaat, each as .csv and .xlsx."""
        directory.mkdir(parents=True, exist_ok=True)
        tables = {
            "validatie": (["rij", "kolom", "melding"], [[f.row, f.column, f.message] for f in self.errors]
                          + [[n, "", "Lege rij overgeslagen."] for n in self.skipped_empty]),
            "dubbels": (["rij", "naam", "mogelijke dubbel", "naam dubbel", "score"],
                        [[d["rij"], d["naam"], d["dubbel"], d["naamDubbel"], d["score"]] for d in self.duplicates]),
            "resultaat": (["rij", "sleutel", "vCode", "actie"],
                          [[r["rij"], r["sleutel"], r.get("vCode", ""), r["actie"]] for r in self.results]),
        }
        written = []
        for name, (header, rows) in tables.items():
            csv_path = directory / f"{name}.csv"
            with csv_path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)
            written.append(csv_path)
            written.append(_xlsx(directory / f"{name}.xlsx", name, header, rows))
        return written


def _xlsx(path: Path, title: str, header: list[str], rows: list[list]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


# -- row → request body -------------------------------------------------------------------------------
def row_to_body(row: Row, mapping: Mapping) -> tuple[dict, dict[str, str]]:
    """The registration body for one row, and which column each body path came from."""
    body: dict = {}
    origin: dict[str, str] = {}
    values = dict(row.values)
    for column, value in mapping.defaults.items():
        if column not in values and _has_sibling(values, mapping, column):
            values[column] = value
    for column, value in values.items():
        target = mapping.columns[column]
        if target == "sleutel":
            continue
        if target.startswith("contactgegevens:"):
            kind = target.split(":", 1)[1]
            items = body.setdefault("contactgegevens", [])
            primary = not any(item["contactgegeventype"] == kind for item in items)
            origin[f"contactgegevens[{len(items)}]"] = column
            items.append({"contactgegeventype": kind, "waarde": value, "isPrimair": primary})
            continue
        path, _, conversion = target.partition(":")
        converted: object = value
        if conversion == "int":
            converted = int(value) if re.fullmatch(r"-?\d+", value) else value
        elif conversion == "list":
            converted = [part.strip() for part in re.split(r"[,;]", value) if part.strip()]
        _set(body, path.split("."), converted)
        origin[_error_path(path)] = column
    return body, origin


def _has_sibling(values: dict[str, str], mapping: Mapping, column: str) -> bool:
    parent = mapping.columns[column].rsplit(".", 1)[0]
    return any(mapping.columns[other].startswith(parent + ".") for other in values)


def _set(target: dict, parts: list[str], value: object) -> None:
    *parents, leaf = parts
    node: dict | list = target
    for index, part in enumerate(parents):
        following = parents[index + 1] if index + 1 < len(parents) else leaf
        empty: dict | list = [] if following.isdigit() else {}
        if isinstance(node, list):
            position = int(part)
            while len(node) <= position:
                node.append(copy.copy(empty))
            node = node[position]
        else:
            node = node.setdefault(part, empty)
    if isinstance(node, list):
        node.append(value)
    else:
        node[leaf] = value


def _error_path(path: str) -> str:
    return re.sub(r"\.(\d+)", r"[\1]", path)


def column_for(error_path: str, origin: dict[str, str]) -> str:
    """The spreadsheet column an error is about: the longest body path that prefixes it."""
    best = ""
    for path in origin:
        if (error_path == path or error_path.startswith(path + ".") or error_path.startswith(path + "[")) \
                and len(path) > len(best):
            best = path
    return origin.get(best, "")


# -- the import itself ----------------------------------------------------------------------------------
@dataclass
class Prepared:
    row: Row
    key: str
    state: dict | None
    origin: dict[str, str]


def prepare(rows: list[Row], mapping: Mapping, initiator: Initiator, handler: CommandHandler,
            report: Report, full_check: bool = True) -> list[Prepared]:
    """Parse and check every row without writing; record findings in the report.

    Without `full_check` (commit mode) SHACL is left to the write path, which runs it anyway.
    """
    prepared = []
    seen_keys: dict[str, int] = {}
    for row in rows:
        key = row.values.get("Sleutel", "")
        body, origin = row_to_body(row, mapping)
        state = None
        if key in seen_keys:
            report.errors.append(Finding(row.number, "Sleutel", f"Deze sleutel staat ook op rij {seen_keys[key]}."))
        else:
            seen_keys[key] = row.number
            try:
                state = (parse.parse_kbo_registration(body) if mapping.kind == "kbo"
                         else parse.parse_registration(body))
                state["sleutels"] = [{"bron": initiator.ovo, "waarde": key}]
                if full_check:
                    handler.check(state)
            except CommandRejected as exc:
                state = None
                for error in exc.errors or [FieldError("", exc.slug, exc.detail)]:
                    report.errors.append(Finding(row.number, column_for(error.path, origin), error.message))
        prepared.append(Prepared(row, key, state, origin))
    _report_duplicates(prepared, handler, report)
    return prepared


def _report_duplicates(prepared: list[Prepared], handler: CommandHandler, report: Report) -> None:
    valid = [p for p in prepared if p.state is not None and not p.state.get("kboNummer")]
    for item in valid:
        own = handler.owner_of(unique_keys(item.state)[-1])
        for candidate in duplicates.find_candidates(handler.store, item.state):
            if candidate["vCode"] != own:
                report.duplicates.append({"rij": item.row.number, "naam": item.state["naam"],
                                          "dubbel": candidate["vCode"], "naamDubbel": candidate["naam"],
                                          "score": candidate["score"]})
    for index, item in enumerate(valid):
        places = _places(item.state)
        for other in valid[:index]:
            shared = places & _places(other.state)
            if not shared:
                continue
            gemeenten = {p[1] for p in shared}
            score = duplicates.similar(duplicates.normalise_name(item.state["naam"], gemeenten),
                                       duplicates.normalise_name(other.state["naam"], gemeenten))
            if score >= duplicates.THRESHOLD:
                report.duplicates.append({"rij": item.row.number, "naam": item.state["naam"],
                                          "dubbel": f"rij {other.row.number}", "naamDubbel": other.state["naam"],
                                          "score": round(score, 1)})


def _places(state: dict) -> set[tuple[str, str]]:
    return {(loc["adres"]["postcode"], loc["adres"]["gemeente"]) for loc in state["locaties"] if loc.get("adres")}


def commit(prepared: list[Prepared], handler: CommandHandler, initiator: Initiator, report: Report,
           confirm_duplicates: bool, reason: str | None, progress=None, threads: int = 1) -> None:
    """Register or update every valid row; each row is its own transaction.

    With several threads, rows validate in parallel (SHACL worker processes) while commits stay
    serialised by the write path; results are reported in file order.
    """
    prov = Provenance("registratie", initiator, reason or "Import")
    outcomes: dict[int, tuple[dict, list[Finding]]] = {}

    def one(item: Prepared) -> None:
        local = Report()
        _commit_row(item, handler, initiator, local, confirm_duplicates, reason, prov)
        outcomes[item.row.number] = (local.results[0], local.errors)
        if progress is not None:
            progress.update(1)

    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, prepared))
    else:
        for item in prepared:
            one(item)
    for item in prepared:
        result, errors = outcomes[item.row.number]
        report.results.append(result)
        report.errors.extend(errors)


def _commit_row(item: Prepared, handler: CommandHandler, initiator: Initiator, report: Report,
                confirm_duplicates: bool, reason: str | None, prov: Provenance) -> None:
    if item.state is None:
        report.results.append({"rij": item.row.number, "sleutel": item.key, "actie": "overgeslagen (fouten)"})
        return
    existing = handler.owner_of(unique_keys(item.state)[-1])
    try:
        if existing is None:
            confirmation = duplicates.confirmation_token(item.state, handler.secret) if confirm_duplicates else None
            outcome = handler.register(copy.deepcopy(item.state), prov, confirmation=confirmation)
            action = "geregistreerd" if outcome.created else "al gekend"
        else:
            outcome = handler.change(existing, lambda current: _updated(handler, existing, current, item.state),
                                     Provenance("wijziging", initiator, reason or "Import"))
            action = "bijgewerkt" if outcome.changed else "ongewijzigd"
        report.results.append({"rij": item.row.number, "sleutel": item.key, "vCode": outcome.vcode, "actie": action})
    except CommandRejected as exc:
        action = "overgeslagen (mogelijke dubbel)" if exc.status == 409 else f"overgeslagen ({exc.title})"
        report.results.append({"rij": item.row.number, "sleutel": item.key, "actie": action})
        for error in exc.errors or [FieldError("", exc.slug, exc.detail)]:
            report.errors.append(Finding(item.row.number, column_for(error.path, item.origin), error.message))


def _updated(handler: CommandHandler, vcode: str, current: dict, fresh: dict) -> dict:
    """The current state with the row's data; KBO-owned fields stay as they are."""
    new = copy.deepcopy(current)
    for key in parse.BASIS_FIELDS:
        if not (current.get("kboNummer") and key in parse.KBO_OWNED):
            new[key] = fresh[key]
    for kind in IMPORTED_KINDS:
        if _without_ids(current[kind]) != _without_ids(fresh[kind]):
            next_id = handler.next_item_id(vcode, kind, current)
            new[kind] = [dict(item, id=next_id + offset) for offset, item in enumerate(fresh[kind])]
    return new


def _without_ids(items: list[dict]) -> list[dict]:
    return sorted(json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True) for item in items)


def run_import(path: Path, kind: str, handler: CommandHandler, initiator: Initiator, *, dry_run: bool,
               confirm_duplicates: bool = False, reason: str | None = None, show_progress: bool = True,
               threads: int = 1) -> Report:
    mapping = Mapping.load(kind)
    rows, empty = read_rows(path, set(mapping.columns), mapping.required)
    report = Report(skipped_empty=empty)
    prepared = prepare(rows, mapping, initiator, handler, report, full_check=dry_run)
    if not dry_run:
        from tqdm import tqdm

        with tqdm(total=len(prepared), desc="import", unit="rij", disable=not show_progress) as progress:
            commit(prepared, handler, initiator, report, confirm_duplicates, reason, progress, threads)
    return report
