"""Domain invariants over a whole vereniging state.

They run on the state a command would produce, so the same rules guard registration and
every later change. Facts: ../shared/reference/association-registry.md §1.3–§1.5; the seed
documents add "at most 3 hoofdactiviteiten".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from app.validation import formats
from app.validation.errors import FieldErrors

MAX_HOOFDACTIVITEITEN = 3


def check(state: dict, today: date | None = None) -> None:
    """Raise CommandRejected (400) if the state breaks any invariant."""
    today = today or date.today()
    errors = FieldErrors()
    _basis(state, today, errors)
    _locaties(state["locaties"], errors)
    _contactgegevens(state["contactgegevens"], errors)
    _vertegenwoordigers(state["vertegenwoordigers"], errors)
    errors.raise_if_any()


def _basis(state: dict, today: date, errors: FieldErrors) -> None:
    start = state.get("startdatum")
    if start and date.fromisoformat(start) > today:
        errors.add("startdatum", "toekomst", "Startdatum mag niet in de toekomst liggen.")
    end = state.get("einddatum")
    if start and end and date.fromisoformat(start) > date.fromisoformat(end):
        errors.add("startdatum", "na-einddatum", "Startdatum moet voor einddatum liggen.")
    doelgroep = state["doelgroep"]
    if doelgroep["minimumleeftijd"] > doelgroep["maximumleeftijd"]:
        errors.add("doelgroep", "min-max",
                   "Bij 'doelgroep' moet de 'minimumleeftijd' kleiner of gelijk aan 'maximumleeftijd' zijn.")
    if len(state["hoofdactiviteiten"]) > MAX_HOOFDACTIVITEITEN:
        errors.add("hoofdactiviteiten", "te-veel",
                   f"Een vereniging heeft maximaal {MAX_HOOFDACTIVITEITEN} hoofdactiviteiten.")
    gebieden = state["werkingsgebieden"]
    if "NVT" in gebieden and len(gebieden) > 1:
        errors.add("werkingsgebieden", "nvt-alleen",
                   "Het opgegeven werkingsgebied NVT kan niet gecombineerd worden met andere codes.")


def _locaties(locaties: list[dict], errors: FieldErrors) -> None:
    if sum(1 for loc in locaties if loc["isPrimair"]) > 1:
        errors.add("locaties", "primair", "Er mag maximum één primaire locatie opgegeven worden.")
    if sum(1 for loc in locaties if loc["locatietype"] == "Correspondentie") > 1:
        errors.add("locaties", "correspondentie", "Er mag maximum één correspondentie locatie opgegeven worden.")
    seen: dict[tuple, int] = {}
    for index, loc in enumerate(locaties):
        key = _locatie_key(loc)
        if key in seen:
            errors.add(f"locaties[{index}]", "dubbel",
                       f"Deze locatie is identiek aan locaties[{seen[key]}].")
        else:
            seen[key] = index


def _locatie_key(loc: dict) -> tuple:
    where: tuple = (loc["adresId"],) if loc.get("adresId") else tuple(
        _fold(loc["adres"].get(part, "")) for part in
        ("straatnaam", "huisnummer", "busnummer", "postcode", "gemeente", "land")) if loc.get("adres") else ()
    return (_fold(loc.get("naam") or ""), loc["locatietype"], where)


def _fold(text: str) -> str:
    """Compare addresses like the official register: lower case, no accents, only [a-z0-9]."""
    text = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]", "", "".join(ch for ch in text if not unicodedata.combining(ch)))


def _contactgegevens(items: list[dict], errors: FieldErrors) -> None:
    primary: set[str] = set()
    seen: dict[tuple, int] = {}
    for index, item in enumerate(items):
        kind = item["contactgegeventype"]
        if item["isPrimair"]:
            if kind in primary:
                errors.add(f"contactgegevens[{index}].isPrimair", "primair",
                           f"Er mag maar één {kind} contactgegeven aangeduid zijn als primair.")
            primary.add(kind)
        value = item["waarde"]
        value_key = formats.phone_key(value) if kind == "Telefoon" else value.casefold()
        key = (kind, value_key, (item.get("beschrijving") or "").casefold())
        if key in seen:
            errors.add(f"contactgegevens[{index}]", "dubbel",
                       f"Er is reeds een {kind} contactgegeven met de opgegeven waarde.")
        else:
            seen[key] = index


def _vertegenwoordigers(items: list[dict], errors: FieldErrors) -> None:
    seen: set[str] = set()
    primary = 0
    for index, item in enumerate(items):
        if item["insz"] in seen:
            errors.add(f"vertegenwoordigers[{index}].insz", "insz-uniek", "INSZ moet uniek zijn binnen de vereniging.")
        seen.add(item["insz"])
        primary += bool(item["isPrimair"])
    if primary > 1:
        errors.add("vertegenwoordigers", "primair",
                   "Er mag maar één vertegenwoordiger aangeduid zijn als primair contactpersoon.")
