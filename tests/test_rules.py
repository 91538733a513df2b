"""One valid and one invalid case per domain rule, over HTTP against a real store.

Each invalid case must answer 400 problem+json naming the offending field and leave the
store byte-for-byte unchanged.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from app.domain.clock import today
from tests.conftest import VALID_BODY, dump


def with_(path: str, value):
    """VALID_BODY with one value replaced; path like 'locaties.0.isPrimair' ('-' deletes)."""
    body = copy.deepcopy(VALID_BODY)
    *parents, leaf = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value == "-":
        del target[int(leaf) if leaf.isdigit() else leaf]
    elif leaf.isdigit():
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return body


def contact(kind, value, **extra):
    return {"contactgegeventype": kind, "waarde": value, **extra}


def person(insz="85073003328", **extra):
    return {"insz": insz, "voornaam": "Jan", "achternaam": "Peeters", **extra}


def place(kind="Activiteiten", primary=False, street="Veldstraat", adres_patch: dict | None = None, **extra):
    return {"locatietype": kind, "isPrimair": primary,
            "adres": {"straatnaam": street, "huisnummer": "1", "postcode": "9000", "gemeente": "Gent",
                      "land": "België", **(adres_patch or {})}, **extra}


# rule → (valid body, invalid body, field path the error must name)
RULES = {
    "naam verplicht": (with_("naam", "Club"), with_("naam", "   "), "naam"),
    "geen html in naam": (with_("naam", "Club 3 < 4"), with_("naam", "<b>Club</b>"), "naam"),
    "geen html in beschrijving": (with_("korteBeschrijving", "a > b"),
                                  with_("korteBeschrijving", "Zie <a href='x'>hier</a>"), "korteBeschrijving"),
    "startdatum formaat": (with_("startdatum", "2020-02-29"), with_("startdatum", "2021-02-29"), "startdatum"),
    # built when the test runs (a suite may cross midnight): today is allowed, tomorrow (in Belgium) is not
    "startdatum niet in de toekomst": (lambda: with_("startdatum", today().isoformat()),
                                       lambda: with_("startdatum", (today() + timedelta(days=1)).isoformat()),
                                       "startdatum"),
    "minimumleeftijd 0..150": (with_("doelgroep", {"minimumleeftijd": 0, "maximumleeftijd": 150}),
                               with_("doelgroep", {"minimumleeftijd": -1, "maximumleeftijd": 150}),
                               "doelgroep.minimumleeftijd"),
    "maximumleeftijd 0..150": (with_("doelgroep", {"minimumleeftijd": 150, "maximumleeftijd": 150}),
                               with_("doelgroep", {"minimumleeftijd": 10, "maximumleeftijd": 151}),
                               "doelgroep.maximumleeftijd"),
    "leeftijd is een geheel getal": (with_("doelgroep", {"minimumleeftijd": 3}),
                                     with_("doelgroep", {"minimumleeftijd": "3"}), "doelgroep.minimumleeftijd"),
    "minimum <= maximum": (with_("doelgroep", {"minimumleeftijd": 18, "maximumleeftijd": 18}),
                           with_("doelgroep", {"minimumleeftijd": 19, "maximumleeftijd": 18}), "doelgroep"),
    "hoofdactiviteit gekend": (with_("hoofdactiviteiten", ["KECU"]), with_("hoofdactiviteiten", ["KUNST"]),
                               "hoofdactiviteiten[0]"),
    "hoogstens 3 hoofdactiviteiten": (with_("hoofdactiviteiten", ["SPRT", "JGDW", "TOER"]),
                                      with_("hoofdactiviteiten", ["SPRT", "JGDW", "TOER", "HOSP"]),
                                      "hoofdactiviteiten"),
    "hoofdactiviteiten uniek": (with_("hoofdactiviteiten", ["SPRT"]), with_("hoofdactiviteiten", ["SPRT", "sprt"]),
                                "hoofdactiviteiten[1]"),
    "werkingsgebied gekend": (with_("werkingsgebieden", ["BE21111002", "BE25"]),
                              with_("werkingsgebieden", ["BE99999999"]), "werkingsgebieden[0]"),
    "NVT alleen": (with_("werkingsgebieden", ["NVT"]), with_("werkingsgebieden", ["NVT", "BE23"]),
                   "werkingsgebieden"),
    "werkingsgebieden uniek": (with_("werkingsgebieden", ["BE23"]), with_("werkingsgebieden", ["BE23", "be23"]),
                               "werkingsgebieden[1]"),
    "verenigingstype FV of VZER": (with_("verenigingstype", "FV"), with_("verenigingstype", "VZW"),
                                   "verenigingstype"),
    "locatietype gekend": (with_("locaties", [place("activiteiten")]), with_("locaties", [place("Kantoor")]),
                           "locaties[0].locatietype"),
    "geen KBO-zetel door initiator": (with_("locaties", [place("Correspondentie")]),
                                      with_("locaties", [place("MaatschappelijkeZetelVolgensKBO")]),
                                      "locaties[0].locatietype"),
    "hoogstens één primaire locatie": (
        with_("locaties", [place(primary=True), place(street="Kouter")]),
        with_("locaties", [place(primary=True), place(street="Kouter", primary=True)]), "locaties"),
    "hoogstens één correspondentielocatie": (
        with_("locaties", [place("Correspondentie"), place(street="Kouter")]),
        with_("locaties", [place("Correspondentie"), place("Correspondentie", street="Kouter")]), "locaties"),
    "geen identieke locaties": (with_("locaties", [place(), place(street="Kouter")]),
                                with_("locaties", [place(), place(street="VELDSTRAAT ")]), "locaties[1]"),
    "Belgische postcode bestaat": (with_("locaties", [place(adres_patch={"postcode": "9040",
                                                                        "gemeente": "St.-Amandsberg"})]),
                                   with_("locaties", [place(adres_patch={"postcode": "99999"})]),
                                   "locaties[0].adres.postcode"),
    "gemeente hoort bij postcode": (with_("locaties", [
        place(adres_patch={"postcode": "9030", "gemeente": "Mariakerke"}),
        place(street="Dam", adres_patch={"postcode": "1012", "gemeente": "Amsterdam", "land": "Nederland"})]),
                                    with_("locaties", [place(adres_patch={"gemeente": "Antwerpen"})]),
                                    "locaties[0].adres.gemeente"),
    "adres of adresId": (
        with_("locaties", [{"locatietype": "Activiteiten", "adresId": "https://data.vlaanderen.be/id/adres/3706808"}]),
        with_("locaties", [{"locatietype": "Activiteiten"}]), "locaties[0]"),
    "niet adres en adresId samen": (
        with_("locaties", [place()]),
        with_("locaties", [place(adresId="https://data.vlaanderen.be/id/adres/1")]), "locaties[0]"),
    "adresId uit het Adressenregister": (
        with_("locaties", [{"locatietype": "Activiteiten", "adresId": "https://data.vlaanderen.be/id/adres/1"}]),
        with_("locaties", [{"locatietype": "Activiteiten", "adresId": "https://example.org/adres/1"}]),
        "locaties[0].adresId"),
    "adres volledig": (with_("locaties.0.adres.busnummer", "-"), with_("locaties.0.adres.postcode", ""),
                       "locaties[0].adres.postcode"),
    "locatienaam hoogstens 128": (with_("locaties.0.naam", "x" * 128), with_("locaties.0.naam", "x" * 129),
                                  "locaties[0].naam"),
    "contactgegeventype gekend": (with_("contactgegevens", [contact("E-mail", "a@b.be")]),
                                  with_("contactgegevens", [contact("email", "a@b.be")]),
                                  "contactgegevens[0].contactgegeventype"),
    "e-mail formaat": (with_("contactgegevens", [contact("E-mail", "secretariaat@club.vlaanderen")]),
                       with_("contactgegevens", [contact("E-mail", "secretariaat@@club")]),
                       "contactgegevens[0].waarde"),
    "telefoon formaat": (with_("contactgegevens", [contact("Telefoon", "+32 470 12 34 56")]),
                         with_("contactgegevens", [contact("Telefoon", "12ab")]), "contactgegevens[0].waarde"),
    "website formaat": (with_("contactgegevens", [contact("Website", "http://club.be")]),
                        with_("contactgegevens", [contact("Website", "www.club.be")]), "contactgegevens[0].waarde"),
    "social media formaat": (with_("contactgegevens", [contact("SocialMedia", "https://instagram.com/club")]),
                             with_("contactgegevens", [contact("SocialMedia", "instagram: club")]),
                             "contactgegevens[0].waarde"),
    "beschrijving hoogstens 128": (
        with_("contactgegevens", [contact("E-mail", "a@b.be", beschrijving="x" * 128)]),
        with_("contactgegevens", [contact("E-mail", "a@b.be", beschrijving="x" * 129)]),
        "contactgegevens[0].beschrijving"),
    "één primair contactgegeven per type": (
        with_("contactgegevens", [contact("E-mail", "a@b.be", isPrimair=True),
                                  contact("Telefoon", "09 234 56 78", isPrimair=True)]),
        with_("contactgegevens", [contact("E-mail", "a@b.be", isPrimair=True),
                                  contact("E-mail", "c@d.be", isPrimair=True)]), "contactgegevens[1].isPrimair"),
    "geen dubbele contactgegevens": (
        with_("contactgegevens", [contact("Telefoon", "09 234 56 78"),
                                  contact("Telefoon", "09 234 56 78", beschrijving="Bar")]),
        with_("contactgegevens", [contact("Telefoon", "09 234 56 78"), contact("Telefoon", "+32 9 234 56 78")]),
        "contactgegevens[1]"),
    "isPrimair is boolean": (with_("contactgegevens", [contact("E-mail", "a@b.be", isPrimair=False)]),
                             with_("contactgegevens", [contact("E-mail", "a@b.be", isPrimair="ja")]),
                             "contactgegevens[0].isPrimair"),
    "INSZ checksum": (with_("vertegenwoordigers", [person("85073003328")]),
                      with_("vertegenwoordigers", [person("85073003329")]), "vertegenwoordigers[0].insz"),
    "INSZ na 2000": (with_("vertegenwoordigers", [person("03209820396")]),
                     with_("vertegenwoordigers", [person("03209820397")]), "vertegenwoordigers[0].insz"),
    "BIS-nummer": (with_("vertegenwoordigers", [person("71432512346")]),
                   with_("vertegenwoordigers", [person("71432512345")]), "vertegenwoordigers[0].insz"),
    "INSZ 11 cijfers": (with_("vertegenwoordigers", [person("85.07.30-033.28")]),
                        with_("vertegenwoordigers", [person("8507300332")]), "vertegenwoordigers[0].insz"),
    "INSZ tekens": (with_("vertegenwoordigers", [person("85 07 30 033 28")]),
                    with_("vertegenwoordigers", [person("85O73003328")]), "vertegenwoordigers[0].insz"),
    "INSZ uniek": (with_("vertegenwoordigers", [person("85073003328"), person("71432512346")]),
                   with_("vertegenwoordigers", [person("85073003328"), person("85.07.30-033.28")]),
                   "vertegenwoordigers[1].insz"),
    "één primaire vertegenwoordiger": (
        with_("vertegenwoordigers", [person(isPrimair=True), person("71432512346")]),
        with_("vertegenwoordigers", [person(isPrimair=True), person("71432512346", isPrimair=True)]),
        "vertegenwoordigers"),
    "voornaam zonder cijfers": (with_("vertegenwoordigers", [person(voornaam="Jan-Willem")]),
                                with_("vertegenwoordigers", [person(voornaam="Jan2")]),
                                "vertegenwoordigers[0].voornaam"),
    "achternaam verplicht": (with_("vertegenwoordigers", [person(achternaam="Van den Broeck")]),
                             with_("vertegenwoordigers", [person(achternaam="")]),
                             "vertegenwoordigers[0].achternaam"),
    "vertegenwoordiger e-mail": (with_("vertegenwoordigers", [person(email="jan@peeters.be")]),
                                 with_("vertegenwoordigers", [person(email="jan.peeters.be")]),
                                 "vertegenwoordigers[0].email"),
    "vertegenwoordiger mobiel": (with_("vertegenwoordigers", [person(mobiel="0470 12 34 56")]),
                                 with_("vertegenwoordigers", [person(mobiel="0470")]),
                                 "vertegenwoordigers[0].mobiel"),
}


@pytest.mark.parametrize("rule", RULES)
def test_valid_case_is_registered(post, rule):
    valid, _, _ = RULES[rule]
    response = post(valid() if callable(valid) else valid)
    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("rule", RULES)
def test_invalid_case_is_rejected_and_store_unchanged(post, register, rule):
    _, invalid, path = RULES[rule]
    before = dump(register)
    response = post(invalid() if callable(invalid) else invalid)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert path in {e["path"] for e in errors}, errors
    assert all(e["message"] for e in errors)
    assert dump(register) == before
