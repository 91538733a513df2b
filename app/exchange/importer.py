"""`vr import`: migrate a bestuur's list of verenigingen in rounds, through the one write path.

Round 1 is a dry run: every row is read forgivingly (normalise.py), checked by the domain rules and
SHACL, compared with the register and with the other rows for duplicates (candidates.py), and the
feedback workbook gets the original rows plus status, messages and a decision column `Actie`.
The bestuur corrects that workbook and sends it back as round 2, which commits:

- a row with a known Sleutel updates its vereniging (only what changed; unchanged → no version);
- `koppel:V0001030` adopts an existing vereniging: the Sleutel is stored on it and the row applied;
- a row with possible duplicates is only registered with `bevestig-nieuw`; otherwise it waits;
- any other valid row is registered.

Rows stream through in chunks of 500, each with one SHACL run over all its records
(CommandHandler.check_commands), and in batches of up to 5,000 rows, each ONE commit (commit_batch),
so a crash leaves whole batches and a rerun continues. Reading and checking chunks runs in worker
processes a few chunks ahead (row_workers.py), and checking the next batch overlaps with committing
this one (see _Pipeline).
"""

from __future__ import annotations

import ctypes
import os
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from app.domain import duplicates, parse, places, rules
from app.domain.batch_check import Prechecked
from app.domain.commands import CheckedBatch, CommandHandler, Loaded, unique_keys
from app.domain.errors import DomainError, FieldError, Gone, NotFound, invalid
from app.domain.model import KBO_TYPES
from app.domain.named_commands import ImportRow, Register
from app.domain.parse import KBO_OWNED
from app.domain.vcode import parse_vcode
from app.domain.versions import Initiator
from app.exchange import messages, rows
from app.exchange.candidates import Candidate, Candidates, Probe, similar_names
from app.exchange.changes import changes
from app.exchange.normalise import fold
from app.exchange.quiet_gc import fewer_collections
from app.exchange.rows import Mapping
from app.exchange.spreadsheet import FileRejected, Row, is_example, read_rows, row_values, text

BATCH = 5000  # rows per commit: one ingestion each (see _Pipeline)
CHUNK = 500  # rows a worker process reads and checks at a time
# updates and adoptions per commit (one transaction: each rewrites a whole record, with its version)
UPDATES_PER_COMMIT = 500
CHECKED_ROWS = 10_000  # rows an upload's check looks at for a filled one (the import itself reads them all)
DRY_RUNS = 2  # dry runs at once over the register's processes (each starts worker processes); more wait
NO_ROWS = "Het bestand bevat geen ingevulde rijen onder de kopregel (de voorbeeldrij van het sjabloon telt niet)."
STATUS = {  # (dry run, commit)
    "nieuw": ("wordt geregistreerd", "geregistreerd"),
    "bijwerken": ("wordt bijgewerkt", "bijgewerkt"),
    "ongewijzigd": ("ongewijzigd", "ongewijzigd"),
    "koppel": ("wordt gekoppeld", "gekoppeld"),
    "fout": ("fout: niet geïmporteerd", "fout: niet geïmporteerd"),
    "beslissing": ("beslissing nodig", "beslissing nodig: niet geïmporteerd"),
}
__all__ = ["FileRejected", "Finding", "ImportStopped", "Report", "check_file", "left_out", "run_import"]


def left_out(counts: dict[str, int]) -> bool:
    """Whether a report's counts per STATUS hold a row left out (an error, or a possible duplicate without a
    decision); a dry run's rows that would be left out count too: `vr import` exits 1 for a script."""
    left = {STATUS["fout"][0], STATUS["fout"][1], STATUS["beslissing"][0], STATUS["beslissing"][1]}
    return any(count for status, count in counts.items() if status in left)


class ImportStopped(Exception):
    """The import was stopped on request between two chunks; `done` rows were written (whole batches)."""

    def __init__(self, done: int) -> None:
        super().__init__(done)
        self.done = done


def check_file(path: Path, kind: str) -> None:
    """Refuse at once what cannot be imported at all (not a readable .xlsx/.csv, a required column missing,
    no filled row), so an upload hears it in its answer rather than from a job that fails later."""
    mapping = Mapping.load(kind)
    table = read_rows(path, mapping.names, mapping.required, {fold(n) for n in mapping.feedback}, formulas=False,
                      repeatable=mapping.repeatable)
    try:
        # the first rows only: a sheet of a million empty rows must not hold the upload's request for a minute
        filled = (row_values(table, number, cells) for number, cells in islice(table.rows, CHECKED_ROWS))
        if not any(row is not None and not is_example(row) for row in filled):
            raise FileRejected(NO_ROWS)
    finally:
        if callable(table.close):
            table.close()


@dataclass
class Finding:
    row: int
    level: str  # fout | dubbel | waarschuwing | wijziging (what a dry run would change on a vereniging)
    column: str
    value: str
    message: str
    fix: str = ""


@dataclass
class RowResult:
    row: int
    sleutel: str
    naam: str
    status: str = ""
    vcode: str = ""
    actie: str = ""
    findings: list[Finding] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    cells: tuple = ()


