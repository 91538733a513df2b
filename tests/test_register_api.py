"""POST /verenigingen over HTTP: success, authentication, and every malformed request."""

from __future__ import annotations

import gc
import json

import pytest

from app.auth.keys import add_key
from app.config import Settings
from app.factory import create_app
from app.namespaces import GRAPH_VERSIONS_PUBLIC, PROV
from app.register import Register
from tests.conftest import BASE, Keys, dump, valid_body


def test_first_registration_gets_v0001001_location_and_etag(post):
    response = post(valid_body())
    assert response.status_code == 201
    assert response.headers["Location"] == "/id/vereniging/V0001001"
    assert response.headers["ETag"] == 'W/"1"'
    body = response.get_json()
    assert body["vCode"] == "V0001001"
    assert body["id"] == f"{BASE}/id/vereniging/V0001001"


def test_vcodes_increase_and_survive_a_restart(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", base_url=BASE)
    key = add_key(settings.keys_path, "OVO000001", "Gemeente Gent", ["initiator"])

    def register_one(naam: str) -> str:
        client = create_app(register=Register.open(settings)).test_client()
        response = client.post("/verenigingen", json=valid_body(naam=naam), headers=Keys.auth(key))
        assert response.status_code == 201
        del client
        gc.collect()  # pyoxigraph releases the RocksDB lock when the Store is collected
        return response.get_json()["vCode"]

    assert register_one("Eerste") == "V0001001"
    assert register_one("Tweede") == "V0001002"
    assert register_one("Derde") == "V0001003"


def test_registration_writes_a_version_with_provenance(post, register):
    post(valid_body(), headers={"VR-Reden": "Nieuwe vereniging aangemeld aan het loket"})
    query = f"""
      PREFIX prov: <{PROV}>
      PREFIX dcterms: <http://purl.org/dc/terms/>
      SELECT ?version ?time ?agent ?type ?reason WHERE {{
        ?version dcterms:isVersionOf <{BASE}/id/vereniging/V0001001> ;
                 prov:generatedAtTime ?time ; prov:wasGeneratedBy ?activity .
        ?activity prov:wasAssociatedWith ?agent ; a ?type ;
                  <http://www.w3.org/2000/01/rdf-schema#comment> ?reason .
        FILTER(?type != prov:Activity)
      }}"""
    from pyoxigraph import NamedNode

    rows = list(register.store.select(query, default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)]))
    assert len(rows) == 1
    row = rows[0]
    assert row["version"].value == f"{BASE}/id/vereniging/V0001001/versie/1"
    assert row["agent"].value == "https://data.vlaanderen.be/id/organisatie/OVO000001"
    assert row["type"].value.endswith("#VerenigingWerdGeregistreerd")
    assert row["reason"].value == "Nieuwe vereniging aangemeld aan het loket"


def test_missing_key_is_401(client):
    response = client.post("/verenigingen", json=valid_body())
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("header", ["Bearer nope", "Basic dXNlcjpwdw==", "Bearer", "vr_something"])
def test_invalid_key_is_401(client, header):
    response = client.post("/verenigingen", json=valid_body(), headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_key_without_initiator_role_is_403(post, keys):
    response = post(valid_body(), key=keys.reader)
    assert response.status_code == 403
    assert "initiator" in response.get_json()["detail"]


BAD_REQUESTS = {
    "malformed json": dict(data='{"naam": "x",', content_type="application/ld+json"),
    "json array": dict(data="[1, 2]", content_type="application/json"),
    "not utf-8": dict(data=b'{"naam": "\xff"}', content_type="application/json"),
    "wrong content type": dict(data="naam=x", content_type="application/x-www-form-urlencoded"),
    "no content type": dict(data='{"naam": "x"}', content_type=""),
    "unknown property": dict(data=json.dumps(valid_body(kleur="blauw")), content_type="application/json"),
    "unknown nested property": dict(data=json.dumps(valid_body(doelgroep={"minimumleeftijd": 1, "x": 2})),
                                    content_type="application/json"),
    "read-only property": dict(data=json.dumps(valid_body(vCode="V0009999")), content_type="application/json"),
    "remote context": dict(data=json.dumps(valid_body(**{"@context": "https://example.org/ctx.jsonld"})),
                           content_type="application/ld+json"),
    "missing naam": dict(data=json.dumps({"hoofdactiviteiten": ["SPRT"]}), content_type="application/json"),
    "bad turtle": dict(data="<a> <b> .", content_type="text/turtle"),
    "turtle without vereniging": dict(data="<http://x/a> <http://x/b> <http://x/c> .", content_type="text/turtle"),
    "oversized": dict(data=json.dumps(valid_body(korteBeschrijving="x" * 300_000)), content_type="application/json"),
}
EXPECTED_STATUS = {"wrong content type": 415, "no content type": 415, "oversized": 413}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_request_is_a_problem_and_changes_nothing(post, register, name):
    post(valid_body())  # the store is not empty: a rejected write must not touch existing data
    before = dump(register)
    response = post(None, **BAD_REQUESTS[name])
    assert response.status_code == EXPECTED_STATUS.get(name, 400), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == response.status_code
    assert problem["title"] and problem["detail"] and problem["type"].startswith("https://")
    if response.status_code == 413:
        assert any(ch.isdigit() for ch in problem["detail"])  # the limit, so the sender knows what fits
    if response.status_code == 400:
        assert problem["errors"], "a 400 lists the field errors"
        assert all({"path", "code", "message"} <= set(e) for e in problem["errors"])
    assert dump(register) == before


def test_unknown_property_error_names_the_field(post):
    errors = post(valid_body(kleur="blauw")).get_json()["errors"]
    assert errors == [{"path": "kleur", "code": "onbekende-eigenschap",
                       "message": "'kleur' is geen gekende eigenschap op deze plaats."}]


def test_all_field_errors_are_reported_at_once(post):
    body = valid_body(naam="", startdatum="01/02/2020", hoofdactiviteiten=["SPRT", "XXXX"])
    paths = {e["path"] for e in post(body).get_json()["errors"]}
    assert {"naam", "startdatum", "hoofdactiviteiten[1]"} <= paths


def test_methods_other_than_post_are_405(client):
    response = client.put("/verenigingen", json={})
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
