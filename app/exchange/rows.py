"""One spreadsheet row → a registration body, reading every cell forgivingly (see normalise.py).

The mapping (mappings/import-*.json) says per template column which field it fills (`veld`), how
the cell is read (`soort`) and which other column names mean the same (`synoniemen`).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field

from app import paths
from app.exchange import normalise, quality
from app.exchange.normalise import Note, fold
from app.exchange.spreadsheet import Row

MAPPINGS = {"verenigingen": "import-verenigingen.json", "kbo": "import-kbo.json"}


@dataclass(frozen=True)
class Column:
    kolom: str
    veld: str
    soort: str
    synoniemen: tuple[str, ...] = ()


@dataclass
class Mapping:
    kind: str
    columns: dict[str, Column]
    required: set[str]
    defaults: dict[str, str]
    aliases: dict[str, dict[str, str]]
    feedback: list[str]
    names: dict[str, str] = field(default_factory=dict)  # folded name or synonym → template column
    repeatable: frozenset[str] = frozenset()  # columns a file may have more than once (contact details)
    by_path: dict[str, str] = field(default_factory=dict)  # field path → template column

    @classmethod
    def load(cls, kind: str) -> Mapping:
        data = json.loads((paths.MAPPINGS / MAPPINGS[kind]).read_text(encoding="utf-8"))
        columns = {c["kolom"]: Column(c["kolom"], c["veld"], c["soort"], tuple(c.get("synoniemen", ())))
                   for c in data["columns"]}
        mapping = cls(data["kind"], columns, set(data["required"]), data.get("defaults", {}),
                      {k: {fold(a): v for a, v in table.items()} for k, table in data.get("aliases", {}).items()},
                      data.get("feedback", []))
        mapping.repeatable = frozenset(c.kolom for c in columns.values() if c.veld.startswith("contactgegevens:"))
        for column in columns.values():
            for name in (column.kolom, *column.synoniemen):
                mapping.names.setdefault(fold(name), column.kolom)
            if not column.veld.startswith("contactgegevens:"):
                mapping.by_path[re.sub(r"\.(\d+)", r"[\1]", column.veld)] = column.kolom
        return mapping

    def column_for(self, path: str, origin: dict[str, str]) -> str:
        """The column an error at `path` is about: the longest known field path that prefixes it."""
        table = {**self.by_path, **origin}
        best = ""
        for known in table:
            if (path == known or path.startswith((known + ".", known + "["))) and len(known) > len(best):
                best = known
        return table.get(best, "")


@dataclass
class ReadRow:
    """A row read into a body, with a note per changed or unreadable cell (column → notes)."""

    body: dict
    origin: dict[str, str]  # body path → column, for the items built from a column (contactgegevens)
    notes: list[tuple[str, str, Note]]  # (column, original value, note)
    years: set[str] = field(default_factory=set)  # date fields given as a bare year (read as 1 January)


def read(row: Row, mapping: Mapping) -> ReadRow:
    body: dict = {}
    origin: dict[str, str] = {}
    notes: list[tuple[str, str, Note]] = []
    years: set[str] = set()
    values = dict(row.values)
    for column, value in mapping.defaults.items():
        if column in mapping.columns and column not in values and _has_sibling(values, mapping, column):
            values[column] = value
    notes += _address(values, mapping)
    for column, cell in values.items():
        spec = mapping.columns[column]
        if spec.soort in ("sleutel", "actie"):
            continue
        for raw in _contact_values(cell) if spec.veld.startswith("contactgegevens:") else [cell]:
            value, cell_notes = _cell(spec, raw, mapping)
            notes += [(column, raw, note) for note in cell_notes]
            if value is None or value == []:
                continue
            if spec.soort == "datum-of-jaar" and re.fullmatch(r"\d{4}", raw.strip()):
                years.add(spec.veld)
            if spec.veld.startswith("contactgegevens:"):
                _add_contact(body, origin, column, spec.veld.split(":", 1)[1], value)
                continue
            _set(body, spec.veld.split("."), value)
    notes += _quality(values, mapping)
    notes += _without_insz(body)
    notes += _vzw(values, mapping)
    return ReadRow(body, origin, notes, years)


def _address(values: dict[str, str], mapping: Mapping) -> list[tuple[str, str, Note]]:
    """The address cells as a person reads them: the gemeente as bpost spells it, a street with its number split,
    '12 bus 3' as number and bus."""
    notes = []
    if values.get("Gemeente") and values.get("Postcode") and fold(values.get("Land", "België")) in quality.BELGIE:
        notes += _place_spelled(values)
    if "Straat" in values and "Huisnummer" not in values and "Huisnummer" in mapping.columns:
        notes += _street_with_number(values)
    if "Huisnummer" in values and mapping.columns["Huisnummer"].soort == "huisnummer":
        number, bus, note = normalise.housenumber_value(values["Huisnummer"])
        if note:
            notes.append(("Huisnummer", values["Huisnummer"], note))
        if note is None or note.level != "fout":
            values["Huisnummer"] = number
            if bus and "Bus" not in values:
                values["Bus"] = bus
    return notes


_VZW = re.compile(r"\bv\.?\s?z\.?\s?w\b\.?", re.I)


def _vzw(values: dict[str, str], mapping: Mapping) -> list[tuple[str, str, Note]]:
    """A name that says 'vzw' on the template for feitelijke verenigingen: a vzw comes from the KBO."""
    if mapping.kind != "verenigingen" or not _VZW.search(values.get("Naam", "")):
        return []
    return [("Naam", values["Naam"], normalise.warning(
        "De naam vermeldt een vzw: een vzw staat in de KBO en heeft een ondernemingsnummer.",
        "Importeer een vzw met het KBO-sjabloon (import-kbo.xlsx, met het ondernemingsnummer), of zet "
        "'koppel:V…' in kolom 'Actie' als ze al in het register staat; is het een feitelijke vereniging, laat "
        "'vzw' dan weg uit de naam."))]


def _place_spelled(values: dict[str, str]) -> list[tuple[str, str, Note]]:
    """'GENT' or 'St.-Amandsberg' for postcode 9000/9040: written as the reference list spells it, with a warning."""
    raw = values["Gemeente"]
    spelled = quality.canonical_place(normalise.postcode_value(values["Postcode"])[0] or "", raw)
    if spelled is None:
        return []
    values["Gemeente"] = spelled
    return [("Gemeente", raw, normalise.warning(f"'{raw}' gelezen als '{spelled}'."))]


# between two phone numbers or e-mail addresses in one cell (a '/' is part of a Belgian phone number: 09/123 45 67)
_BETWEEN_CONTACTS = re.compile(r"\s*(?:[;\n,]|\s[-/]\s|\sof\s|\sen\s)\s*", re.I)


def _contact_values(cell: str) -> list[str]:
    """The values in a contact cell (or in two columns of one kind): '09/223 33 44 - 0476 12 34 56' is two."""
    return [value for value in _BETWEEN_CONTACTS.split(cell) if value.strip()] or [cell]


def _add_contact(body: dict, origin: dict[str, str], column: str, kind: str, value: object) -> None:
    """A contact detail; the first of its kind is the primary one, the same value twice is kept once."""
    items = body.setdefault("contactgegevens", [])
    if any(item["contactgegeventype"] == kind and item["waarde"] == value for item in items):
        return
    origin[f"contactgegevens[{len(items)}]"] = column
    primary = not any(item["contactgegeventype"] == kind for item in items)
    items.append({"contactgegeventype": kind, "waarde": value, "isPrimair": primary})


_NUMBER = r"\d+\s*[a-zA-Z]?(?:\s*[-+]\s*\d+\s*[a-zA-Z]?)?(?:\s*(?:bus|bte|b\.?|/)\s*[\w-]+)?"
# 'Kouter 36', 'Kouter nr. 12', 'Kouter 35 - 37', 'Veldstraat 3 bus 2'; the street holds no digit
_STREET_NUMBER = re.compile(rf"([^\d,]*?[^\d\s,])(?:\s*,|\s+(?:nr|no|n°)\.?)?\s+({_NUMBER})", re.I)
# a whole address in one cell: 'Kouter 36, 9000 Gent'
_FULL_ADDRESS = re.compile(rf"([^\d,]*?[^\d\s,])(?:\s+(?:nr|no|n°)\.?)?\s+({_NUMBER})\s*,?\s+(\d{{4}})\s+(\D+)", re.I)


def _street_with_number(values: dict[str, str]) -> list[tuple[str, str, Note]]:
    """'Kouter 36' in the street column (a file with one address column, 'Straat + nr' or 'Adres') and no
    house number: split into street and number (and postcode and gemeente when the cell has them and their
    columns are empty), with a warning that shows the parts; what cannot be split is an error that shows it."""
    raw = values["Straat"].strip()
    whole = _FULL_ADDRESS.fullmatch(raw)
    if whole and not values.get("Postcode") and not values.get("Gemeente"):
        street, number, postcode, place = (part.strip() for part in whole.groups())
        values.update(Straat=street, Huisnummer=number, Postcode=postcode, Gemeente=place)
        return [("Straat", raw, normalise.warning(f"'{raw}' gelezen als straat '{street}', huisnummer '{number}', "
                                                  f"{postcode} {place}."))]
    match = _STREET_NUMBER.fullmatch(raw)
    if match is not None:
        values["Straat"], values["Huisnummer"] = match[1].strip(), match[2].strip()
        return [("Straat", raw, normalise.warning(f"'{raw}' gelezen als straat '{values['Straat']}' en huisnummer "
                                                  f"'{values['Huisnummer']}'."))]
    if re.search(r"\d|\b[zs]\s*/?\s*n\b", raw, re.I):  # a number or 'z/n' that cannot be told apart
        return [("Straat", raw, normalise.error(
            f"'{raw}': straat en huisnummer konden niet van elkaar gescheiden worden.",
            "Zet de straat in kolom 'Straat' en het huisnummer in kolom 'Huisnummer' (elk adres heeft een "
            "huisnummer, zoals in het Verenigingsregister van Vlaanderen); postcode en gemeente in hun eigen kolom."))]
    return []


def _without_insz(body: dict) -> list[tuple[str, str, Note]]:
    """A contact person without INSZ cannot be a vertegenwoordiger (the register identifies them by it), and a
    gemeente's list rarely has one: the row is imported without them, with a warning, not refused."""
    people = body.get("vertegenwoordigers") or []
    if not people or all(person.get("insz") for person in people):
        return []
    kept = [person for person in people if person.get("insz")]
    dropped = [" ".join(filter(None, (p.get("voornaam"), p.get("achternaam")))) or "de contactpersoon"
               for p in people if not p.get("insz")]
    if kept:
        body["vertegenwoordigers"] = kept
    else:
        del body["vertegenwoordigers"]
    return [("Vertegenwoordiger INSZ", "", normalise.warning(
        f"{', '.join(dropped)} niet overgenomen als vertegenwoordiger: daarvoor is een INSZ-nummer "
        "(rijksregisternummer) nodig.",
        "Vul kolom 'Vertegenwoordiger INSZ' in om de contactpersoon als vertegenwoordiger te registreren, of "
        "laat het zo."))]


