"""KBO open data → verenigingen with legal personality, through the one write path.

Reads the public KBO open-data dump (enterprise.csv, denomination.csv, address.csv, contact.csv,
optionally meta.csv), keeps the legal forms of associations (017 VZW, 125 IVZW, 026 private
stichting, 029 stichting van openbaar nut) and registers or updates them. Every change is
attributed to the KBO as PROV agent. KBO-owned data (naam, korte naam, startdatum, rechtsvorm,
maatschappelijke zetel, KBO contactgegevens) is replaced from the dump; what initiators added
(their own locaties, contactgegevens, hoofdactiviteiten, …) is kept.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.domain import clock, parse
from app.domain.commands import CommandHandler, unique_keys
from app.domain.errors import DomainError
from app.domain.named_commands import KboFacts, KboSync, RegisterFromKbo
from app.domain.versions import KBO_AGENT

LEGAL_FORMS = {"017": "VZW", "125": "IVZW", "026": "PS", "029": "SVON"}
LANGUAGE_NL, LANGUAGE_FR = "2", "1"
NAME, ABBREVIATION = "001", "002"
CONTACT_TYPES = {"EMAIL": "E-mail", "TEL": "Telefoon", "WEB": "Website"}


@dataclass
class SyncReport:
    registered: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (kbo number, reason)
    rejected_values: list[tuple[str, str, str]] = field(default_factory=list)  # (kbo, kind, value)


class DumpRejected(Exception):
    """The directory is not a KBO open-data dump this sync can read (a Dutch reason; nothing was written)."""


REQUIRED_FILES = ("enterprise.csv", "denomination.csv")
COLUMNS = {"enterprise.csv": ("EnterpriseNumber", "JuridicalForm"),
           "denomination.csv": ("EntityNumber", "TypeOfDenomination", "Language", "Denomination"),
           "address.csv": ("EntityNumber", "TypeOfAddress"), "contact.csv": ("EntityNumber", "ContactType", "Value")}


def _read(directory: Path, name: str) -> list[dict[str, str]]:
    """The rows of one file of the dump; an optional file may be missing, a file never lacks its columns."""
    path = directory / name
    if not path.exists():
        if name in REQUIRED_FILES:
            raise DumpRejected(f"{path} ontbreekt: een KBO-opendatabestand bevat {' en '.join(REQUIRED_FILES)} "
                               "(en meestal address.csv en contact.csv).")
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in COLUMNS.get(name, ()) if column not in (reader.fieldnames or ())]
            if missing:
                raise DumpRejected(f"{path} mist de kolom(men) {', '.join(missing)}: is dit een bestand uit het "
                                   "KBO-opendatabestand?")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DumpRejected(f"{path} is geen leesbaar CSV-bestand in UTF-8 ({exc.__class__.__name__}).") from None


def _date(text: str) -> str | None:
    """KBO dates are dd-mm-yyyy."""
    try:
        day, month, year = (int(part) for part in text.split("-"))
        return date(year, month, day).isoformat()
    except (ValueError, AttributeError):
        return None


def read_dump(directory: Path) -> dict[str, dict]:
    """KBO number (10 digits) → the KBO fields of one association (DumpRejected when `directory` is none)."""
    if not directory.is_dir():
        raise DumpRejected(f"{directory} is geen map met een KBO-opendatabestand (enterprise.csv, "
                           "denomination.csv, address.csv, contact.csv).")
    enterprises = {}
    for row in _read(directory, "enterprise.csv"):
        form = LEGAL_FORMS.get(row.get("JuridicalForm", "").strip())
        if form:
            number = row["EnterpriseNumber"].replace(".", "").strip()
            enterprises[number] = {"kbo": number, "type": form, "status": row.get("Status", "").strip(),
                                   "startdatum": _date(row.get("StartDate", "")), "names": {}, "address": None,
                                   "contacts": []}
    for row in _read(directory, "denomination.csv"):
        entry = enterprises.get(row["EntityNumber"].replace(".", "").strip())
        if entry:
            entry["names"][(row["TypeOfDenomination"], row["Language"])] = row["Denomination"].strip()
    for row in _read(directory, "address.csv"):
        entry = enterprises.get(row["EntityNumber"].replace(".", "").strip())
        if entry and row.get("TypeOfAddress") == "REGO" and not row.get("DateStrikingOff"):
            entry["address"] = {
                "straatnaam": row.get("StreetNL") or row.get("StreetFR"), "huisnummer": row.get("HouseNumber"),
                "busnummer": row.get("Box") or None, "postcode": row.get("Zipcode"),
                "gemeente": row.get("MunicipalityNL") or row.get("MunicipalityFR"),
                "land": row.get("CountryNL") or "België"}
    contacts: dict[str, list] = defaultdict(list)
    for row in _read(directory, "contact.csv"):
        number = row["EntityNumber"].replace(".", "").strip()
        if number in enterprises and row.get("ContactType") in CONTACT_TYPES:
            contacts[number].append((CONTACT_TYPES[row["ContactType"]], row["Value"].strip()))
    for number, items in contacts.items():
        enterprises[number]["contacts"] = items
    return enterprises


def _name(entry: dict, kind: str) -> str | None:
    return entry["names"].get((kind, LANGUAGE_NL)) or entry["names"].get((kind, LANGUAGE_FR)) or next(
        (value for (k, _), value in sorted(entry["names"].items()) if k == kind), None)


def kbo_items(entry: dict, report: SyncReport) -> tuple[list[dict], list[dict]]:
    """The maatschappelijke zetel and the valid KBO contactgegevens (invalid ones are reported, not taken)."""
    parser = parse.Parser(kbo_source=True)
    locaties = []
    address = entry["address"]
    if address and all(address.get(k) for k in ("straatnaam", "huisnummer", "postcode", "gemeente")):
        locaties.append({"locatietype": "MaatschappelijkeZetelVolgensKBO", "isPrimair": False, "naam": None,
                         "adres": {k: v for k, v in address.items() if v}, "adresId": None, "bron": "KBO"})
    contacts = []
    for kind, value in entry["contacts"]:
        if kind == "Website" and not value.lower().startswith(("http://", "https://")):
            value = "https://" + value
        checked = parser.contact_value(kind, value, "waarde")
        if checked is None:
            report.rejected_values.append((entry["kbo"], kind, value))
            continue
        if any(c["contactgegeventype"] == kind and c["waarde"] == checked for c in contacts):
            continue
        contacts.append({"contactgegeventype": kind, "waarde": checked, "beschrijving": None,
                         "isPrimair": False, "bron": "KBO"})
    return locaties, contacts


def facts(entry: dict, report: SyncReport) -> KboFacts:
    """What the KBO says about one association, as the domain's KboSync command takes it."""
    locaties, contacts = kbo_items(entry, report)
    return KboFacts(kbo_nummer=entry["kbo"], verenigingstype=entry["type"], naam=_name(entry, NAME),
                    korte_naam=_name(entry, ABBREVIATION), startdatum=entry["startdatum"],
                    active=entry["status"] == "AC", locaties=locaties, contactgegevens=contacts)


