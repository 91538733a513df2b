"""Privacy canary: personal data registered through the API never shows up on any public surface.

Generic on purpose: the crawl starts from every GET route of the app (so surfaces added later are
included), follows every link in HTML and every IRI under the base in RDF/JSON, asks for every
representation, and runs the broad SPARQL queries. Nothing is fetched with a key.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import unquote

from werkzeug.exceptions import HTTPException

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


def _spaced(digits: str) -> re.Pattern:
    """The digits with any separators between them (stored forms differ: +32470…, 0470 99 …, 93.05.18-…)."""
    return re.compile(r"[\s./\-]?".join(re.escape(d) for d in digits))


# What the register may store or render for each canary, in every notation it might use.
DETECTORS = {
    "insz": _spaced(CANARIES["insz"]),
    "voornaam": re.compile(CANARIES["voornaam"], re.I),
    "achternaam": re.compile(CANARIES["achternaam"], re.I),
    "email": re.compile(re.escape(CANARIES["email"].split("@")[0]), re.I),
    "telefoon": _spaced("470998871"),
    "mobiel": _spaced("470998872"),
    "iban": _spaced("75732098765451"),
}


def text_of(response) -> str:
    """What a response says, as text: a workbook's cells (every sheet), anything else its body."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(" ".join(str(v) for v in row if v is not None)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    return response.get_data(as_text=True)


def leaked(body: str) -> list[str]:
    text = body + "\n" + unquote(body)
    return [name for name, pattern in DETECTORS.items() if pattern.search(text)]


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


# Values for route arguments, so routes with parameters are fetched even before anything links to them.
ARGUMENTS = {"fmt": ["nq", "ttl", "jsonld", "csv", "json", "nt"], "ext": ["ttl", "jsonld", "nt", "rdf", "html"],
             "stream": ["verenigingen"], "k": ["1", "2"], "name": ["hoofdactiviteiten"],
             "job": ["onbekende-taak"], "subscription_id": ["0123456789abcdef"], "sequence": ["1", "2"],
             "index": ["0"]}


def filled_rules(app, vcodes: list[str]) -> set[str]:
    """Every GET route with each argument filled from ARGUMENTS (or the canary vcodes for `code`)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/static"):
            continue
        paths = [rule.rule]
        for argument in rule.arguments:
            values = vcodes if argument == "code" else ARGUMENTS.get(argument, [])
            paths = [re.sub(r"<[^>]*\b" + argument + ">", value, p) for p in paths for value in values]
        found |= set(paths)
    return found


def rule_of(adapter, path: str) -> str | None:
    try:
        return adapter.match(path.split("?")[0], method="GET", return_rule=True)[0].rule
    except HTTPException:
        return None


def covered_rules(app, paths: set[str]) -> set[str]:
    adapter = app.url_map.bind("register.test")
    return {rule for rule in (rule_of(adapter, path) for path in paths) if rule}


PER_ROUTE = 60  # URLs fetched per route (search facets and pages are endless; each route is sampled)


def test_no_canary_on_any_public_surface(app, client, keys):
    vcodes = register_canaries(client, keys)
    public = app.test_client()  # never sends a key
    todo, seen, checked = deque(sorted(seeds(app, vcodes) | filled_rules(app, vcodes))), set(), 0
    problems = []
    adapter, per_route = app.url_map.bind("register.test"), Counter()
    while todo:
        path = todo.popleft()
        if path in seen:
            continue
        rule = rule_of(adapter, path)
        per_route[rule] += 1
        if per_route[rule] > PER_ROUTE:
            continue
        seen.add(path)
        for accept in FORMATS:
            response = public.get(path, headers={"Accept": accept}, follow_redirects=True)
            body = text_of(response)
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
    # Generic coverage: a GET route added later is crawled too — or this fails until ARGUMENTS can fill it.
    missing = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/static")}
    missing -= covered_rules(app, seen)
    assert missing == set(), f"routes the crawl never fetched (extend ARGUMENTS): {sorted(missing)}"


def test_canaries_are_really_there_for_a_key(client, keys):
    """The test above could pass vacuously if the canaries were never stored: check they are."""
    vcodes = register_canaries(client, keys)
    restricted = client.get(f"/doc/vereniging/{vcodes[0]}.ttl", headers=Keys.auth(keys.reader)).get_data(as_text=True)
    assert CANARIES["insz"] in restricted and CANARIES["achternaam"] in restricted
    bank = client.get(f"/doc/vereniging/{vcodes[1]}.ttl", headers=Keys.auth(keys.reader)).get_data(as_text=True)
    assert CANARIES["iban"] in bank
    # …and the detectors recognise every canary in the form the register really stores and renders.
    for fmt in ("ttl", "jsonld", "html"):
        shown = "".join(client.get(f"/doc/vereniging/{v}.{fmt}", headers=Keys.auth(keys.reader)).get_data(as_text=True)
                        for v in vcodes)
        assert set(leaked(shown)) == set(DETECTORS), fmt
    query = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    restricted = client.get("/sparql/beheer", query_string={"query": query}, headers=Keys.auth(keys.reader))
    assert set(leaked(restricted.get_data(as_text=True))) == set(DETECTORS)
