"""Privacy canary: personal data registered through the API never shows up on any public surface.

Generic on purpose: the crawl starts from every GET route of the app (so surfaces added later are
included), follows every link in HTML and every IRI under the base in RDF/JSON, asks for every
representation, and runs the broad SPARQL queries. Nothing is fetched with a key.
"""

from __future__ import annotations

import re
from collections import deque

from tests.conftest import BASE, Keys, valid_body

CANARIES = {
    "insz": "93051822361", "voornaam": "Kanarievogel", "achternaam": "Piepzanger",
    "email": "kanarie.piepzanger@geheim-kanarie.be", "telefoon": "+32 470 99 88 71", "mobiel": "+32 470 99 88 72",
    "iban": "BE75 7320 9876 5451",
}
FORMATS = ["text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml",
           "application/n-quads", "application/sparql-results+json", "text/csv", "*/*"]
QUERIES = ["SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "SELECT * WHERE { ?s ?p ?o }",
           "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
           "SELECT * WHERE { GRAPH <urn:vr:graph:restricted> { ?s ?p ?o } }",
           "SELECT * FROM <urn:vr:graph:restricted> WHERE { ?s ?p ?o }",
           "SELECT * WHERE { GRAPH <urn:vr:graph:versions:restricted> { ?s ?p ?o } }"]
LINK = re.compile(r'(?:href|src)="([^"#]+)"|<(' + re.escape(BASE) + r'[^>\s]*)>|"(' + re.escape(BASE) + r'[^"\s]*)"')


def leaked(body: str) -> list[str]:
    digits = re.sub(r"\D", "", body)
    found = [name for name, value in CANARIES.items() if value in body]
    if CANARIES["insz"] in digits:
        found.append("insz (digits)")
    if "BE75732098765451" in body.replace(" ", ""):
        found.append("iban (compact)")
    return found


def register_canaries(client, keys) -> list[str]:
    auth = Keys.auth(keys.initiator)
    person = {k: CANARIES[k] for k in ("insz", "voornaam", "achternaam", "email", "telefoon", "mobiel")}
    first = client.post("/verenigingen", json=valid_body(vertegenwoordigers=[dict(person, isPrimair=True)]),
                        headers=auth).get_json()["vCode"]
    second = client.post("/verenigingen", json=valid_body(naam="Kanarieclub", locaties=[{
        "locatietype": "Activiteiten", "adres": {"straatnaam": "Kouter", "huisnummer": "2", "postcode": "8500",
                                                "gemeente": "Kortrijk", "land": "België"}}]), headers=auth)
    vcode2 = second.get_json()["vCode"]
    assert client.post(f"/verenigingen/{vcode2}/bankrekeningnummers", headers=auth,
                       json={"iban": CANARIES["iban"], "titularissen": [CANARIES["achternaam"]]}).status_code == 201
    assert client.patch(f"/verenigingen/{first}", json={"korteNaam": "Kanarie"},
                        headers={**auth, "Content-Type": "application/merge-patch+json"}).status_code == 200
    return [first, vcode2]


def seeds(app, vcodes: list[str]) -> set[str]:
    found = {"/", "/ldes", "/void", "/sparql", "/openapi.json", "/docs/api"}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static"):
            found.add(rule.rule)
    for vcode in vcodes:
        found |= {f"/id/vereniging/{vcode}", f"/doc/vereniging/{vcode}", f"/doc/vereniging/{vcode}/historiek"}
    for fmt in ("nq", "ttl", "jsonld", "csv"):
        found.add(f"/dumps/verenigingen.{fmt}")
    found |= {"/ldes/verenigingen", "/ldes/verenigingen/tijd", "/ldes/verenigingen/gemeenten"}
    return found


def test_no_canary_on_any_public_surface(app, client, keys):
    vcodes = register_canaries(client, keys)
    public = app.test_client()  # never sends a key
    todo, seen, checked = deque(sorted(seeds(app, vcodes))), set(), 0
    problems = []
    while todo and checked < 3000:
        path = todo.popleft()
        if path in seen:
            continue
        seen.add(path)
        for accept in FORMATS:
            response = public.get(path, headers={"Accept": accept}, follow_redirects=True)
            body = response.get_data(as_text=True)
            checked += 1
            for leak in leaked(body):
                problems.append(f"{path} [{accept}] → {leak}")
            if response.status_code != 200:
                continue
            for match in LINK.finditer(body):
                link = next(g for g in match.groups() if g)
                if link.startswith(BASE):
                    link = link[len(BASE):] or "/"
                if link.startswith("/") and not link.startswith("//") and link not in seen:
                    todo.append(link.split("#")[0])
    for query in QUERIES:
        for accept in ("application/sparql-results+json", "text/csv", "text/turtle", "application/n-triples"):
            response = public.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
            problems += [f"SPARQL {query} [{accept}] → {leak}" for leak in leaked(response.get_data(as_text=True))]
    assert checked > 200, f"the crawl reached too little ({checked} responses)"
    assert problems == []


def test_canaries_are_really_there_for_a_key(client, keys):
    """The test above could pass vacuously if the canaries were never stored: check they are."""
    vcodes = register_canaries(client, keys)
    restricted = client.get(f"/doc/vereniging/{vcodes[0]}.ttl", headers=Keys.auth(keys.reader)).get_data(as_text=True)
    assert CANARIES["insz"] in restricted and CANARIES["achternaam"] in restricted
    bank = client.get(f"/doc/vereniging/{vcodes[1]}.ttl", headers=Keys.auth(keys.reader)).get_data(as_text=True)
    assert CANARIES["iban"] in bank