def sync(directory: Path, handler: CommandHandler, today: date | None = None) -> SyncReport:
    """Register new KBO associations and bring known ones in line with the dump."""
    report = SyncReport()
    for number, entry in sorted(read_dump(directory).items()):
        if not _name(entry, NAME):
            report.skipped.append((number, "geen naam in de KBO"))
            continue
        key = unique_keys({"kboNummer": number})[0]
        existing = handler.owner_of(key)
        try:
            if existing is None:
                _register(handler, entry, report)
            else:
                _update(handler, existing, entry, report, today or clock.today())
        except DomainError as exc:
            report.skipped.append((number, exc.detail))
    return report


def _register(handler: CommandHandler, entry: dict, report: SyncReport) -> None:
    if entry["status"] != "AC":
        report.skipped.append((entry["kbo"], "niet actief in de KBO"))
        return
    handler.run(RegisterFromKbo(facts(entry, report)), KBO_AGENT, reason="KBO open data")
    report.registered.append(entry["kbo"])


def _update(handler: CommandHandler, vcode: str, entry: dict, report: SyncReport, today: date) -> None:
    command = KboSync(vcode, facts(entry, report), today)
    outcome = handler.run(command, KBO_AGENT, reason="KBO open data")
    target = report.unchanged if not outcome.changed else report.updated if command.facts.active else report.stopped
    target.append(entry["kbo"])
