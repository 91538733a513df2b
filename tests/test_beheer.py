"""Decentraal beheer over HTTP: every rule with a valid and an invalid case, and after every
rejected command the store is byte-for-byte unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.clock import today
from tests.conftest import Keys, dump, valid_body

# Parametrize tables are built at collection; a suite may cross midnight, so their future date is two days
# ahead. Tests that run the boundary itself ask the clock when they run.
IN_TWO_DAYS = (today() + timedelta(days=2)).isoformat()
IBAN = "BE71 0961 2345 6769"
KBO = "0202.239.951"


@pytest.fixture
def api(client, keys, register):
    """Small client for the management API that checks 'rejected ⇒ store unchanged'."""

    class Api:
        def __init__(self):
            self.key = keys.initiator

        def call(self, method, path, body=None, key=None, headers=None, content_type="application/json"):
            all_headers = dict(Keys.auth(key or self.key), **(headers or {}))
            kwargs = {"json": body} if body is not None else {}
            if body is not None and content_type != "application/json":
                import json

                kwargs = {"data": json.dumps(body), "content_type": content_type}
            return client.open(path, method=method, headers=all_headers, **kwargs)

        def ok(self, method, path, body=None, status=200, **kwargs):
            response = self.call(method, path, body, **kwargs)
            assert response.status_code == status, response.get_data(as_text=True)
            return response

        def rejected(self, method, path, body=None, status=400, field=None, **kwargs):
            before = dump(register)
            response = self.call(method, path, body, **kwargs)
            assert response.status_code == status, response.get_data(as_text=True)
            assert response.mimetype == "application/problem+json"
            if field is not None:
                assert field in {e["path"] for e in response.get_json()["errors"]}, response.get_json()
            assert dump(register) == before
            return response

        def register(self, **changes):
            response = self.call("POST", "/verenigingen", valid_body(**changes))
            assert response.status_code == 201, response.get_data(as_text=True)
            return response.get_json()["vCode"]

        def state(self, vcode):
            import json

            return json.loads(client.get(f"/doc/vereniging/{vcode}.jsonld", headers=Keys.auth(keys.reader)).data)

    return Api()


@pytest.fixture
def vcode(api):
    return api.register()


def etag(response) -> str:
    return response.headers["ETag"]


# -- basisgegevens ------------------------------------------------------------------------------------
def test_patch_changes_naam_and_bumps_version(api, vcode):
    response = api.ok("PATCH", f"/verenigingen/{vcode}", {"naam": "VC Smashers Gent"},
                      content_type="application/merge-patch+json")
    assert etag(response) == 'W/"2"' and response.get_json()["gewijzigd"] is True
    assert api.state(vcode)["naam"] == "VC Smashers Gent"


def test_merge_patch_null_removes_an_optional_field(api, vcode):
    api.ok("PATCH", f"/verenigingen/{vcode}", {"korteNaam": None}, content_type="application/merge-patch+json")
    assert "korteNaam" not in api.state(vcode)


@pytest.mark.parametrize("body, field", [
    ({"naam": None}, "naam"),
    ({"naam": "<i>x</i>"}, "naam"),
    ({"kleur": "rood"}, "kleur"),
    ({"locaties": []}, "locaties"),
    ({"startdatum": IN_TWO_DAYS}, "startdatum"),
    ({"hoofdactiviteiten": []}, "hoofdactiviteiten"),
    ({"hoofdactiviteiten": ["SPRT", "JGDW", "TOER", "HOSP"]}, "hoofdactiviteiten"),
    ({"werkingsgebieden": ["NVT", "BE23"]}, "werkingsgebieden"),
    ({"doelgroep": {"minimumleeftijd": 70}}, "doelgroep"),
    ({}, ""),
])
def test_invalid_patch_is_rejected(api, vcode, body, field):
    api.rejected("PATCH", f"/verenigingen/{vcode}", body, field=field, content_type="application/merge-patch+json")


@pytest.mark.parametrize("body", [
    {"werkingsgebieden": ["NVT"]}, {"werkingsgebieden": []}, {"hoofdactiviteiten": ["KECU"]},
    {"doelgroep": {"maximumleeftijd": 99}}, {"startdatum": "2020-01-01"}, {"korteBeschrijving": "Nieuw"},
])
def test_valid_patch_is_accepted(api, vcode, body):
    api.ok("PATCH", f"/verenigingen/{vcode}", body, content_type="application/merge-patch+json")


def test_patch_that_changes_nothing_writes_no_version(api, vcode, register):
    before = dump(register)
    response = api.ok("PATCH", f"/verenigingen/{vcode}", {"naam": "Volleybalclub De Smashers"},
                      content_type="application/merge-patch+json")
    assert response.get_json()["gewijzigd"] is False and etag(response) == 'W/"1"'
    assert dump(register) == before


def test_if_match(api, vcode):
    api.rejected("PATCH", f"/verenigingen/{vcode}", {"naam": "X"}, status=412, headers={"If-Match": 'W/"7"'},
                 content_type="application/merge-patch+json")
    api.rejected("PATCH", f"/verenigingen/{vcode}", {"naam": "X"}, status=412, headers={"If-Match": "versie 1"},
                 content_type="application/merge-patch+json")
    api.ok("PATCH", f"/verenigingen/{vcode}", {"naam": "X"}, headers={"If-Match": 'W/"1"'},
           content_type="application/merge-patch+json")


def test_unknown_and_bad_vcodes(api):
    api.rejected("PATCH", "/verenigingen/V0009999", {"naam": "X"}, status=404,
                 content_type="application/merge-patch+json")
    api.rejected("PATCH", "/verenigingen/X123", {"naam": "X"}, status=404,
                 content_type="application/merge-patch+json")


def test_reason_is_recorded_in_provenance(api, vcode, register):
    api.ok("PATCH", f"/verenigingen/{vcode}", {"naam": "Nieuwe naam"}, headers={"VR-Reden": "Fusie"},
           content_type="application/merge-patch+json")
    rows = list(register.store.select(
        "SELECT ?r ?who WHERE { GRAPH <urn:vr:graph:versions:public> {"
        " ?v <http://www.w3.org/ns/prov#wasGeneratedBy> ?a ."
        " ?a <http://www.w3.org/2000/01/rdf-schema#comment> ?r ; <http://www.w3.org/ns/prov#wasAssociatedWith> ?who ."
        f" FILTER(STRENDS(STR(?v), '{vcode}/versie/2')) }} }}"))
    assert [(r["r"].value, r["who"].value) for r in rows] == [
        ("Fusie", "https://data.vlaanderen.be/id/organisatie/OVO000001")]


# -- contactgegevens -----------------------------------------------------------------------------------
def test_contactgegevens_lifecycle(api, vcode):
    base = f"/verenigingen/{vcode}/contactgegevens"
    added = api.ok("POST", base, {"contactgegeventype": "E-mail", "waarde": "bestuur@vcsmashers.be"}, status=201)
    assert added.headers["Location"] == f"{base}/5" and added.get_json()["id"] == 5
    api.ok("PATCH", f"{base}/5", {"beschrijving": "Bestuur"}, content_type="application/merge-patch+json")
    api.rejected("PATCH", f"{base}/5", {"contactgegeventype": "Website"}, field="contactgegeventype",
                 content_type="application/merge-patch+json")
    api.rejected("POST", base, {"contactgegeventype": "Telefoon", "waarde": "+32 9 234 56 78"},
                 field="contactgegevens[5]")  # same number as contactgegeven 2 after normalisation
    api.rejected("POST", base, {"contactgegeventype": "E-mail", "waarde": "x@y.be", "isPrimair": True},
                 field="contactgegevens[5].isPrimair")
    api.ok("DELETE", f"{base}/5")
    api.rejected("DELETE", f"{base}/5", status=404)
    again = api.ok("POST", base, {"contactgegeventype": "E-mail", "waarde": "nieuw@vcsmashers.be"}, status=201)
    assert again.get_json()["id"] == 6  # ids are never reused


# -- locaties ------------------------------------------------------------------------------------------
def place(kind="Activiteiten", **extra):
    return {"locatietype": kind, "adres": {"straatnaam": "Kouter", "huisnummer": "1", "postcode": "9000",
                                           "gemeente": "Gent", "land": "België"}, **extra}


def test_locatie_rules(api, vcode):
    base = f"/verenigingen/{vcode}/locaties"
    api.rejected("POST", base, place("Correspondentie"), field="locaties")
    api.rejected("POST", base, place(isPrimair=True), field="locaties")
    api.rejected("POST", base, dict(place(), adresId="https://data.vlaanderen.be/id/adres/1"), field="locaties")
    api.ok("POST", base, place(naam="Kouter"), status=201)
    api.ok("DELETE", f"{base}/1")
    api.ok("DELETE", f"{base}/2")
    api.rejected("DELETE", f"{base}/3", field="locaties")  # the last one stays


# -- vertegenwoordigers ------------------------------------------------------------------------------
def test_vertegenwoordiger_rules(api, vcode, client):
    base = f"/verenigingen/{vcode}/vertegenwoordigers"
    api.rejected("POST", base, {"insz": "85.07.30-033.28", "voornaam": "Jan", "achternaam": "Janssens"},
                 field="vertegenwoordigers[1].insz")
    api.rejected("POST", base, {"insz": "71432512345", "voornaam": "Jan", "achternaam": "Janssens"},
                 field="vertegenwoordigers.insz")
    api.rejected("POST", base, {"insz": "71432512346", "voornaam": "Jan", "achternaam": "Janssens",
                                "isPrimair": True}, field="vertegenwoordigers")
    api.ok("POST", base, {"insz": "71432512346", "voornaam": "Jan", "achternaam": "Janssens"}, status=201)
    api.rejected("PATCH", f"{base}/2", {"insz": "85073003328"}, field="insz",
                 content_type="application/merge-patch+json")
    api.ok("PATCH", f"{base}/2", {"rol": "Penningmeester", "email": "jan@vcsmashers.be"},
           content_type="application/merge-patch+json")
    api.ok("DELETE", f"{base}/1")
    api.rejected("DELETE", f"{base}/2", field="vertegenwoordigers")
    assert "Janssens" not in client.get(f"/doc/vereniging/{vcode}.ttl").get_data(as_text=True)


# -- lidmaatschappen -----------------------------------------------------------------------------------
def test_lidmaatschap_rules(api, vcode):
    koepel = api.register(naam="Volleybal Vlaanderen", locaties=[place()])
    base = f"/verenigingen/{vcode}/lidmaatschappen"
    api.rejected("POST", base, {"andereVereniging": vcode}, field="lidmaatschappen[0].andereVereniging")
    api.rejected("POST", base, {"andereVereniging": "V0009999"}, field="lidmaatschappen[0].andereVereniging")
    api.rejected("POST", base, {"andereVereniging": koepel, "van": "2020-01-01", "tot": "2019-01-01"},
                 field="lidmaatschappen[0].tot")
    api.ok("POST", base, {"andereVereniging": koepel, "van": "2010-01-01", "tot": "2015-12-31"}, status=201)
    api.rejected("POST", base, {"andereVereniging": koepel, "van": "2015-12-31"}, field="lidmaatschappen[1]")
    api.ok("POST", base, {"andereVereniging": koepel, "van": "2016-01-01", "identificatie": "LID-42"}, status=201)


# -- erkenningen ---------------------------------------------------------------------------------------
def test_erkenning_rules(api, vcode, keys):
    base = f"/verenigingen/{vcode}/erkenningen"
    erkenning = {"ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning sportvereniging",
                 "startdatum": "2024-01-01", "einddatum": "2026-12-31"}
    api.rejected("POST", base, dict(erkenning, hernieuwingsdatum="2027-06-01"),
                 field="erkenningen[0].hernieuwingsdatum")
    api.rejected("POST", base, dict(erkenning, einddatum="2023-01-01"), field="erkenningen[0].einddatum")
    api.ok("POST", base, erkenning, status=201)
    api.rejected("POST", base, dict(erkenning, startdatum="2026-06-01", einddatum=None), field="erkenningen[1]")
    api.ok("POST", base, dict(erkenning, startdatum="2027-01-01", einddatum=None), status=201)
    api.ok("POST", base, erkenning, status=201, key=keys.other_initiator)  # another issuer may overlap
    api.rejected("PATCH", f"{base}/1", {"einddatum": "2026-06-30"}, status=403, key=keys.other_initiator,
                 content_type="application/merge-patch+json")
    api.rejected("DELETE", f"{base}/1", status=403, key=keys.other_initiator)
    api.ok("PATCH", f"{base}/1", {"einddatum": "2026-06-30", "redenVanWijziging": "verlengd"},
           content_type="application/merge-patch+json")
    api.ok("DELETE", f"{base}/3", key=keys.other_initiator)


# -- bankrekeningnummers (restricted) -------------------------------------------------------------------
def test_bankrekeningnummer_rules(api, vcode, client):
    base = f"/verenigingen/{vcode}/bankrekeningnummers"
    api.rejected("POST", base, {"iban": "NL91ABNA0417164300", "titularissen": ["VC Smashers"]},
                 field="bankrekeningnummers.iban")
    api.rejected("POST", base, {"iban": "BE71096123456768", "titularissen": ["VC Smashers"]},
                 field="bankrekeningnummers.iban")
    api.rejected("POST", base, {"iban": IBAN, "titularissen": []}, field="bankrekeningnummers.titularissen")
    api.ok("POST", base, {"iban": "BE71096123456769", "doel": "Werking", "titularissen": ["VC Smashers"]},
           status=201)
    api.rejected("POST", base, {"iban": IBAN, "titularissen": ["Iemand"]}, field="bankrekeningnummers[1].iban")
    assert "0961" not in client.get(f"/doc/vereniging/{vcode}.ttl").get_data(as_text=True)
    assert IBAN in api.state(vcode)["bankrekeningnummers"][0]["iban"]


# -- KBO -----------------------------------------------------------------------------------------------
def test_kbo_registration_and_read_only_fields(api):
    body = {"kboNummer": KBO, "verenigingstype": "VZW", "naam": "Sportraad Gent vzw", "startdatum": "1990-05-01",
            "locaties": [place()]}
    first = api.ok("POST", "/verenigingen/kbo", body, status=201)
    vcode = first.get_json()["vCode"]
    again = api.ok("POST", "/verenigingen/kbo", body, status=200)
    assert again.headers["Location"] == f"/id/vereniging/{vcode}"
    api.rejected("POST", "/verenigingen/kbo", dict(body, kboNummer="0202.239.952"), field="kboNummer")
    api.rejected("POST", "/verenigingen/kbo", dict(body, verenigingstype="FV"), field="verenigingstype")
    api.rejected("PATCH", f"/verenigingen/{vcode}", {"naam": "Andere naam"}, field="naam",
                 content_type="application/merge-patch+json")
    api.ok("PATCH", f"/verenigingen/{vcode}", {"korteBeschrijving": "Adviesraad"},
           content_type="application/merge-patch+json")
    api.rejected("POST", f"/verenigingen/{vcode}/vertegenwoordigers",
                 {"insz": "71432512346", "voornaam": "Jan", "achternaam": "Janssens"})
    api.rejected("POST", f"/verenigingen/{vcode}/stop", {"einddatum": today().isoformat()})


# -- stop, correction, removal ---------------------------------------------------------------------------
def test_stop_and_correct(api, vcode):
    api.rejected("POST", f"/verenigingen/{vcode}/heractivering", {})
    api.rejected("POST", f"/verenigingen/{vcode}/stop", {"einddatum": (today() + timedelta(days=1)).isoformat()})
    api.rejected("POST", f"/verenigingen/{vcode}/stop", {"einddatum": "2015-08-31"})
    api.rejected("POST", f"/verenigingen/{vcode}/stop", {}, field="einddatum")
    stopped = api.ok("POST", f"/verenigingen/{vcode}/stop", {"einddatum": today().isoformat()})
    assert stopped.get_json()["versie"] == 2
    same = api.ok("POST", f"/verenigingen/{vcode}/stop", {"einddatum": today().isoformat()})
    assert same.get_json()["gewijzigd"] is False
    assert api.state(vcode)["status"] == "Gestopt"
    api.ok("POST", f"/verenigingen/{vcode}/heractivering", {})
    assert api.state(vcode)["status"] == "Actief" and "einddatum" not in api.state(vcode)


def test_remove_is_admin_only_and_answers_410(api, vcode, keys, client):
    api.rejected("DELETE", f"/verenigingen/{vcode}", {"reden": "Dubbel"}, status=403)
    api.ok("DELETE", f"/verenigingen/{vcode}", {"reden": "Dubbel ingevoerd"}, key=keys.admin)
    assert client.get(f"/doc/vereniging/{vcode}.ttl").status_code == 410
    api.rejected("PATCH", f"/verenigingen/{vcode}", {"naam": "X"}, status=410,
                 content_type="application/merge-patch+json")
    assert api.register(naam="Heel andere vereniging", locaties=[place()]) != vcode  # never reused


# -- duplicate detection ---------------------------------------------------------------------------------
def test_duplicate_detection_and_confirmation(api, client, keys, register):
    api.register()
    similar = valid_body(naam="Volleybalclub de Smashers Gent")
    before = dump(register)
    conflict = client.post("/verenigingen", json=similar, headers=Keys.auth(keys.initiator))
    assert conflict.status_code == 409 and dump(register) == before
    problem = conflict.get_json()
    assert [c["vCode"] for c in problem["mogelijkeDuplicateVerenigingen"]] == ["V0001001"]
    token = problem["bevestigingsToken"]
    wrong = client.post("/verenigingen", json=dict(similar, korteNaam="Andere"),
                        headers={**Keys.auth(keys.initiator), "VR-BevestigingsToken": token})
    assert wrong.status_code == 400 and dump(register) == before
    confirmed = client.post("/verenigingen", json=similar,
                            headers={**Keys.auth(keys.initiator), "VR-BevestigingsToken": token})
    assert confirmed.status_code == 201


def test_same_name_elsewhere_is_not_a_duplicate(api):
    api.register()
    other = [{"locatietype": "Activiteiten", "adres": {"straatnaam": "Markt", "huisnummer": "1", "postcode": "8500",
                                                       "gemeente": "Kortrijk", "land": "België"}}]
    api.register(locaties=other, werkingsgebieden=[])


# -- idempotent retries ----------------------------------------------------------------------------------
def test_idempotency_key_prevents_double_registration(client, keys, register):
    headers = {**Keys.auth(keys.initiator), "Idempotency-Key": "aanvraag-123"}
    first = client.post("/verenigingen", json=valid_body(), headers=headers)
    second = client.post("/verenigingen", json=valid_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.headers["Location"] == second.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    before = dump(register)
    reused = client.post("/verenigingen", json=valid_body(naam="Iets anders"), headers=headers)
    assert reused.status_code == 422 and dump(register) == before