@dataclass
class Report:
    dry_run: bool
    base: str
    header: list[str] = field(default_factory=list)
    file_names: dict[str, str] = field(default_factory=dict)  # template column → the file's own name for it
    file_notes: list[Finding] = field(default_factory=list)
    results: list[RowResult] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    feedback: Path | None = None

    def link(self, vcode: str) -> str:
        return f"{self.base}/doc/vereniging/{vcode}" if vcode else ""

    def column(self, name: str) -> str:
        """A column as the bestuur named it in its file (the template's name when its file has none)."""
        return self.file_names.get(name, name)

    def say(self, text: str) -> str:
        """A message or fix naming columns as the bestuur's file does: "kolom 'Straat'" → "kolom 'Adres straat'"."""
        if not self.file_names or "olom '" not in text:
            return text
        return _COLUMN_NAMED.sub(lambda found: f"{found[1]}olom '{self.column(found[2])}'", text)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for result in self.results:
            found[result.status] = found.get(result.status, 0) + 1
        return found

    @property
    def findings(self) -> list[Finding]:
        return [*self.file_notes, *(f for r in self.results for f in r.findings)]

    @property
    def error_rows(self) -> int:
        """Rows not imported for an error (the summary sheet, the HTTP status's `fouten`)."""
        return sum(1 for r in self.results if any(f.level == "fout" for f in r.findings))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "fout"]

    def write(self, directory: Path, source: Path | None = None) -> list[Path]:
        from app.exchange.reports import write_reports

        return write_reports(self, directory, source)


@dataclass
class Item:
    """One row on its way through the import."""

    result: RowResult
    read: rows.ReadRow | None = None
    state: dict | None = None
    decision: tuple[str, str] = ("", "")  # (nieuw | bevestig-nieuw | koppel, V-code)
    owner: str | None = None  # the vereniging this row's Sleutel already belongs to
    kbo_type: str | None = None  # a type with legal personality (VZW, …): fine for a KBO vereniging it updates

    @property
    def has_errors(self) -> bool:
        return any(f.level == "fout" for f in self.result.findings)

    def add(self, level: str, column: str, value: str, message: str, fix: str = "") -> None:
        self.result.findings.append(Finding(self.result.row, level, column, value, message, fix))


class RowReader:
    """The store-free part of a row: reading it forgivingly, parsing, the domain rules (also in worker processes)."""

    def __init__(self, mapping: Mapping, columns: dict[int, str], initiator: Initiator) -> None:
        self.mapping = mapping
        self.columns = columns
        self.initiator = initiator

    def read(self, item: Item, row: Row) -> None:
        item.read = rows.read(row, self.mapping)
        for column, value, note in item.read.notes:
            item.add(note.level, column, value, note.message, note.fix)
        if self.mapping.kind != "kbo" and item.read.body.get("verenigingstype") in KBO_TYPES:
            # registering one needs the KBO template; updating or adopting a KBO vereniging is fine (the KBO owns
            # its type): which of the two is known once the row's route is (Importer._route, _update)
            item.kbo_type = item.read.body.pop("verenigingstype")
        problems: list[FieldError] = []
        try:
            item.state = parse.parse_import_row(item.read.body, kbo=self.mapping.kind == "kbo",
                                                owner=self.initiator.ovo, key=item.result.sleutel, collect=problems)
        except DomainError as exc:
            self.errors(item, exc)
        if item.state is not None and (problems or item.has_errors):
            # round 1 shows every problem of the row: the rules run over what it got right (a column the reading
            # already found wrong, as a postcode that does not exist, is said once: with the reading's hint)
            assert item.read is not None
            said = {f.column for f in item.result.findings if f.level == "fout"}
            found = problems + [e for e in independent_rule_errors(item.state, problems)
                                if self.mapping.column_for(e.path, item.read.origin) not in said]
            if found:
                self.errors(item, invalid(found))
            item.state = None

    def errors(self, item: Item, exc: DomainError) -> None:
        assert item.read is not None
        for error in exc.errors or [FieldError("", exc.slug, exc.detail)]:
            column = self.mapping.column_for(error.path, item.read.origin)
            value = self._value(item, column)
            message, fix = messages.explain(error, column, value)
            item.add("fout", column, value, message, fix)

    def _value(self, item: Item, column: str) -> str:
        """The cell as the bestuur typed it."""
        for position, name in self.columns.items():
            if name == column and position < len(item.result.cells):
                return text(item.result.cells[position])
        return ""


