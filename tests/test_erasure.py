"""Retention and erasure: personal data of removed verenigingen and of vertegenwoordigers who left goes from
every restricted surface after the retention period, a person is erased on request (art. 17), each erasure is
audited first, and the public history never holds personal data."""

from __future__ import annotations

import json

from app.cli.main import main as vr
from tests.conftest import BASE, Keys, valid_body

AN = "85073003328"  # An Peeters, in VALID_BODY
BERT = {"insz": "90020199704", "voornaam": "Bert", "achternaam": "Canarisvogel", "rol": "Secretaris",
        "isPrimair": False, "email": "bert.canarisvogel@example.be"}
IBAN = {"iban": "BE71 0961 2345 6769", "titularissen": ["VC Smashers"]}
TURTLE = {"Accept": "text/turtle"}


def restricted_surfaces(client, keys, vcode: str) -> str:
    """Everything a key holder can read about the vereniging and its history, as one text."""
    reader = Keys.auth(keys.reader)
    parts = [client.get(f"/doc/vereniging/{vcode}/historiek", headers={**reader, **TURTLE}).get_data(as_text=True),
             client.get("/ldes/beheer/verenigingen/tijd/1", headers={**reader, **TURTLE}).get_data(as_text=True),
             client.get("/dumps/beheer/verenigingen.csv", headers=reader).get_data(as_text=True),
             client.get("/sparql/beheer", query_string={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"},
                        headers={**reader, "Accept": "text/csv"}).get_data(as_text=True),
             client.get("/sparql/beheer", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                        headers={**reader, "Accept": "text/csv"}).get_data(as_text=True)]
    return "\n".join(parts)


def erasures(client, keys) -> list[dict]:
    events = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"]
    return [e for e in events if e["operatie"].startswith("wissing") and e["gewisteTriples"]]


def public_surfaces(client, vcode: str) -> str:
    return "\n".join(client.get(path, headers=TURTLE).get_data(as_text=True) for path in (
        f"/doc/vereniging/{vcode}/historiek", "/ldes/verenigingen/tijd/1", "/dumps/verenigingen.nq"))


def _register(post, register) -> str:
    register.settings.sparql_rate_limit = ""
    body = valid_body(vertegenwoordigers=valid_body()["vertegenwoordigers"] + [BERT], bankrekeningnummers=[IBAN])
    response = post(body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["vCode"]


def test_removed_vereniging_is_erased_after_the_retention_period(client, post, keys, register):
    vcode = _register(post, register)
    admin = Keys.auth(keys.admin)
    assert client.delete(f"/verenigingen/{vcode}", headers=admin).status_code == 200
    before = restricted_surfaces(client, keys, vcode)
    assert AN in before and "Canarisvogel" in before  # positive control
    assert "BE71096123456769" in before.replace(" ", "")
    retention = {"reden": "dagelijkse retentie"}
    register.settings.retention_days = 30
    kept = client.post("/beheer/wissing/retentie", json=retention, headers=admin)
    assert kept.status_code == 200 and kept.get_json()["gewisteTriples"] == 0  # removed today: still kept
    register.settings.retention_days = 0
    asked_more = client.post("/beheer/wissing/retentie", json={**retention, "dagen": 30}, headers=admin)
    assert asked_more.status_code == 400 and asked_more.get_json()["errors"][0]["path"] == "dagen"  # not ignored
    assert AN in restricted_surfaces(client, keys, vcode)  # so nothing was erased
    erased = client.post("/beheer/wissing/retentie", json=retention, headers=admin)
    assert erased.status_code == 200 and erased.get_json()["verenigingen"] == [vcode]
    after = restricted_surfaces(client, keys, vcode)
    for canary in (AN, "Peeters", "Canarisvogel", "bert.canarisvogel", "BE71096123456769", "BE71 0961", "an.peeters"):
        assert canary not in after, canary
    assert "Peeters" not in public_surfaces(client, vcode)
    event = erasures(client, keys)[0]
    assert event["operatie"] == "wissing (retentie 0 dagen)" and event["vCodes"] == [vcode]
    assert AN not in str(event) and event["reden"] == "dagelijkse retentie"


def test_a_vertegenwoordiger_who_left_is_erased_the_others_stay(client, post, keys, register):
    vcode = _register(post, register)
    initiator, admin = Keys.auth(keys.initiator), Keys.auth(keys.admin)
    assert client.delete(f"/verenigingen/{vcode}/vertegenwoordigers/2", headers=initiator).status_code == 200
    assert "Canarisvogel" in restricted_surfaces(client, keys, vcode)
    register.settings.retention_days = 0
    erased = client.post("/beheer/wissing/retentie", json={"reden": "retentie"}, headers=admin).get_json()
    assert erased["vertegenwoordigerKnopen"] == 1  # Bert was in version 1 only
    after = restricted_surfaces(client, keys, vcode)
    assert "Canarisvogel" not in after and BERT["insz"] not in after
    assert AN in after and "Peeters" in after  # still vertegenwoordiger: nothing of hers goes


def test_a_removed_bankrekeningnummer_is_erased_the_vereniging_stays(client, post, keys, register):
    vcode = _register(post, register)
    initiator, admin = Keys.auth(keys.initiator), Keys.auth(keys.admin)
    assert client.delete(f"/verenigingen/{vcode}/bankrekeningnummers/1", headers=initiator).status_code == 200
    assert "BE71096123456769" in restricted_surfaces(client, keys, vcode).replace(" ", "")  # positive control
    register.settings.retention_days = 30
    kept = client.post("/beheer/wissing/retentie", json={"reden": "retentie"}, headers=admin).get_json()
    assert kept["gewisteTriples"] == 0  # removed today: still kept
    register.settings.retention_days = 0
    erased = client.post("/beheer/wissing/retentie", json={"reden": "retentie"}, headers=admin).get_json()
    assert erased["bankrekeningKnopen"] == 1 and erased["vertegenwoordigerKnopen"] == 0
    after = restricted_surfaces(client, keys, vcode)
    assert "BE71096123456769" not in after.replace(" ", "") and "titularis" not in after
    assert AN in after and "Canarisvogel" in after  # the vertegenwoordigers are still there
    assert client.get(f"/doc/vereniging/{vcode}/historiek", headers={**Keys.auth(keys.reader), **TURTLE}
                      ).status_code == 200  # the history itself still reads


def test_erasure_on_request(client, post, keys, register, settings):
    vcode = _register(post, register)
    admin = Keys.auth(keys.admin)
    request = {"insz": AN, "reden": "verzoek 2026/17"}
    still = client.post("/beheer/wissing/persoon", json=request, headers=admin)
    assert still.status_code == 409 and still.get_json()["verenigingen"] == [vcode]
    assert client.post("/beheer/wissing/persoon", json=request, headers=Keys.auth(keys.initiator)).status_code == 403
    assert client.post("/beheer/wissing/persoon", json={"insz": "123", "reden": "x"}, headers=admin).status_code == 400
    assert client.post("/beheer/wissing/persoon", json={"insz": AN}, headers=admin).status_code == 400
    assert client.post("/beheer/wissing/persoon", json={**request, "vCode": vcode}, headers=admin).status_code == 400
    # An leaves; on her request her data goes from the history at once, without waiting for the retention
    assert client.delete(f"/verenigingen/{vcode}/vertegenwoordigers/1", headers=Keys.auth(keys.initiator)) \
        .status_code == 200
    assert AN in restricted_surfaces(client, keys, vcode)
    done = client.post("/beheer/wissing/persoon", json=request, headers=admin)
    assert done.status_code == 200 and done.get_json()["verenigingen"] == [vcode]
    after = restricted_surfaces(client, keys, vcode)
    assert AN not in after and "an.peeters" not in after and "Canarisvogel" in after
    event = erasures(client, keys)[0]
    assert event["operatie"] == "wissing (verzoek art. 17)" and AN not in str(event)
    # a replica of the restricted stream learns which versions to fetch again (and nothing about the person)
    log = client.get("/ldes/beheer/wissingen", headers=Keys.auth(keys.reader)).get_json()["wissingen"]
    assert len(log) == 1 and AN not in json.dumps(log)
    assert log[0]["versies"] and all(v.startswith(f"{BASE}/id/vereniging/{vcode}/versie/") for v in log[0]["versies"])
    for version in log[0]["versies"]:
        page = client.get(version.replace(f"{BASE}/id/", "/doc/") + ".ttl", headers=Keys.auth(keys.reader))
        assert page.status_code == 200 and AN not in page.get_data(as_text=True)
    later = client.get("/ldes/beheer/wissingen", query_string={"sinds": log[0]["tijdstip"]},
                       headers=Keys.auth(keys.reader))
    assert later.get_json()["wissingen"] == []
    assert client.get("/ldes/beheer/wissingen").status_code == 401
    assert client.get("/ldes/beheer/wissingen?sinds=x%22%20%7D", headers=Keys.auth(keys.reader)).status_code == 400


def test_an_unwritable_audit_log_erases_nothing(client, post, keys, register, settings):
    vcode = _register(post, register)
    admin = Keys.auth(keys.admin)
    assert client.delete(f"/verenigingen/{vcode}", headers=admin).status_code == 200
    register.settings.retention_days = 0
    log = settings.data_dir / "audit.log"
    log.rename(log.with_suffix(".bewaard"))
    log.mkdir()
    refused = client.post("/beheer/wissing/retentie", json={"reden": "retentie"}, headers=admin)
    assert refused.status_code == 503 and "niets gewist" in refused.get_json()["detail"]
    log.rmdir()
    log.with_suffix(".bewaard").rename(log)
    assert AN in restricted_surfaces(client, keys, vcode)


def test_cli_erasure(settings):
    import gc

    from app.domain.parse import parse_registration
    from app.register import Register
    from app.store.audience import Audience

    register = Register.open(settings)
    body = valid_body(vertegenwoordigers=valid_body()["vertegenwoordigers"] + [BERT], bankrekeningnummers=[IBAN])
    vcode = register.handler.register(parse_registration(body), _prov("registratie")).vcode
    register.handler.remove(vcode, _prov("verwijdering"))
    register.close()
    del register
    gc.collect()  # the CLI opens the store itself
    data_dir = ["--data-dir", str(settings.data_dir)]
    assert vr(["wissen", "retentie", "--reden", "cron", *data_dir]) == 0  # within 365 days: nothing goes
    assert vr(["wissen", "persoon", "123", "--reden", "verzoek", *data_dir]) == 2
    assert vr(["wissen", "persoon", BERT["insz"], "--reden", "verzoek 12", *data_dir]) == 0
    lines = (settings.data_dir / "audit.log").read_text(encoding="utf-8")
    assert "wissing (verzoek art. 17)" in lines and "vr wissen persoon" in lines and BERT["insz"] not in lines
    gc.collect()
    register = Register.open(settings)
    try:
        history = register.store.version_tree(register.handler.iri(vcode) + "/versie/1", Audience(True, "test"))
        assert history and not any("Canarisvogel" in str(q) for q in history)
        assert any("Peeters" in str(q) for q in history)
    finally:
        register.close()


def _prov(activity: str):
    from app.domain.versions import Initiator, Provenance

    return Provenance(activity, Initiator("OVO002949", "Digitaal Vlaanderen"), "test")



def test_serve_applies_the_retention_period_by_itself(client, post, keys, register):
    from app.cli.erasure import daily_retention

    vcode = _register(post, register)
    assert client.delete(f"/verenigingen/{vcode}", headers=Keys.auth(keys.admin)).status_code == 200
    register.settings.retention_days = 0
    thread = daily_retention(register, interval=3600, first=0.1)
    try:
        for _ in range(100):
            if erasures(client, keys):
                break
            thread.stop.wait(0.1)
    finally:
        thread.stop.set()
    assert erasures(client, keys)[0]["endpoint"] == "vr serve (dagelijks)"
    assert AN not in restricted_surfaces(client, keys, vcode)
