"""The OpenAPI document describes the write API, and schemathesis finds no server error in it."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import Keys, valid_body


def test_openapi_document_and_docs_page(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert ("POST", "/verenigingen") in operations
    assert ("PATCH", "/verenigingen/{vCode}/vertegenwoordigers/{id}") in operations
    page = client.get("/docs/api")
    assert page.status_code == 200 and "wijzigBasisgegevens" in page.get_data(as_text=True)


def test_every_write_route_is_documented(app, client):
    """Each route that changes something is in /openapi.json (so clients and the fuzz tests know it);
    the SPARQL protocol endpoints are described by their service description instead."""
    spec = client.get("/openapi.json").get_json()
    documented = {(method.upper(), re.sub(r"\{[^}]+\}", "x", path))
                  for path, operations in spec["paths"].items() for method in operations}
    missing = []
    for rule in app.url_map.iter_rules():
        pattern = re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", rule.rule) + "$")
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            if not rule.rule.startswith("/sparql") and not any(
                    m == method and pattern.match(path) for m, path in documented):
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def test_schemathesis_finds_no_server_errors(app, keys):
    """Every operation, fuzzed from its OpenAPI description, as an admin (all roles): no 5xx."""
    client = app.test_client()
    for naam in ("Eerste vereniging", "Tweede club"):  # so generated V-codes sometimes hit real records
        client.post("/verenigingen", json=valid_body(naam=naam), headers=Keys.auth(keys.initiator))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call(headers=Keys.auth(keys.admin))
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.as_curl_command()}\n{response.text[:300]}")

        run()
    assert operations >= 20
    assert failures == []
