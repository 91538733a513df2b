"""Domain invariants over a whole vereniging state.

They run on the state a command would produce, so the same rules guard registration and
every later change. Facts: ../shared/reference/association-registry.md §1.3–§1.5; the seed
documents add "at most 3 hoofdactiviteiten".
"""

from __future__ import annotations

import re
from datetime import date

from app.domain import clock, places
from app.domain.accents import without_accents
from app.domain.errors import FieldErrors
from app.validation import formats

MAX_HOOFDACTIVITEITEN = 3


def check(state: dict, today: date | None = None, before: dict | None = None) -> None:
    """Raise errors.Invalid if the state breaks any invariant. `before`: the state a change starts from (its
    addresses were checked when they were written)."""
    today = today or clock.today()
    errors = FieldErrors()
    _basis(state, today, errors)
    _locaties(state["locaties"], errors)
    _belgian_addresses(state["locaties"], before, errors)
    _contactgegevens(state["contactgegevens"], errors)
    _vertegenwoordigers(state["vertegenwoordigers"], errors)
    _lidmaatschappen(state["lidmaatschappen"], errors)
    _erkenningen(state["erkenningen"], errors)
    _bankrekeningnummers(state["bankrekeningnummers"], errors)
    errors.raise_if_any()


def check_transition(old: dict, new: dict) -> None:
    """Rules about what a change may take away (reference §1.3: 'once set, …')."""
    errors = FieldErrors()
    if old["hoofdactiviteiten"] and not new["hoofdactiviteiten"]:
        errors.add("hoofdactiviteiten", "niet-leeg",
                   "Eens er hoofdactiviteiten zijn, moet er minstens één overblijven.")
    if old["locaties"] and not new["locaties"]:
        errors.add("locaties", "laatste", "De laatste locatie van een vereniging kan niet verwijderd worden.")
    if old["vertegenwoordigers"] and not new["vertegenwoordigers"]:
        errors.add("vertegenwoordigers", "laatste",
                   "De laatste vertegenwoordiger van een vereniging kan niet verwijderd worden.")
    errors.raise_if_any()


def _overlap(a_start: str | None, a_end: str | None, b_start: str | None, b_end: str | None) -> bool:
    """Inclusive periods; a missing bound is open-ended."""
    return (a_start or "0000") <= (b_end or "9999") and (b_start or "0000") <= (a_end or "9999")


def _lidmaatschappen(items: list[dict], errors: FieldErrors) -> None:
    for index, item in enumerate(items):
        if item["van"] and item["tot"] and item["tot"] < item["van"]:
            errors.add(f"lidmaatschappen[{index}].tot", "periode",
                       "Een einddatum in een periode moet altijd later zijn dan de startdatum.")
        for other_index, other in enumerate(items[:index]):
            if other["andereVereniging"] == item["andereVereniging"] and _overlap(
                    item["van"], item["tot"], other["van"], other["tot"]):
                errors.add(f"lidmaatschappen[{index}]", "overlap",
                           f"Dit lidmaatschap van {item['andereVereniging']} overlapt met lidmaatschappen"
                           f"[{other_index}].")


def _erkenningen(items: list[dict], errors: FieldErrors) -> None:
    for index, item in enumerate(items):
        start, end, renew = item["startdatum"], item["einddatum"], item["hernieuwingsdatum"]
        if start and end and end < start:
            errors.add(f"erkenningen[{index}].einddatum", "periode", "De einddatum moet na de startdatum liggen.")
        if renew and ((start and renew < start) or (end and renew > end)):
            errors.add(f"erkenningen[{index}].hernieuwingsdatum", "hernieuwing",
                       "Hernieuwingsdatum moet tussen startdatum en einddatum liggen.")
        for other in items[:index]:
            if (other["ipdcProductNummer"], other.get("geregistreerdDoor")) == (
                    item["ipdcProductNummer"], item.get("geregistreerdDoor")) and _overlap(
                    start, end, other["startdatum"], other["einddatum"]):
                errors.add(f"erkenningen[{index}]", "overlap",
                           "Er mag geen overlap zijn met bestaande erkenningen voor dezelfde combinatie "
                           "(vCode, IPDC-product, GI).")


def _bankrekeningnummers(items: list[dict], errors: FieldErrors) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["iban"] in seen:
            errors.add(f"bankrekeningnummers[{index}].iban", "iban-uniek",
                       "Dit IBAN is al gekend bij deze vereniging.")
        seen.add(item["iban"])


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


def _belgian_addresses(locaties: list[dict], before: dict | None, errors: FieldErrors) -> None:
    """A Belgian address that is new or changed has a postcode that exists and a (deel)gemeente of that postcode
    (reference tables data/postcodes.csv, data/postnamen.csv): '9000 Antwerpen' was published as Antwerpen under
    Gent's werkingsgebied, '99999 Gent' in no gemeente at all (no per-gemeente stream or melding found it). The
    KBO's own addresses are the KBO's to correct."""
    known = {_adres_key(loc["adres"]) for loc in (before or {}).get("locaties", ()) if loc.get("adres")}
    for index, loc in enumerate(locaties):
        adres = loc.get("adres")
        if not adres or loc.get("bron") == "KBO" or not places.in_belgium(adres.get("land", "")) \
                or _adres_key(adres) in known:
            continue
        postcode, gemeente = adres.get("postcode") or "", adres.get("gemeente") or ""
        expected = places.gemeente_by_postcode().get(postcode)
        if expected is None:
            errors.add(f"locaties[{index}].adres.postcode", "postcode-onbekend",
                       f"Postcode '{postcode}' bestaat niet in België.")
        elif not places.fits(postcode, gemeente):
            errors.add(f"locaties[{index}].adres.gemeente", "gemeente-postcode",
                       f"Postcode {postcode} hoort bij {expected}, niet bij '{gemeente}'.")


def _adres_key(adres: dict) -> tuple:
    return tuple(_fold(adres.get(part) or "") for part in ("straatnaam", "huisnummer", "busnummer", "postcode",
                                                            "gemeente", "land"))


def _locatie_key(loc: dict) -> tuple:
    where: tuple = (loc["adresId"],) if loc.get("adresId") else tuple(
        _fold(loc["adres"].get(part, "")) for part in
        ("straatnaam", "huisnummer", "busnummer", "postcode", "gemeente", "land")) if loc.get("adres") else ()
    return (_fold(loc.get("naam") or ""), loc["locatietype"], where)


def _fold(text: str) -> str:
    """Compare addresses like the official register: lower case, no accents, only [a-z0-9]."""
    return re.sub(r"[^a-z0-9]", "", without_accents(text.lower()))


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