class Importer:
    def __init__(self, handler: CommandHandler, initiator: Initiator, mapping: Mapping, columns: dict[int, str], *,
                 dry_run: bool, reason: str | None = None, engine: str = "turbo",
                 before_commit: Callable[[str, int], None] | None = None) -> None:
        self.handler = handler
        self.columns = columns
        self.initiator = initiator
        self.mapping = mapping
        self.dry_run = dry_run
        self.engine = engine
        self.candidates = Candidates(handler.store)
        self.keys: dict[str, int] = {}
        self.linked: dict[str, int] = {}  # V-code → the row that adopts it (koppel)
        self.reason = reason or "Import"
        self.before_commit = before_commit
        self.reader = RowReader(mapping, columns, initiator)

    # -- one row: start (in file order), read (store-free: here or in a worker process), finish (in file order)
    def prepare(self, row: Row) -> Item:
        item = self.start(row)
        self.reader.read(item, row)
        self.finish(item, row)
        return item

    def start(self, row: Row) -> Item:
        """The row's decision and whether its Sleutel already came up in the file."""
        key = row.values.get("Sleutel", "")
        if re.fullmatch(r"\d+\.0+", key):  # '102.0': a number a spreadsheet program wrote as a decimal
            key = key.split(".")[0]
        item = Item(RowResult(row.number, key, row.values.get("Naam", ""), cells=row.cells))
        if key != row.values.get("Sleutel", ""):
            item.add("waarschuwing", "Sleutel", row.values["Sleutel"], f"Sleutel '{row.values['Sleutel']}' gelezen "
                     f"als '{key}'.")
        self._decision(item, row.values.get("Actie", ""))
        if not key and "Sleutel" in self.mapping.required:
            item.add("fout", "Sleutel", "", "Kolom 'Sleutel' is leeg.",
                     "Geef elke vereniging een eigen sleutel (bv. het nummer uit uw eigen lijst): daarmee vindt een "
                     "volgende ronde dezelfde vereniging terug.")
        elif key in self.keys:
            item.add("fout", "Sleutel", key, f"Sleutel '{key}' staat ook op rij {self.keys[key]}.",
                     "Geef elke vereniging een eigen sleutel, of laat de dubbele rij weg.")
        elif key:
            self.keys[key] = row.number
        if item.decision[0] == "koppel":
            target = item.decision[1]
            if target in self.linked:
                item.add("fout", "Actie", item.result.actie, f"Rij {self.linked[target]} koppelt ook aan {target}.",
                         f"Twee rijen kunnen niet dezelfde vereniging zijn. Is deze rij dezelfde vereniging als rij "
                         f"{self.linked[target]}? Laat ze dan weg. Is het een andere vereniging? Zet dan "
                         "'bevestig-nieuw' in kolom 'Actie'.")
            else:
                self.linked[target] = row.number
        return item

    def finish(self, item: Item, row: Row) -> None:
        """What the register and the earlier rows say: the Sleutel's owner, possible duplicates."""
        key = item.result.sleutel
        # also for a row with errors elsewhere: its own vereniging is then no look-alike to decide about
        if key and not any(f.level == "fout" and f.column == "Sleutel" for f in item.result.findings):
            item.owner = self.handler.owner_of(unique_keys({"sleutels": [{"bron": self.initiator.ovo,
                                                                            "waarde": key}]})[0])
        self._duplicates(item, row)

    def _decision(self, item: Item, actie: str) -> None:
        item.result.actie = actie
        text = actie.strip().lower().replace(" ", "")
        if text in ("", "nieuw"):
            item.decision = ("nieuw", "")
        elif text in ("bevestig-nieuw", "bevestignieuw", "toch-nieuw"):
            item.decision = ("bevestig-nieuw", "")
        elif text.startswith("koppel") and (vcode := parse_vcode(text.split(":", 1)[-1].upper())):
            item.decision = ("koppel", vcode)
        else:
            item.add("fout", "Actie", actie, f"'{actie}' is geen gekende actie.",
                     "Laat 'Actie' leeg, of schrijf 'nieuw', 'bevestig-nieuw' of 'koppel:V0001030' (met de V-code).")

    def _errors(self, item: Item, exc: DomainError) -> None:
        self.reader.errors(item, exc)

    def _duplicates(self, item: Item, row: Row) -> None:
        probe = Probe(row.values.get("Naam", ""), rows.normalise.postcode_value(row.values.get("Postcode", ""))[0],
                      row.values.get("Gemeente", ""), row.values.get("Straat", ""), row.values.get("Huisnummer", ""))
        if not probe.naam:
            return
        earlier = self.candidates.in_file(probe, row.number)
        if item.decision[0] == "koppel" and item.owner is None:
            self._check_link(item, probe)
        elif item.owner is not None and item.decision != ("koppel", item.owner):  # koppel:<owner> confirms it
            self._check_owner(item, probe)
        if item.owner is not None and item.decision[0] == "bevestig-nieuw":
            item.add("waarschuwing", "Actie", item.result.actie, f"Sleutel '{item.result.sleutel}' hoort al bij "
                     f"{item.owner}: de rij wijzigt die vereniging, 'bevestig-nieuw' registreert geen nieuwe.",
                     "Is het een andere vereniging? Geef ze dan een eigen sleutel.")
        if item.owner is not None or item.decision[0] == "koppel" or self.mapping.kind == "kbo":
            return
        found = earlier + self.candidates.in_register(probe)
        item.result.candidates = found
        said_new = fold(item.result.actie) == "nieuw"  # the drop-down's 'nieuw' is no decision about a look-alike
        for candidate in found:
            in_file = candidate.ref.startswith("rij")
            what = (f"de andere rij ({candidate.ref}: {candidate.naam})" if in_file
                    else f"{candidate.ref} {candidate.naam} ({candidate.adres})")
            fix = ("'nieuw' volstaat niet bij een mogelijke dubbel. " if said_new else "") \
                + "Zet in kolom 'Actie' 'bevestig-nieuw' als het een andere vereniging is" \
                + (" of laat een van beide rijen weg." if in_file else f", of 'koppel:{candidate.ref}' als het "
                   "dezelfde is.")
            item.add("dubbel", "Naam", probe.naam, f"Lijkt op {what}.", fix)

    def _check_link(self, item: Item, probe: Probe) -> None:
        """`koppel:V…` adopts a vereniging the row describes: one with a similar name, or at least in the same
        gemeente (then the register's name is shown); one that is neither is refused as a likely typo, and so
        is one that already has another Sleutel of this bestuur (two keys would rewrite it in turn)."""
        vcode = item.decision[1]
        found = self._resemblance(probe, vcode)
        if found is None:
            return  # a V-code that does not exist (any more) is reported when the row is applied
        naam, where, likeness, current = found
        mine = [k["waarde"] for k in current.get("sleutels") or [] if k.get("bron") == self.initiator.ovo]
        if mine and item.result.sleutel not in mine:
            other = mine[0]
            at = f" (rij {self.keys[other]})" if other in self.keys else ""
            item.add("fout", "Actie", item.result.actie, f"{vcode} ('{naam}') heeft al uw sleutel '{other}'{at}.",
                     f"Een vereniging heeft één sleutel van uw bestuur. Is deze rij dezelfde vereniging? Gebruik dan "
                     f"sleutel '{other}' of laat de rij weg. Is het een andere vereniging? Zet dan 'bevestig-nieuw' "
                     "in kolom 'Actie'.")
        elif likeness == "gemeente":
            item.add("waarschuwing", "Actie", item.result.actie, f"{vcode} heet in het register '{naam}'; de rij "
                     f"wordt eraan gekoppeld en de naam wordt '{probe.naam}'.",
                     "Controleer de V-code als het niet dezelfde vereniging is.")
        elif likeness == "anders":
            item.add("fout", "Actie", item.result.actie, f"{vcode} ('{naam}', {where}) lijkt niet op deze rij: een "
                     "andere naam in een andere gemeente.",
                     "Controleer de V-code in kolom 'Actie' (de link in het rapport toont de vereniging), of laat "
                     "'Actie' leeg.")

    def _check_owner(self, item: Item, probe: Probe) -> None:
        """A Sleutel the register knows updates its vereniging, but not one the row does not describe: two
        departments numbering their lists alike would overwrite each other's verenigingen."""
        vcode, key = item.owner, item.result.sleutel
        found = self._resemblance(probe, vcode)
        if found is None or found[2] == "naam":
            return
        naam, where, likeness, _ = found
        if likeness == "gemeente":
            item.add("waarschuwing", "Sleutel", key, f"Sleutel '{key}' hoort bij {vcode}, die in het register "
                     f"'{naam}' heet; de naam wordt '{probe.naam}'.",
                     "Controleer de sleutel als het niet dezelfde vereniging is.")
            return
        item.add("fout", "Sleutel", key, f"Sleutel '{key}' hoort bij {vcode} ('{naam}', {where}); deze rij beschrijft "
                 "een andere vereniging in een andere gemeente.",
                 f"Geef deze vereniging een eigen sleutel. Is het toch dezelfde vereniging (met een nieuwe naam en "
                 f"adres)? Zet dan 'koppel:{vcode}' in kolom 'Actie'.")

    def _resemblance(self, probe: Probe, vcode: str) -> tuple[str, str, str, dict] | None:
        """(register's name, its gemeenten, 'naam' | 'gemeente' | 'anders', its state): how far the row
        resembles the vereniging; None when it does not exist (any more)."""
        try:
            current, _ = self.handler.load(vcode)
        except DomainError:
            return None
        naam = current.get("naam") or ""
        addresses = [loc.get("adres") or {} for loc in current.get("locaties") or []]
        where = ", ".join(sorted({adres["gemeente"] for adres in addresses if adres.get("gemeente")})) or "geen adres"
        if similar_names(probe.naam, naam, probe.area()):
            return naam, where, "naam", current
        areas = {Probe("", adres.get("postcode") or "", adres.get("gemeente") or "").area() for adres in addresses}
        return naam, where, "gemeente" if probe.area() in areas else "anders", current

    def _kbo_fields(self, item: Item, vcode: str, current: dict) -> bool:
        """What the KBO owns stays as the KBO says, and the report says so: a row's other name for a KBO
        vereniging is a warning, a VZW type for a vereniging without KBO number an error (False)."""
        if not current.get("kboNummer"):
            if item.kbo_type is not None:
                item.add("fout", "Type", item.kbo_type, f"{vcode} is in het register geen {item.kbo_type} maar "
                         f"{current.get('verenigingstype')}; een type met rechtspersoonlijkheid komt enkel uit de KBO.",
                         "Laat 'Type' leeg, of importeer de vereniging met het KBO-sjabloon.")
                return False
            return True
        for name in sorted(KBO_OWNED & set(item.read.body)):
            if item.read.body[name] != current.get(name):
                column = self.mapping.column_for(name, item.read.origin)
                item.add("waarschuwing", column, str(item.read.body[name]), f"{vcode} heeft een ondernemingsnummer: "
                         f"dit gegeven komt uit de KBO en blijft '{current.get(name) or ''}'.",
                         "Geen actie nodig; een wijziging gebeurt in de KBO.")
        return True

    def _less_exact_kept(self, item: Item, current: dict) -> dict:
        """The row's body without what says less than the register already knows: a date given as a bare year
        when the register knows a day in that year ('1980' must not make 1980-09-03 1980-01-01), and a name
        that differs only in capitals, accents or spaces ('WERELDWINKEL GENT', 'Digicafe Gent')."""
        body = item.read.body
        years = item.read.years & set(body)
        precise = [(name, current[name]) for name in sorted(years)
                   if _year(current.get(name)) == _year(body[name]) != "" and current[name] != body[name]]
        for field_name, known in precise:
            item.add("waarschuwing", field_name.capitalize(), body[field_name][:4],
                     f"Alleen een jaartal: het register kent de datum {known}, die blijft staan.")
        for name in ("naam", "korteNaam"):
            known = current.get(name)
            if isinstance(body.get(name), str) and known and body[name] != known and fold(body[name]) == fold(known):
                column = self.mapping.column_for(name, item.read.origin)
                item.add("waarschuwing", column, body[name], f"Verschilt van '{known}' in het register enkel in "
                         "hoofdletters, accenten of spaties: de naam in het register blijft staan.",
                         "Geen actie nodig; schrijf de naam precies zo als u ze wilt wijzigen.")
                precise.append((name, known))
        return {k: v for k, v in body.items() if k not in dict(precise)}

    def _changes_said(self, item: Item, vcode: str, route: str, current: dict, after: dict) -> None:
        """What the row changes in words; on a vereniging this bestuur adopts, a warning when it takes away
        activities or moves the vereniging to another gemeente (a wrong V-code in 'koppel' does that)."""
        for label, before, now in changes(current, after):
            item.add("wijziging", "", "", f"{label.capitalize()} in {vcode}: {before} → {now}")
        if route != "koppel":
            return
        gone = [code for code in current.get("hoofdactiviteiten", []) if code not in after.get("hoofdactiviteiten", [])]
        fix = f"Controleer of {vcode} de juiste vereniging is; laat een kolom leeg om wat het register weet te houden."
        if gone:
            item.add("waarschuwing", self.mapping.column_for("hoofdactiviteiten", {}), ", ".join(gone),
                     f"{vcode} verliest hoofdactiviteit(en) {', '.join(gone)}.", fix)
        before = places.named_gemeenten(current)
        moved = sorted(name for code, name in places.named_gemeenten(after).items() if before and code not in before)
        if moved:
            item.add("waarschuwing", self.mapping.column_for("locaties", {}), ", ".join(moved),
                     f"{vcode} ligt in het register in {', '.join(sorted(before.values()))}, niet in "
                     f"{', '.join(moved)}.", fix)

    # -- a batch of rows ---------------------------------------------------------------------------
    def run_batch(self, items: list[Item]) -> None:
        self.commit_batch(items, self.check_batch(items))

    def check_batch(self, items: list[Item], prechecked: list[tuple[str, Prechecked] | None] | None = None
                    ) -> tuple[list[Item], CheckedBatch] | None:
        """Everything before the commit (rules, references, SHACL over the batch's new rows); a dry run
        ends here. Runs for batch k+1 while commit_batch writes batch k. `prechecked` is, per item, the
        confirmation token and the store-free checks a worker process ran (row_workers.check_rows)."""
        new = [index for index, item in enumerate(items) if self._route(item) == "nieuw"]
        if self.dry_run:
            states = [items[i].state for i in new]
            for index, errors in zip(new, self.handler.check_batch(states, self.engine), strict=True):
                self._settle(items[index], errors)
            return None
        ready = [prechecked[i] for i in new] if prechecked is not None else []
        if prechecked is None or None in ready:  # checked here
            batch = [Register(items[i].state, duplicates.confirmation_token(items[i].state, self.handler.secret))
                     for i in new]
            found = None
        else:
            batch = [Register(items[i].state, token) for i, (token, _) in zip(new, ready, strict=True)]
            found = [entry for _, entry in ready]
        return [items[i] for i in new], self.handler.check_commands(
            batch, self.initiator, reason=self.reason, engine=self.engine, before_commit=self.before_commit,
            prechecked=found)

    def commit_batch(self, items: list[Item], checked: tuple[list[Item], CheckedBatch] | None) -> None:
        """The batch's new rows in ONE commit, then its updates and adoptions in commits of UPDATES_PER_COMMIT."""
        if checked is not None:
            new, batch = checked
            outcomes = self.handler.commit_batch(batch)
            for item, outcome in zip(new, outcomes, strict=True):
                if isinstance(outcome, DomainError):
                    self._settle(item, outcome.errors or [FieldError("", outcome.slug, outcome.detail)])
                else:
                    item.result.vcode = outcome.vcode
                    self._status(item, "nieuw" if outcome.created and not outcome.replayed else "ongewijzigd")
        updates: list[tuple[Item, str, ImportRow, Loaded]] = []
        for item in items:
            route = self._route(item)
            if route in ("bijwerken", "koppel"):
                ready = self._update(item, item.owner or item.decision[1], route)
                if ready is not None:
                    updates.append((item, route, *ready))
            elif route != "nieuw":
                self._status(item, route)
        for start in range(0, len(updates), UPDATES_PER_COMMIT):
            chunk = updates[start:start + UPDATES_PER_COMMIT]
            outcomes = self.handler.run_changes([command for _, _, command, _ in chunk], self.initiator,
                                                reason=self.reason, before_commit=self.before_commit,
                                                loaded=[loaded for *_, loaded in chunk])
            for (item, route, command, _), outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, DomainError):
                    self._update_refused(item, command.vcode, outcome)
                else:
                    self._updated(item, command.vcode, route, outcome.changed)

    def _route(self, item: Item) -> str:
        if item.has_errors or item.state is None:
            return "fout"
        if item.owner is not None:
            if item.decision[0] == "koppel" and item.decision[1] != item.owner:
                item.add("fout", "Actie", item.result.actie,
                         f"Sleutel '{item.result.sleutel}' hoort al bij {item.owner}, niet bij {item.decision[1]}.",
                         f"Schrijf 'koppel:{item.owner}' of laat 'Actie' leeg.")
                return "fout"
            return "bijwerken"
        if item.decision[0] == "koppel":
            return "koppel"
        if item.kbo_type is not None:
            item.add("fout", "Type", item.kbo_type, f"Een {item.kbo_type} heeft een ondernemingsnummer en wordt niet "
                     "met dit sjabloon geregistreerd.",
                     "Importeer ze met het KBO-sjabloon (import-kbo.xlsx, met het ondernemingsnummer), of zet "
                     "'koppel:V…' in kolom 'Actie' als ze al in het register staat.")
            return "fout"
        if item.result.candidates and item.decision[0] != "bevestig-nieuw":
            return "beslissing"
        return "nieuw"

    def _settle(self, item: Item, errors: list[FieldError]) -> None:
        if errors:
            self._errors(item, invalid(errors))
            self._status(item, "fout")
        else:
            self._status(item, "nieuw")

    def _status(self, item: Item, route: str) -> None:
        item.result.status = STATUS[route][0 if self.dry_run else 1]

    def _update(self, item: Item, vcode: str, route: str) -> tuple[ImportRow, Loaded] | None:
        """The command that applies a row to the vereniging it updates or adopts, with the record as read (the
        commit starts from it); None when the row is settled here: refused, or a dry run (which reports what
        round 2 would change)."""
        assert item.state is not None and item.read is not None
        try:
            loaded = self.handler.records.load_record(vcode)  # read once: the checks below, the change, a dry run
            current = loaded[0]
            if not self._kbo_fields(item, vcode, current):
                self._status(item, "fout")
                return None
            command = ImportRow(vcode, item.state, self._less_exact_kept(item, current))
            after = command.apply(current, self.initiator)
            self._changes_said(item, vcode, route, current, after)  # what it (round 2) overwrites, in words
            if not self.dry_run:
                return command, loaded
        except DomainError as exc:
            self._update_refused(item, vcode, exc)
            return None
        self._updated(item, vcode, route, after != current)
        return None

    def _updated(self, item: Item, vcode: str, route: str, changed: bool) -> None:
        item.result.vcode = vcode
        self._status(item, route if route == "koppel" or changed else "ongewijzigd")

    def _update_refused(self, item: Item, vcode: str, exc: DomainError) -> None:
        if isinstance(exc, (NotFound, Gone)):
            item.add("fout", "Actie", item.result.actie, f"Vereniging {vcode} bestaat niet (meer) in het register.",
                     "Controleer de V-code in kolom 'Actie'.")
        else:
            self._errors(item, exc)
        self._status(item, "fout")


