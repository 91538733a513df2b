"""SPARQL protocol details, freshness of the query checkpoints, SERVICE refusal against a real listener."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import rdflib

from tests.conftest import Keys, valid_body

JSON = {"Accept": "application/sparql-results+json"}
COUNT_V = "SELECT (COUNT(?v) AS ?n) WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"


def count(client, query: str = COUNT_V, **params) -> int:
    response = client.get("/sparql", query_string={"query": query, **params}, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def two(post):
    return [post(valid_body(naam=naam)).get_json()["vCode"] for naam in ("Schaakclub Toren", "Harmonie Sint-Cecilia")]


@pytest.mark.skipif(os.environ.get("VR_TEST_STORE") == "remote",
                    reason="checkpoints are the embedded engine's; the remote engine reads the live store server")
def test_every_committed_write_is_visible_and_workers_never_open_the_live_store(client, post, register, two):
    assert count(client) == 2
    assert post(valid_body(naam="Wandelclub De Stappers")).status_code == 201
    assert count(client) == 3  # read-your-writes: a new checkpoint was made for the new sequence
    assert count(client) == 3
    workers = register.query_workers()
    checkpoints = Path(workers.snapshots.root)
    assert checkpoints != register.settings.store_dir and checkpoints.parent == register.settings.data_dir
    assert all(Path(w.snapshot).parent == checkpoints for w in workers._all if w.snapshot)
    for i, naam in enumerate(("Jeugdhuis Kadee", "Toneelgroep Vermaak", "Imkersbond Zoemer")):
        assert post(valid_body(naam=naam)).status_code == 201
        assert count(client) == 4 + i
    # old checkpoints are removed once no worker has them open: at most one per worker + the current one
    assert len(list(checkpoints.iterdir())) <= register.settings.sparql_workers + 1


@pytest.mark.parametrize("request_kwargs, status", [
    ({"method": "GET", "query_string": [("query", "ASK {}"), ("query", "ASK {}")]}, 400),
    ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415),
    ({"method": "POST", "data": b"ASK {}"}, 400),
    ({"method": "POST", "data": "ASK {}".encode("utf-16"), "content_type": "application/sparql-query; charset=utf-16"},
     415),
    ({"method": "GET", "query_string": {"update": "CLEAR ALL"}}, 405),
    ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 405),
    ({"method": "PUT", "query_string": {"query": "ASK {}"}}, 405),
    ({"method": "GET", "query_string": {"query": "ASK {}"}, "headers": {"Accept": "image/png"}}, 406),
    ({"method": "GET", "query_string": {"query": "ASK {}"}, "headers": {"Accept": "*/*;q=0"}}, 406),  # nothing
    ({"method": "GET", "query_string": {"query": "ASK {}", "default-graph-uri": "urn:vr:graph:restricted"}}, 400),
    ({"method": "GET", "query_string": {"query": "ASK {}", "named-graph-uri": "urn:vr:graph:system"}}, 400),
])
def test_protocol_errors_are_problem_json_with_cors(client, two, request_kwargs, status):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if status != 405 or request_kwargs["method"] != "PUT":
        assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("query, accept, listed, not_listed", [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "text/turtle", "application/sparql-results+json", "text/turtle"),
    ("ASK {}", "image/png", "text/csv", "application/n-triples"),
    ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "application/sparql-results+json", "text/turtle", "text/csv"),
])
def test_a_406_lists_the_formats_of_that_kind_of_query(client, two, query, accept, listed, not_listed):
    detail = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept}).get_json()["detail"]
    formats = detail.split("Beschikbare formaten:")[1]
    assert listed in formats and not_listed not in formats, detail


def test_dataset_parameters_choose_among_public_graphs_only(client, two):
    everything = count(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    codelists = count(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                      **{"default-graph-uri": "urn:vr:graph:codelists"})
    assert 0 < codelists < everything
    assert count(client, COUNT_V, **{"default-graph-uri": "urn:vr:graph:codelists"}) == 0
    named = client.get("/sparql", query_string={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                                "named-graph-uri": "urn:vr:graph:public"}, headers=JSON)
    assert [b["g"]["value"] for b in named.get_json()["results"]["bindings"]] == ["urn:vr:graph:public"]


def test_cors_preflight_for_direct_post(client):
    response = client.options("/sparql", headers={"Origin": "https://elders.example", "Access-Control-Request-Method":
                                                  "POST", "Access-Control-Request-Headers": "content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"


def test_service_is_refused_and_no_connection_is_made(client, two, listener):
    url, hits = listener
    variants = [f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
                f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
                f"select * where {{ sErViCe#comment\n<{url}> {{ ?s ?p ?o }} }}",
                f"PREFIX e: <{url}#> SELECT * WHERE {{ SERVICE e:x {{ ?s ?p ?o }} }}",
                f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
                f"SELECT * WHERE {{ \\u0053ERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"]
    for query in variants:
        for restricted in (False, True):
            response = client.get("/sparql/beheer" if restricted else "/sparql", query_string={"query": query})
            if restricted:
                assert response.status_code == 401
                continue
            assert response.status_code == 400 and response.mimetype == "application/problem+json", query
    assert hits == []


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { BIND(1 AS ?service) }",
    "PREFIX service: <http://example.org/> SELECT ?x WHERE { BIND(service:x AS ?x) }",
    "PREFIX ask: <http://example.org/> SELECT ?x WHERE { BIND(ask:y AS ?x) }",
])
def test_words_that_only_look_like_keywords_are_fine(client, two, query):
    response = client.get("/sparql", query_string={"query": query}, headers=JSON)
    assert response.status_code == 200 and response.get_json()["results"]["bindings"]


def test_void_negotiates_and_is_at_the_well_known_address(client, two):
    for path in ("/void", "/.well-known/void"):
        response = client.get(path, headers={"Accept": "application/ld+json"})
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        graph = rdflib.Graph().parse(data=response.data, format="json-ld")
        assert (None, rdflib.URIRef("http://rdfs.org/ns/void#sparqlEndpoint"), None) in graph
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_restricted_query_audit_names_the_vcodes_it_returned(client, keys, two):
    query = "SELECT ?v WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"
    response = client.get("/sparql/beheer", query_string={"query": query}, headers={**Keys.auth(keys.reader), **JSON})
    assert response.status_code == 200
    event = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"][0]
    assert event["operatie"] == "sparql" and event["vCodes"] == sorted(two) and "Vereniging" in event["query"]
    assert json.dumps(event)  # one JSON object per line
    # a long query is logged whole (padding does not push what it asks out of the log), with the register's
    # sequence and the answer's digest: an answer can name records in a form no pattern finds
    padded = "#" + "x" * 5000 + "\n" + query.replace("?v WHERE", "(REPLACE(STR(?v), 'V', 'W') AS ?w) WHERE")
    answer = client.get("/sparql/beheer", query_string={"query": padded}, headers={**Keys.auth(keys.reader), **JSON})
    event = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"][0]
    assert event["query"] == padded and event["sequentie"] >= 2
    assert event["antwoord"] == f"sha256:{hashlib.sha256(answer.data).hexdigest()} ({len(answer.data)} bytes)"


def test_a_restricted_answer_naming_no_record_is_audited_too(client, keys, two, settings):
    """A count over restricted data names no vereniging but is a restricted read: logged with its query;
    and when the log cannot be written the answer is not sent."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    response = client.get("/sparql/beheer", query_string={"query": query}, headers={**Keys.auth(keys.reader), **JSON})
    assert response.status_code == 200
    event = client.get("/audit", headers=Keys.auth(keys.admin)).get_json()["gebeurtenissen"][0]
    assert event["operatie"] == "sparql" and event["vCodes"] == [] and event["query"] == query
    log = settings.data_dir / "audit.log"
    log.rename(log.with_suffix(".bewaard"))
    log.mkdir()  # a directory where the file should be: unwritable, for root too
    refused = client.get("/sparql/beheer", query_string={"query": query}, headers={**Keys.auth(keys.reader), **JSON})
    assert refused.status_code == 503 and b'"n"' not in refused.data


