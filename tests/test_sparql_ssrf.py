"""SERVICE can never make the register call out: refused on the parsed query, and the query
processes have no network. A real loopback listener records every connection; it must see none."""

from __future__ import annotations

import multiprocessing

import pytest
import requests

from app.store.sandbox import forbid_connections, isolate
from tests.conftest import Keys, free_port, start_store_server, valid_body

# {url} is the listener; {body} is a graph pattern holding the SERVICE call.
SERVICE_FORMS = [
    "?s ?p ?o .SERVICE <{url}> {{ ?x ?y ?z }}",
    "SERVICE SILENT <{url}> {{ ?x ?y ?z }}",
    "sErViCe#comment\n<{url}> {{ ?x ?y ?z }}",
    "\\u0053ERVICE <{url}> {{ ?x ?y ?z }}",
    "\\U00000053ERVICE SILENT <{url}> {{ ?x ?y ?z }}",
    "{{ {{ {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }} }}",
    "BIND(<{url}> AS ?e) SERVICE ?e {{ ?x ?y ?z }}",
    "VALUES ?e {{ <{url}> }} SERVICE SILENT ?e {{ ?x ?y ?z }}",
    "OPTIONAL {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
    "?s ?p ?o MINUS {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
    "{{ SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }}",
    "{{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
    "GRAPH ?g {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
]
# A parser differential: per SPARQL the \\u000A ends the comment, so BIND( opens a string that holds
# the SERVICE text; pyoxigraph 0.5 does not expand escapes in comments, so given the raw text it skips
# the comment and calls SERVICE. The endpoint runs the expanded text: both read one and the same query.
DIFFERENTIAL = "SELECT * WHERE {{ # \\u000A BIND( \"\"\"\nSERVICE <{url}> {{ ?x ?y ?z }}\n# \"\"\" AS ?q)\n}}"
QUERY_FORMS = [
    "PREFIX e: <{url}#>\nSELECT * WHERE {{ {body} }}",
    "ASK {{ {body} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {body} }}",
    "DESCRIBE ?s WHERE {{ {body} }}",
]
LEAKS = ("os error", "connection", "refused", "127.0.0.1", "content-type", "error", "traceback")


def _send(client, path: str, how: str, query: str, headers: dict):
    if how == "GET":
        return client.get(path, query_string={"query": query}, headers=headers)
    if how == "form":
        return client.post(path, data={"query": query}, headers=headers)
    return client.post(path, data=query.encode("utf-8"), content_type="application/sparql-query", headers=headers)


def test_every_spelling_of_service_is_refused_and_nothing_connects(client, post, keys, listener, register):
    url, hits = listener
    register.settings.sparql_rate_limit = ""  # hundreds of queries in seconds: not what this test is about
    post(valid_body())
    requests_sent = 0
    for body in SERVICE_FORMS:
        for form in QUERY_FORMS:
            query = form.format(url=url, body=body.format(url=url))
            for how in ("GET", "form", "direct"):
                for path, headers in (("/sparql", {}), ("/sparql/beheer", Keys.auth(keys.reader))):
                    response = _send(client, path, how, query, headers)
                    requests_sent += 1
                    assert response.status_code == 400, (query, response.get_data(as_text=True))
                    problem = response.get_json()
                    assert problem["type"].endswith("/sparql-service"), (query, problem)
                    assert not any(word in problem["detail"].lower() for word in LEAKS), problem
    assert requests_sent == len(SERVICE_FORMS) * len(QUERY_FORMS) * 6
    # rdflib 7.6 cannot parse SERVICE after an IRI with a '#' on the same line: refused as SERVICE all the same
    for quirk in (f"SELECT * WHERE {{ ?s ?p <{url}#> SERVICE <{url}> {{}} }}",
                  f"SELECT * WHERE {{ ?s a <{url}#Vereniging> .SERVICE <{url}> {{ ?x ?y ?z }} }}"):
        refused = client.get("/sparql", query_string={"query": quirk})
        assert refused.status_code == 400 and refused.get_json()["type"].endswith("/sparql-service")
    assert hits == []


def test_service_as_a_word_elsewhere_is_still_fine(client, post, listener):
    url, hits = listener
    post(valid_body())
    differential = client.get("/sparql", query_string={"query": DIFFERENTIAL.format(url=url)},
                              headers={"Accept": "application/sparql-results+json"})
    assert differential.status_code == 200, differential.get_data(as_text=True)
    assert "SERVICE" in differential.get_json()["results"]["bindings"][0]["q"]["value"]
    for query in ("SELECT ?service WHERE { BIND('SERVICE <" + url + "> {}' AS ?service) }",
                  "PREFIX service: <" + url + "#>\nSELECT ?x { BIND(service:x AS ?x) }\n# SERVICE <" + url + "> {}"):
        response = client.get("/sparql", query_string={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)
    assert hits == []


SANDBOXES = {"namespace": isolate, "seccomp": forbid_connections, "none": lambda: False}


def _service_call(url: str, sandbox: str, outcome) -> None:
    """In a fresh process (like a query worker): optionally leave the network, then let the engine
    itself run a SERVICE call — no parse check in between."""
    import pyoxigraph

    outcome.put(("isolated", SANDBOXES[sandbox]()))
    try:
        rows = list(pyoxigraph.Store().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }}"))
        outcome.put(("rows", len(rows)))
    except Exception as exc:  # noqa: BLE001 - the error itself is what the test looks at
        outcome.put(("error", type(exc).__name__))