def _year(value: object) -> str:
    return value[:4] if isinstance(value, str) else ""


def independent_rule_errors(state: dict, problems: list[FieldError]) -> list[FieldError]:
    """The domain rules over what a row with field errors got right, so round 1 shows every problem that
    does not depend on one already reported (a startdatum in the future next to a wrong INSZ, …).

    Items with a field error are left out; a rule about a field in error, or that needs it, is skipped."""
    bad = [p.path for p in problems]
    kept: dict[str, list[int]] = {}
    partial = dict(state)
    for kind in parse.KINDS:
        kept[kind] = [i for i in range(len(state[kind])) if not any(_overlap(f"{kind}[{i}]", path) for path in bad)]
        partial[kind] = [state[kind][i] for i in kept[kind]]
    try:
        rules.check(partial)
    except DomainError as exc:
        found = [FieldError(_original(e.path, kept), e.code, e.message) for e in exc.errors]
        return [e for e in found if not any(_overlap(e.path, path) for path in bad)]
    except (TypeError, KeyError, AttributeError, ValueError):  # a rule needs a field that is in error
        return []
    return []


def _overlap(a: str, b: str) -> bool:
    """One path is (inside) the other: `locaties[0]` and `locaties[0].adres.postcode`, or `doelgroep`."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "[")) or not a or not b


def _original(path: str, kept: dict[str, list[int]]) -> str:
    """A path in the partial state (items in error left out) as a path in the row's own items."""
    head, bracket, rest = path.partition("[")
    if not bracket or head not in kept:
        return path
    index, _, tail = rest.partition("]")
    return f"{head}[{kept[head][int(index)]}]{tail}"


