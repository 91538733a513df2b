"""Recordhistoriek, the restricted stream's retention and the DCAT catalog."""

from __future__ import annotations

import json

import rdflib
from rdflib.compare import isomorphic

from tests.conftest import Keys, valid_body


def changed(client, keys):
    auth = Keys.auth(keys.initiator)
    client.post("/verenigingen", json=valid_body(), headers=auth)
    client.patch("/verenigingen/V0001001", json={"naam": "VC Smashers Gent"},
                 headers={**auth, "Content-Type": "application/merge-patch+json", "VR-Reden": "Nieuwe statuten"})
    client.post("/verenigingen/V0001001/vertegenwoordigers", headers=auth,
                json={"insz": "71432512346", "voornaam": "Jan", "achternaam": "Janssens"})


def test_history_lists_every_change_with_who_when_what_why(client, keys):
    changed(client, keys)
    doc = json.loads(client.get("/doc/vereniging/V0001001/historiek.jsonld").data)
    events = doc["gebeurtenissen"]
    assert [e["versie"] for e in events] == [1, 2, 3]
    assert events[0]["activiteit"]["type"] == "VerenigingWerdGeregistreerd"
    rename = events[1]["activiteit"]
    assert rename["reden"] == "Nieuwe statuten" and rename["initiator"]["naam"] == "Gemeente Gent"
    assert rename["initiator"]["iri"] == "https://data.vlaanderen.be/id/organisatie/OVO000001"
    rename = events[1]
    assert rename["wijzigingen"] == [{"veld": "naam", "voor": "Volleybalclub De Smashers", "na": "VC Smashers Gent"}]
    assert events[2]["wijzigingen"] == []  # a restricted change shows no data publicly
    assert "Janssens" not in json.dumps(doc) and "85073003328" not in json.dumps(doc)


def test_history_with_a_key_shows_restricted_changes_with_insz_masked(client, keys):
    changed(client, keys)
    doc = json.loads(client.get("/doc/vereniging/V0001001/historiek.jsonld", headers=Keys.auth(keys.reader)).data)
    change = doc["gebeurtenissen"][2]["wijzigingen"]
    assert change[0]["veld"] == "vertegenwoordigers" and change[0]["na"]["@type"] == "@json"
    assert "Janssens" in [person["achternaam"] for person in change[0]["na"]["@value"]]  # data, not a JSON text
    assert "71432512346" not in json.dumps(doc)
    assert all("voor" not in c for c in doc["gebeurtenissen"][0]["wijzigingen"])  # nothing before a registration


def test_history_in_html_and_turtle(client, keys):
    changed(client, keys)
    page = client.get("/doc/vereniging/V0001001/historiek", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Vereniging werd gewijzigd" in page.get_data(as_text=True)
    graph = rdflib.Graph().parse(data=client.get("/doc/vereniging/V0001001/historiek.ttl").data, format="turtle")
    assert len(set(graph.subjects(rdflib.URIRef("http://purl.org/dc/terms/isVersionOf")))) == 3
    assert client.get("/doc/vereniging/V0009999/historiek").status_code == 404


def test_history_is_one_graph_in_every_format(client, keys):
    """Turtle, N-Triples, RDF/XML and JSON-LD are the same graph: typed times, the initiator an IRI."""
    changed(client, keys)
    graphs = {}
    for ext, fmt in (("ttl", "turtle"), ("nt", "nt"), ("rdf", "xml"), ("jsonld", "json-ld")):
        answer = client.get(f"/doc/vereniging/V0001001/historiek.{ext}")
        assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
        graphs[ext] = rdflib.Graph().parse(data=answer.data, format=fmt)
    assert all(isomorphic(graphs["ttl"], graph) for graph in graphs.values())
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    times = list(graphs["jsonld"].objects(None, prov.generatedAtTime))
    assert len(times) == 3 and all(t.datatype == rdflib.XSD.dateTime for t in times)
    agents = set(graphs["jsonld"].objects(None, prov.wasAssociatedWith))
    assert agents == {rdflib.URIRef("https://data.vlaanderen.be/id/organisatie/OVO000001")}
    html = client.get("/doc/vereniging/V0001001/historiek", headers={"Accept": "text/html"}).get_data(as_text=True)
    for label in graphs["ttl"].objects(None, rdflib.RDFS.label):
        assert str(label) in html


def test_history_is_built_once_per_version(client, keys, app):
    changed(client, keys)
    first = client.get("/doc/vereniging/V0001001/historiek.ttl")
    cached = {key for key in app.extensions["vr-weergaven"]._items if key[0] == "historiek"}
    assert len(cached) == 3 and first.headers["ETag"] == 'W/"3-ttl"'
    client.patch("/verenigingen/V0001001", json={"korteNaam": "Smash"},
                 headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
    second = client.get("/doc/vereniging/V0001001/historiek.ttl")
    assert second.headers["ETag"] == 'W/"4-ttl"' and second.data != first.data
    assert {key for key in app.extensions["vr-weergaven"]._items if key[0] == "historiek"} > cached


def test_retention_applies_to_the_restricted_stream_only(client, keys, monkeypatch):
    changed(client, keys)
    monkeypatch.setenv("VR_LDES_RETENTION_DAYS", "0")
    headers = {**Keys.auth(keys.reader), "Accept": "text/turtle"}
    restricted = client.get("/ldes/beheer/verenigingen/tijd/1", headers=headers).get_data(as_text=True)
    assert "P0D" in client.get("/ldes/beheer/verenigingen/tijd", headers=headers).get_data(as_text=True)
    assert "tree:member" not in restricted
    public = client.get("/ldes/verenigingen/tijd/1", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "tree:member" in public and "retentionPolicy" not in public


def test_an_unknown_stream_is_a_dutch_404_on_every_route(client):
    for path in ("/ldes/onbekend/tijd", "/ldes/onbekend/tijd/1", "/ldes/onbekend/gemeenten",
                 "/ldes/onbekend/gemeente/BE23444021", "/ldes/onbekend/gemeente/BE23444021/1", "/ldes/onbekend"):
        response = client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path
        assert "bestaat niet" in response.get_json()["detail"], path


def test_the_gemeente_view_holds_the_gemeenten_of_locations_and_werkingsgebieden(client, keys):
    """vrx:gemeente says 'where the vereniging was active or had a location': a werkingsgebied that is a
    gemeente counts (a melding for that gemeente matches it too); a province does not (it has no view)."""
    body = valid_body(werkingsgebieden=["BE23444083", "BE25"])  # Deinze, and the province West-Vlaanderen
    assert client.post("/verenigingen", json=body, headers=Keys.auth(keys.initiator)).status_code == 201
    for code in ("BE23444021", "BE23444083"):  # Gent (its locations), Deinze (its werkingsgebied)
        page = client.get(f"/ldes/verenigingen/gemeente/{code}/1", headers={"Accept": "text/turtle"})
        assert page.status_code == 200 and "V0001001/versie/1" in page.get_data(as_text=True), code
    assert client.get("/ldes/verenigingen/gemeente/BE25/1").status_code == 404
