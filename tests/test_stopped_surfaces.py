"""What a stopped vereniging answers on every public surface (README "A stopped vereniging").

One rule, the same everywhere: its IRI keeps resolving and every data surface publishes it with
status Gestopt (detail in every format, history, SPARQL, dumps, change stream); the search
surfaces list active verenigingen only unless asked for Gestopt. A removed one answers 410.
"""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import Keys, valid_body

GESTOPT = "https://w3id.org/verenigingsregister/concept/verenigingstatus/Gestopt"


def test_a_stopped_vereniging_is_published_with_its_status_and_not_searched(client, keys):
    auth = Keys.auth(keys.initiator)
    vcode = client.post("/verenigingen", json=valid_body(), headers=auth).get_json()["vCode"]
    client.post("/verenigingen", json=valid_body(naam="Smashers Junior", locaties=[]), headers=auth)
    assert client.post(f"/verenigingen/{vcode}/stop", json={"einddatum": "2024-01-01"}, headers=auth).status_code == 200

    assert client.get(f"/id/vereniging/{vcode}").status_code == 303
    for suffix in ("", ".ttl", ".jsonld", ".nt", ".rdf", "/historiek"):
        response = client.get(f"/doc/vereniging/{vcode}{suffix}")
        assert response.status_code == 200, suffix
        assert "Gestopt" in response.get_data(as_text=True) or GESTOPT in response.get_data(as_text=True), suffix
    assert "Deze vereniging is gestopt" in client.get(f"/doc/vereniging/{vcode}").get_data(as_text=True)
    assert client.get(f"/doc/vereniging/{vcode}.jsonld").get_json()["status"] == "Gestopt"

    query = (f"ASK {{ <http://register.test/id/vereniging/{vcode}> "
             f"<http://www.w3.org/ns/regorg#orgStatus> <{GESTOPT}> }}")
    assert client.get("/sparql?query=" + quote(query), headers={"Accept": "application/sparql-results+json"}
                      ).get_json()["boolean"] is True
    for dump in ("/dumps/verenigingen.nq", "/dumps/verenigingen.csv"):
        assert vcode in client.get(dump).get_data(as_text=True), dump
    stream = client.get("/ldes/verenigingen/tijd/1", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert f"{vcode}/versie/2" in stream and "VerenigingWerdGestopt" in stream

    found = client.get("/api/zoeken?q=Smashers").get_json()
    assert vcode not in [hit["vCode"] for hit in found["verenigingen"]]
    asked = client.get("/api/zoeken?q=Smashers&status=Gestopt").get_json()
    assert [hit["vCode"] for hit in asked["verenigingen"]] == [vcode]
    assert f"/doc/vereniging/{vcode}" not in client.get("/zoeken?q=Smashers").get_data(as_text=True)


def test_a_removed_vereniging_is_gone_everywhere(client, keys):
    vcode = client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).get_json()["vCode"]
    assert client.delete(f"/verenigingen/{vcode}", json={"reden": "dubbel"}, headers=Keys.auth(keys.admin)
                         ).status_code == 200
    for suffix in ("", ".ttl", ".jsonld"):
        assert client.get(f"/doc/vereniging/{vcode}{suffix}").status_code == 410
    # its public history stays, like the stream's versions, and ends in the removal (README, privacy page)
    history = client.get(f"/doc/vereniging/{vcode}/historiek.jsonld")
    assert history.status_code == 200 and "Verwijderd" in history.get_data(as_text=True)
    assert vcode not in client.get("/dumps/verenigingen.nq").get_data(as_text=True).replace(
        f"{vcode}/versie", "")
    assert vcode not in str(client.get("/api/zoeken?q=Smashers&status=Gestopt").get_json()["verenigingen"])