@fewer_collections()
def run_import(path: Path, kind: str, handler: CommandHandler, initiator: Initiator, *, dry_run: bool,
               reason: str | None = None, progress: Callable[[int], None] | None = None,
               feedback: Path | None = None, engine: str = "turbo", batch_size: int = BATCH,
               before_commit: Callable[[str, int], None] | None = None, workers: int | None = None,
               chunk_size: int = CHUNK, stop: Callable[[], bool] | None = None,
               waiting: Callable[[bool], None] | None = None) -> Report:
    """Import a file; rows stream through in batches of `batch_size` rows, one commit each. `feedback` is
    where the terugkoppeling workbook goes (written row by row), `progress` receives the number of rows
    done so far. `workers` is the number of worker processes that read and check rows once the file
    has more than one chunk of `chunk_size` rows (default: one per core; 0: all in this process).
    `stop` is asked between chunks: when it says so, the batch being written is finished and
    ImportStopped raised (the rows of whole batches stay written, nothing is half written).
    Imports that write run one at a time over the register's processes, so each one's duplicate search
    sees the rows of the one before; `waiting(True)` is told when this one has to wait for another,
    `waiting(False)` when its turn came."""
    if dry_run:
        return _dry_run_in_turn(path, kind, handler, initiator, reason=reason, progress=progress, feedback=feedback,
                                engine=engine, batch_size=batch_size, workers=workers, chunk_size=chunk_size,
                                stop=stop, waiting=waiting)
    turn = handler.store.exclusive("import")
    if not turn.acquire(wait=False):
        if waiting is not None:
            waiting(True)
        turn.acquire()
        if waiting is not None:
            waiting(False)
    try:
        return _run_import(path, kind, handler, initiator, dry_run=dry_run, reason=reason, progress=progress,
                           feedback=feedback, engine=engine, batch_size=batch_size, before_commit=before_commit,
                           workers=workers, chunk_size=chunk_size, stop=stop)
    finally:
        turn.release()