@pytest.mark.parametrize("sandbox", ["none", "namespace", "seccomp"])
def test_query_processes_cannot_reach_the_network(listener, sandbox):
    """Defence in depth: even a SERVICE call that got past the parse check cannot connect from a query
    process (its own network namespace; where the kernel gives none, a seccomp filter). The control run
    (none) shows that the engine would call out otherwise."""
    url, hits = listener
    context = multiprocessing.get_context("spawn")
    outcome = context.Queue()
    process = context.Process(target=_service_call, args=(url, sandbox, outcome))
    process.start()
    process.join(timeout=60)
    results = dict(outcome.get(timeout=5) for _ in range(2))
    if sandbox != "none":
        assert results["isolated"] is True
        assert "error" in results and hits == []
    else:
        assert len(hits) == 1 and hits[0].startswith((b"POST", b"GET"))


def _ask_store_server(port: int, url: str) -> requests.Response:
    """A SERVICE query sent to the store server itself, as if it had got past the register's check."""
    return requests.post(f"http://127.0.0.1:{port}/query", timeout=30,
                         data={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }}"},
                         headers={"Accept": "application/sparql-results+json"})


def test_the_store_server_cannot_call_out(listener, tmp_path):
    """`vr store-server` (the remote engine's server) keeps listening but cannot connect anywhere; the
    same `oxigraph serve` started without it (the control) does call the listener."""
    url, hits = listener
    control_port, port = free_port(), free_port()
    control = start_store_server(tmp_path / "controle", control_port, sandboxed=False)
    try:
        assert _ask_store_server(control_port, url).status_code == 200 and len(hits) == 1
    finally:
        control.terminate()
        control.wait(timeout=10)
    server = start_store_server(tmp_path / "opslag", port)
    try:
        answer = _ask_store_server(port, url)  # oxigraph streams: a 200 whose body ends in the error
        assert len(hits) == 1 and "not permitted" in answer.text and '"bindings":[{' not in answer.text, answer.text
        assert requests.get(f"http://127.0.0.1:{port}/query", params={"query": "ASK {}"},
                            timeout=10).status_code == 200  # still serving
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_check_only_pool_refuses_service_and_expands_escapes():
    """For engines that evaluate elsewhere (the remote store server) the endpoint forwards only what a
    checking worker returned: SERVICE refused there, escapes already expanded."""
    from app.store.query_workers import QueryFailed, QueryWorkers

    checker = QueryWorkers(None, workers=1, timeout=20)
    try:
        checked = checker.check("SELECT ?x WHERE { BIND('\\u0041' AS ?x) }")
        assert checked.kind == "SELECT" and "'A'" in checked.text
        for query in SERVICE_FORMS:
            with pytest.raises(QueryFailed) as refused:
                checker.check("ASK { " + query.format(url="http://127.0.0.1:9/x").replace("{{", "{")
                              .replace("}}", "}") + " }")
            assert refused.value.slug == "sparql-service", query
        with pytest.raises(QueryFailed) as update:
            checker.check("DELETE WHERE { ?s ?p ?o }")
        assert update.value.slug == "sparql-alleen-lezen"
    finally:
        checker.close()


def test_only_text_that_cannot_spell_service_skips_the_parse():
    """The remote engine forwards a query unparsed only when its text cannot hold SERVICE (nor an escape
    that could spell it): every attack form, and every RDF 1.2 form, still goes through the parse."""
    from app.validation.sparql_query import unparsed

    url = "http://127.0.0.1:9/x"
    for body in SERVICE_FORMS:
        for form in QUERY_FORMS:
            assert unparsed(form.format(url=url, body=body.format(url=url))) is None, (form, body)
    assert unparsed(DIFFERENTIAL.format(url=url)) is None
    for rdf12 in ("SELECT * WHERE { << ?s ?p ?o >> ?x ?y }", "SELECT (TRIPLE(?s, ?p, ?o) AS ?t) { ?s ?p ?o }",
                  "SELECT * { ?s ?p ?o {| ?x ?y |} }", "SELECT ('\\u0041' AS ?a) {}"):
        assert unparsed(rdf12) is None, rdf12
    plain = "SELECT (COUNT(?v) AS ?n) WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"
    assert unparsed(plain).text == plain
