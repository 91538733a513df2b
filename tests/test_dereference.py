"""Every IRI the register mints dereferences, every concept it references is published, CORS everywhere."""

from __future__ import annotations

import rdflib

from app.namespaces import PROJECT
from tests.conftest import BASE, Keys, valid_body


def full_record(client, keys) -> None:
    auth = Keys.auth(keys.initiator)
    assert client.post("/verenigingen", json=valid_body(), headers=auth).status_code == 201
    assert client.post("/verenigingen", json=valid_body(naam="Koepel"), headers=auth).status_code == 201
    for path, data in (("lidmaatschappen", {"andereVereniging": "V0001002", "van": "2016-01-01"}),
                       ("erkenningen", {"ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning sportvereniging",
                                        "startdatum": "2024-01-01", "einddatum": "2026-12-31"}),
                       ("bankrekeningnummers", {"iban": "BE71096123456769", "titularissen": ["VC Smashers"]})):
        assert client.post(f"/verenigingen/V0001001/{path}", json=data, headers=auth).status_code == 201
    client.patch("/verenigingen/V0001001", json={"korteNaam": "Smash"},
                 headers={**auth, "Content-Type": "application/merge-patch+json"})


def graph(client, url: str, headers: dict | None = None) -> rdflib.Graph:
    answer = client.get(url, headers={"Accept": "text/turtle", **(headers or {})}, follow_redirects=True)
    assert answer.status_code == 200, (url, answer.status_code, answer.get_data(as_text=True)[:300])
    return rdflib.Graph().parse(data=answer.data, format="turtle")


def local(iri: str) -> str | None:
    """The path we serve an IRI at: our base, or the project namespace (w3id) that redirects to it."""
    for prefix in (BASE, PROJECT[:-1]):
        if iri.startswith(prefix + "/"):
            return iri[len(prefix):]
    return None


def test_every_minted_iri_and_referenced_concept_dereferences(client, keys):
    full_record(client, keys)
    key = Keys.auth(keys.reader)
    documents = [("/doc/vereniging/V0001001", key), ("/doc/vereniging/V0001002", {}),
                 ("/doc/vereniging/V0001001/historiek", key)]
    documents += [(f"/doc/vereniging/V0001001/versie/{n}", key) for n in range(1, 6)]
    iris = set()
    for url, headers in documents:
        for triple in graph(client, url, headers):
            iris |= {str(term) for term in triple if isinstance(term, rdflib.URIRef) and local(str(term))}
    kinds = set()
    for iri in sorted(iris):
        path = local(iri)
        described = graph(client, path, key)
        assert (rdflib.URIRef(iri), None, None) in described, iri
        parts = path.split("#")[0].split("/")
        kinds.add("/".join(parts[:3]) if parts[1] == "concept" else
                  "/".join(p for p in parts if not p.isdigit() and not p.startswith(("V0", "OVO"))))
    assert {"/id/vereniging/versie/activiteit", "/id/vereniging/locatie/adres", "/id/vereniging/contactgegeven",
            "/id/vereniging/identificator/vcode", "/id/vereniging/erkenning/periode",
            "/id/vereniging/vertegenwoordiger", "/concept/ipdcproduct"} <= kinds, kinds
    assert client.get("/id/vereniging/V0001001/locatie/99").status_code == 404
    assert client.get("/id/vereniging/V0001001/vertegenwoordiger/1").status_code == 404  # restricted: key only


def test_public_read_surfaces_allow_cors_and_link_the_right_way(client, keys):
    full_record(client, keys)
    thing = client.get("/id/vereniging/V0001001")
    assert thing.status_code == 303 and thing.headers["Access-Control-Allow-Origin"] == "*"
    assert thing.headers["Link"] == '</doc/vereniging/V0001001>; rel="describedby"'
    for url in ("/doc/vereniging/V0001001", "/doc/vereniging/V0001001/historiek", "/doc/vereniging/V0001001/versie/1",
                "/id/vereniging/V0001001/versie/1", "/id/vereniging/V0001001/locatie/1"):
        answer = client.get(url, headers={"Accept": "text/turtle"})
        assert answer.headers["Access-Control-Allow-Origin"] == "*", url
    doc = client.get("/doc/vereniging/V0001001", headers={"Accept": "text/turtle"})
    assert doc.headers["Link"] == f'<{BASE}/id/vereniging/V0001001>; rel="about"'


def test_a_part_iri_with_characters_no_iri_has_is_404_and_never_reaches_a_query(client, keys):
    """A path like '…/x> ?p ?o } UNION { ?s ?p ?o } } #' used to be pasted into the remote engine's query
    (a yes/no oracle over every graph, restricted ones included); characters no IRI may hold gave a 500."""
    full_record(client, keys)
    injected = "x%3E%20%3Fp%20%3Fo%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%7D%20%23"
    for tail in (injected, "%20", "%00", "%0a", "%22", "%7B", "%5C", "a%3Eb", "versie/%20"):
        response = client.get(f"/id/vereniging/V0001001/{tail}")
        assert response.status_code == 404, (tail, response.status_code)
        assert response.mimetype == "application/problem+json"