def _dry_run_in_turn(path: Path, kind: str, handler: CommandHandler, initiator: Initiator, *,
                     waiting: Callable[[bool], None] | None, **options) -> Report:
    """A dry run writes nothing, so several run at once, but at most DRY_RUNS: each starts worker processes,
    and uploads must not be able to start them without end."""
    places = handler.store.lease.slots("proefimport", DRY_RUNS)
    place = places.acquire(0)
    if place is None:
        if waiting is not None:
            waiting(True)
        while place is None:
            place = places.acquire(60)
        if waiting is not None:
            waiting(False)
    try:
        return _run_import(path, kind, handler, initiator, dry_run=True, before_commit=None, **options)
    finally:
        places.release(place)


def _run_import(path: Path, kind: str, handler: CommandHandler, initiator: Initiator, *, dry_run: bool,
                reason: str | None, progress: Callable[[int], None] | None, feedback: Path | None, engine: str,
                batch_size: int, before_commit: Callable[[str, int], None] | None, workers: int | None,
                chunk_size: int, stop: Callable[[], bool] | None) -> Report:
    from app.exchange.reports import Feedback

    steady_heap()
    mapping = Mapping.load(kind)
    table = read_rows(path, mapping.names, mapping.required, {fold(n) for n in mapping.feedback},
                      repeatable=mapping.repeatable)
    named: dict[str, list[str]] = {}  # template column → the file's names for it ('Tel.' and 'GSM': both)
    for position, column in sorted(table.columns.items()):
        named.setdefault(column, []).append(table.header[position])
    report = Report(dry_run, handler.base, table.header, {column: "/".join(names) for column, names in named.items()})
    report.file_notes += [_ignored(table.header_row, name, mapping) for name in table.ignored]
    report.file_notes += [Finding(table.header_row, "waarschuwing", "", "", note, "") for note in table.notes]
    importer = Importer(handler, initiator, mapping, table.columns, dry_run=dry_run, reason=reason, engine=engine,
                        before_commit=before_commit)
    workbook = Feedback(feedback, table.header, mapping.feedback, table.above) if feedback else None
    sink = (lambda result: workbook.add(result, report.link, report.column, report.say)) if workbook else None
    chunk = min(batch_size, chunk_size)
    pipeline = _Pipeline(importer, report, sink, progress, _workers() if workers is None else workers, batch_size,
                         chunk)
    try:
        pending: list[Row] = []
        for number, cells in table.rows:
            row = row_values(table, number, cells)
            if row is None:
                report.empty.append(number)
                continue
            if is_example(row):
                report.file_notes.append(Finding(number, "waarschuwing", "Sleutel", row.values["Sleutel"],
                                                 "De voorbeeldrij van het sjabloon wordt overgeslagen.",
                                                 "Geen actie nodig; u mag de rij ook verwijderen."))
                continue
            pending.append(row)
            if len(pending) >= chunk:
                if stop is not None and stop():
                    pipeline.abandon()
                    raise ImportStopped(pipeline.done)
                pipeline.add(pending, full=True)
                pending = []
        pipeline.add(pending, full=False)
        pipeline.drain()
    finally:
        pipeline.close()
        if callable(table.close):
            table.close()
    if not report.results:
        raise FileRejected(NO_ROWS)
    if workbook:
        report.feedback = workbook.close()
    return report