@pytest.mark.parametrize("query", [
    "SELECT (<http://a.example/f>(1) AS ?x) {}",
    "SELECT ?v WHERE { ?v ?p ?o FILTER(<http://a.example/f>(?o)) }",
    "ASK { BIND(<http://www.w3.org/2005/xpath-functions#concat>('a', 'b') AS ?x) }",
    "CONSTRUCT { ?v <http://a.example/p> ?x } WHERE { ?v ?p ?o BIND(<http://a.example/f>(?o) AS ?x) }",
    "SELECT ?v WHERE { ?v ?p ?o } ORDER BY <http://a.example/f>(?o)",
])
def test_a_function_the_engine_does_not_know_is_a_400_not_a_500(client, keys, two, query):
    """Oxigraph refuses to plan a query with an unknown function (embedded: an exception in the worker;
    remote: a 500 of the store server); the client hears why, in Dutch, on both engines."""
    for path, headers in (("/sparql", {}), ("/sparql/beheer", Keys.auth(keys.reader))):
        accept = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
        response = client.get(path, query_string={"query": query}, headers={**accept, **headers})
        assert response.status_code == 400 and response.mimetype == "application/problem+json", response.data
        problem = response.get_json()
        assert problem["errors"] and "wordt niet ondersteund" in problem["detail"], problem
        assert "a.example/f" in problem["detail"] or "concat" in problem["detail"]


@pytest.mark.parametrize("request_kwargs", [
    {"method": "GET", "query_string": {"query": ""}},
    {"method": "POST", "data": {"query": "  \n"}},
    {"method": "POST", "data": b"", "content_type": "application/sparql-query"},
    {"method": "GET", "query_string": {"query": "# alleen commentaar\n# x"}},
])
def test_an_empty_query_is_called_empty_not_an_update(client, two, request_kwargs):
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == 400 and response.mimetype == "application/problem+json", response.data
    assert response.get_json()["detail"].startswith("De query is leeg"), response.get_json()