def _cell(spec: Column, raw: str, mapping: Mapping) -> tuple[object, list[Note]]:
    kind, _, codelist = spec.soort.partition(":")
    if kind in ("datum", "datum-of-jaar"):
        value, note = normalise.date_value(raw, allow_year=kind == "datum-of-jaar")
        return value, [note] if note else []
    if kind == "codes":
        return normalise.codes_value(raw, codelist, mapping.aliases.get(codelist))
    if kind == "code":
        value, note = normalise.code_value(raw, codelist, mapping.aliases.get(codelist))
        return value, [note] if note else []
    if kind == "geheel-getal":
        digits = re.fullmatch(r"\s*(\d+)(?:[.,]0+)?\s*(jaar)?\s*", raw)
        if digits is None:
            return None, [normalise.error(f"'{raw}' is geen leeftijd.", "Schrijf enkel een getal, bv. 12.")]
        return int(digits[1]), [] if digits[1] == raw else [normalise.warning(f"'{raw}' gelezen als {digits[1]}.")]
    readers = {"website": normalise.url_value, "telefoon": normalise.phone_value, "e-mail": normalise.email_value,
               "postcode": normalise.postcode_value}
    if kind in readers:
        value, note = readers[kind](raw)
        if note and note.level == "fout":
            return None, [note]
        return value, [note] if note else []
    return raw, []


def _quality(values: dict[str, str], mapping: Mapping) -> list[tuple[str, str, Note]]:
    notes = []
    postcode = normalise.postcode_value(values.get("Postcode", ""))[0]
    if postcode:
        note = quality.unknown_postcode(postcode, values.get("Gemeente", ""), values.get("Land", ""))
        if note:
            notes.append(("Postcode", values["Postcode"], note))
        elif values.get("Gemeente") and (note := quality.check_place(postcode, values["Gemeente"],
                                                                     values.get("Land", ""))):
            notes.append(("Gemeente", values["Gemeente"], note))
    for column, spec in mapping.columns.items():
        for raw in _contact_values(values[column]) if spec.soort == "e-mail" and values.get(column) else ():
            note = quality.check_email_domain(normalise.email_value(raw)[0])
            if note:
                notes.append((column, raw, note))
    return notes


def _has_sibling(values: dict[str, str], mapping: Mapping, column: str) -> bool:
    parent = mapping.columns[column].veld.rsplit(".", 1)[0]
    return any(mapping.columns[other].veld.startswith(parent + ".") for other in values if other in mapping.columns)


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