class _Pipeline:
    """Chunks in file order, checked here or in worker processes; ONE commit per batch of chunks, in a writer thread.

    Per row, what needs the order of the file or the store stays here (start: the decision and the
    Sleutel seen before; finish: the Sleutel's owner and the duplicate search over the register and
    the earlier rows; the store's checks of the new verenigingen; the commit, which hands out the
    V-codes). The rest (reading, parsing, the domain rules, RDF, SHACL over the chunk, the records as
    text: ~2/3 of the CPU a row costs) runs in `workers` processes, a few chunks ahead, so it is not
    bound to this process's GIL. The first chunk is checked here while the workers start; a file of
    one chunk starts none. While the writer thread commits batch k (the store's ingestion and SQLite
    run mostly without the GIL), this thread prepares batch k+1; each commit runs in a copy of the
    caller's context (the HTTP endpoint's audit reads its request).

    A batch is several chunks because each commit of an import is one ingestion, and the store's
    cost per ingestion grows with the register: every second ingestion RocksDB merges the new files
    with all of the register's data in its first level (Oxigraph sets its compaction trigger to two
    files). Measured in bench/bench_import.py, CPU of RocksDB's compaction threads per row: 1.87 ms
    with batches of 500 at 10,000 rows; 2.12 ms with 2,000 and 1.39 ms with 5,000 at 100,000 rows
    (~800,000 quads an ingestion, the order of Oxigraph's own bulk loader: 1,000,000). A worker's
    answer stays at chunk size; the workers are a batch and a few chunks ahead, so they go on while a
    batch is written. What is in flight (two batches and the chunks ahead) bounds the memory: peak
    RSS 1.6 GB with batches of 2,000 and 2.5–2.6 GB with 5,000 at 100,000 rows; the rest of what grows
    is the store's, with the register.
    """

    def __init__(self, importer: Importer, report: Report, sink: Callable | None,
                 progress: Callable[[int], None] | None, workers: int, batch_size: int = BATCH,
                 chunk: int = CHUNK) -> None:
        self.importer, self.report, self.sink, self.progress = importer, report, sink, progress
        self.workers = workers
        self.batch_size = batch_size
        # chunks sent ahead: the workers go on with the next batch while this one is written
        self.ahead = workers + -(-batch_size // chunk)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="import-batch")
        self.running: Future | None = None
        self.done = 0
        self.pool = None
        self.queued: deque[tuple[list[Row], Future]] = deque()
        self.batch: list[tuple[list[Item], tuple | None]] = []  # checked chunks waiting for their commit

    def add(self, batch: list[Row], *, full: bool) -> None:
        first = self.pool is None
        if first and full and self.workers > 0:
            from app.exchange.row_workers import RowPool

            self.pool = RowPool(self.workers, self.importer)
        if first:
            items = [self.importer.prepare(row) for row in batch]
            self._commit(items, self.importer.check_batch(items))
            return
        self.queued.append((batch, self.pool.submit([self.importer.start(row) for row in batch], batch)))
        while len(self.queued) > self.ahead:  # a batch and a few chunks ahead: memory stays bounded
            self._next()

    def _next(self) -> None:
        batch, future = self.queued.popleft()
        items, prechecked = future.result()
        for item, row in zip(items, batch, strict=True):
            item.result.cells = row.cells  # not sent back by the worker
            self.importer.finish(item, row)
        self._commit(items, self.importer.check_batch(items, prechecked))

    def _commit(self, items: list[Item], checked: tuple | None) -> None:
        self.batch.append((items, checked))
        if sum(len(items) for items, _ in self.batch) >= self.batch_size:
            self._commit_batch()

    def _commit_batch(self) -> None:
        if not self.batch:
            return
        items, checked = _joined(self.batch)
        self.batch = []
        self.done += _wait(self.running, self.done, self.progress)
        self.running = self.writer.submit(copy_context().run, _finish, self.importer, items, checked, self.report,
                                          self.sink)

    def abandon(self) -> None:
        """Stop: finish the batch being written, drop what was not committed yet."""
        self.queued.clear()
        self.batch = []
        running, self.running = self.running, None
        self.done += _wait(running, self.done, self.progress)

    def drain(self) -> None:
        while self.queued:
            self._next()
        self._commit_batch()
        running, self.running = self.running, None
        self.done += _wait(running, self.done, self.progress)

    def close(self) -> None:
        if self.running is not None:
            self.running.cancel() or self.running.exception()  # let a batch that is being written finish
        self.writer.shutdown(wait=True)
        if self.pool is not None:
            self.pool.close()


def _joined(chunks: list[tuple[list[Item], tuple | None]]) -> tuple[list[Item], tuple | None]:
    """Checked chunks as one batch: their rows, and their registrations as one CheckedBatch (None: a dry run)."""
    items = [item for chunk, _ in chunks for item in chunk]
    checked = [c for _, c in chunks if c is not None]
    if not checked:
        return items, None
    new: list[Item] = []
    results: list = []
    valid: list[tuple] = []
    for chunk_new, batch in checked:
        valid += [(len(results) + index, *rest) for index, *rest in batch.valid]
        new += chunk_new
        results += batch.results
    return items, (new, CheckedBatch(results, valid))


def steady_heap() -> None:
    """Keep large blocks out of the heap, so an import's memory stays flat (glibc only; elsewhere nothing).

    glibc raises its mmap threshold to the size of any mmap-ed block that is freed (up to 32 MB). After
    the first batch, each batch's large buffers (a worker's answer, the batch's N-Quads text: ~20 MB)
    then come from the heap, which they fragment: the importing process grew ~7 KB a row, ~150 MB over
    6,000 rows. A fixed threshold (which also turns that adjustment off) keeps them mmap-ed, and gives
    them back to the system when freed (bench/bench_import.py prints the peak RSS)."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def _workers() -> int:
    return min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _wait(running: Future | None, done: int, progress: Callable[[int], None] | None) -> int:
    """Wait for the batch being written; the number of rows it finished."""
    if running is None:
        return 0
    finished = running.result()
    if progress and finished:
        progress(done + finished)
    return finished


def _finish(importer: Importer, items: list[Item], checked: tuple | None, report: Report,
            sink: Callable | None) -> int:
    if not items:
        return 0
    importer.commit_batch(items, checked)
    for item in items:
        item.result.findings.sort(key=lambda f: _LEVELS.get(f.level, 9))
        report.results.append(item.result)
        if sink:
            sink(item.result)
        item.result.cells = ()  # only the feedback workbook (written just now) needs the row as typed
    return len(items)


_LEVELS = {"fout": 0, "dubbel": 1, "waarschuwing": 2}
_COLUMN_NAMED = re.compile(r"([Kk])olom '([^']+)'")


def _ignored(row: int, name: str, mapping: Mapping) -> Finding:
    """A file column the template does not have: nothing to do, unless its name shares a word with a template
    column ('Adres vereniging', 'Contactpersoon'), whose data would then be missing from every row."""
    words = {word for word in fold(name).split() if len(word) >= 4} - {"vereniging", "verenigingen"}
    like = [column for column, spec in mapping.columns.items() if spec.soort not in ("sleutel", "actie") and
            words & {word for known in (column, *spec.synoniemen) for word in fold(known).split()}]
    if not like:
        return Finding(row, "waarschuwing", name, name, f"Kolom '{name}' staat niet in het sjabloon en wordt niet "
                       "ingelezen.", "Geen actie nodig als de kolom niets voor het register bevat.")
    named = " of ".join(f"'{column}'" for column in like[:3])
    return Finding(row, "waarschuwing", name, name, f"Kolom '{name}' werd niet herkend en wordt niet ingelezen, "
                   f"al lijkt ze op {named}.", f"Bevat ze {named}, hernoem ze dan zo (één gegeven per kolom; de "
                   "kolommen van het sjabloon staan op het werkblad 'Uitleg'). Anders is er niets te doen.")


def outcome_summary(report: Report) -> str:
    counts = report.counts()
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return parts + (" (proefimport: niets geschreven)" if report.dry_run else "")

