"""The free text of a vereniging, column by column, as the one description (app/domain/model.py) says.

A field with `search="…"` puts its values into that full-text column of the search index; a code
goes in with its label (SPRT and "Sport"), a field of an item in every item (each location's postcode
and gemeente), and restricted fields and parts never (the index is public). So a new searchable field
is one `search=` in the description: the column list, and with it the index layout, follows.

What the description cannot say is added here: the places of an address's postcode (its deelgemeente,
gemeente and province), so "Oostakker", "Gent" and "Oost-Vlaanderen" all find a vereniging in 9041, and the
ondernemingsnummer of a KBO vereniging.
"""

from __future__ import annotations

from collections.abc import Iterator

from app.domain import codelists, places
from app.domain.model import CODE, MODEL, OBJECT, Field

PROVINCES = {"BE10": "Brussels Hoofdstedelijk Gewest", "BE21": "Antwerpen", "BE22": "Limburg",
             "BE23": "Oost-Vlaanderen", "BE24": "Vlaams-Brabant", "BE25": "West-Vlaanderen"}
PLACES = "plaats"  # the column that also gets the places of each postcode


def _searched(fields: tuple[Field, ...]) -> Iterator[Field]:
    for field in fields:
        if field.restricted:
            continue
        if field.search:
            yield field
        if field.datatype == OBJECT:
            yield from _searched(field.fields)


def _columns() -> tuple[str, ...]:
    fields = [*_searched(MODEL.fields)] + [f for part in MODEL.parts if not part.restricted
                                          for f in _searched(part.fields)]
    return tuple(dict.fromkeys([f.search for f in fields if f.search] + [PLACES]))


COLUMNS = _columns()


def texts(state: dict) -> dict[str, str]:
    """Column → text of one public state."""
    found: dict[str, list[str]] = {column: [] for column in COLUMNS}
    _collect(MODEL.fields, state, found)
    for part in MODEL.parts:
        if not part.restricted:
            for item in state.get(part.kind) or ():
                _collect(part.fields, item, found)
    if state.get("kboNummer"):  # the ondernemingsnummer, as typed with or without dots
        number = str(state["kboNummer"])
        found["naam"] += [number, f"{number[:4]}.{number[4:7]}.{number[7:]}"]
    codes = sorted(places.gemeenten(state))
    found[PLACES] += sorted({_label("werkingsgebieden", code) for code in codes}) + \
        sorted({PROVINCES.get(code[:4], "") for code in codes})
    return {column: " ".join(value for value in values if value) for column, values in found.items()}


def _collect(fields: tuple[Field, ...], values: dict, found: dict[str, list[str]]) -> None:
    for field in fields:
        value = values.get(field.key)
        if field.restricted or value in (None, "", []):
            continue
        if field.datatype == OBJECT:
            for nested in value if field.many else [value]:
                _collect(field.fields, nested, found)
        elif field.search:
            for one in value if field.many else [value]:
                found[field.search].append(f"{one} {_label(field.codelist, one)}"
                                           if field.datatype == CODE and field.codelist else str(one))


def _label(codelist: str, code: str) -> str:
    known = codelists.get(codelist).find(code)
    return known.label if known else ""
