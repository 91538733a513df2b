"""Dereferencing: 303 from /id to /doc, content negotiation, caching headers, privacy."""

from __future__ import annotations

import json

import pytest
import rdflib

from tests.conftest import BASE, Keys, valid_body

FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "rdf": ("application/rdf+xml", "xml"),
}
PERSONAL = ("85073003328", "Peeters", "an.peeters@example.be", "470 12 34 56", "Anneke")


@pytest.fixture
def vcode(post) -> str:
    return post(valid_body()).get_json()["vCode"]


def parse(body: bytes, rdflib_format: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    if rdflib_format == "json-ld":
        graph.parse(data=body, format="json-ld", base=BASE)  # our context is served, rdflib resolves inline
    else:
        graph.parse(data=body, format=rdflib_format)
    return graph


def test_id_redirects_303_to_doc(client, vcode):
    response = client.get(f"/id/vereniging/{vcode}?format=ttl")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/doc/vereniging/{vcode}?format=ttl"


@pytest.mark.parametrize("key", FORMATS)
def test_every_format_by_accept_extension_and_query(client, vcode, key):
    media_type, rdflib_format = FORMATS[key]
    by_accept = client.get(f"/doc/vereniging/{vcode}", headers={"Accept": media_type})
    by_extension = client.get(f"/doc/vereniging/{vcode}.{key}")
    by_query = client.get(f"/doc/vereniging/{vcode}?format={key}")
    for response in (by_accept, by_extension, by_query):
        assert response.status_code == 200
        assert response.mimetype == media_type
        assert "Accept" in response.headers["Vary"]
        assert response.headers["ETag"] == f'W/"1-{key}"'
    assert by_accept.data == by_extension.data == by_query.data
    if key != "jsonld":
        graph = parse(by_accept.data, rdflib_format)
        subject = rdflib.URIRef(f"{BASE}/id/vereniging/{vcode}")
        assert graph.value(subject, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")) == \
            rdflib.Literal("Volleybalclub De Smashers", lang="nl")


def test_html_is_the_default_for_browsers(client, vcode):
    response = client.get(f"/doc/vereniging/{vcode}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Volleybalclub De Smashers" in page and vcode in page
    assert "Sport" in page and "Jeugdwerk" in page  # hoofdactiviteiten shown by label
    assert "Driepikkelstraat 10 bus B, 9030 Gent, België" in page


def test_unsupported_media_type_is_406_problem(client, vcode):
    response = client.get(f"/doc/vereniging/{vcode}", headers={"Accept": "application/pdf"})
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"
    assert client.get(f"/doc/vereniging/{vcode}?format=pdf").status_code == 406


def test_unknown_extension_and_unknown_codes_are_404_problems(client, vcode):
    for url in (f"/doc/vereniging/{vcode}.docx", "/doc/vereniging/V0009999", "/id/vereniging/V0009999x",
                "/doc/vereniging/V0000999", "/doc/vereniging/onzin"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"


def test_conditional_get_answers_304(client, vcode):
    etag = client.get(f"/doc/vereniging/{vcode}.ttl").headers["ETag"]
    response = client.get(f"/doc/vereniging/{vcode}.ttl", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


def test_history_and_versions_answer_304_and_a_keyed_body_has_its_own_tag(client, keys, vcode):
    """A harvester revalidates the history and the (immutable) versions too; the body with restricted data is
    another representation than the public one, so it has its own tag."""
    for path in (f"/doc/vereniging/{vcode}/historiek.ttl", f"/doc/vereniging/{vcode}/versie/1.ttl"):
        etag = client.get(path).headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag, path
    public = client.get(f"/doc/vereniging/{vcode}.ttl").headers["ETag"]
    keyed = client.get(f"/doc/vereniging/{vcode}.ttl", headers=Keys.auth(keys.reader)).headers["ETag"]
    assert keyed != public
    assert client.get(f"/doc/vereniging/{vcode}.ttl", headers={"If-None-Match": keyed}).status_code == 200
    patched = client.patch(f"/verenigingen/{vcode}", json={"korteNaam": "Smash"}, headers={
        **Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json", "If-Match": keyed})
    assert patched.status_code == 200, patched.get_json()  # the keyed tag names the version too


def test_each_format_has_its_own_etag(client, vcode):
    """A cache revalidating its Turtle copy must not be told that its tag is also the JSON-LD's."""
    turtle = client.get(f"/doc/vereniging/{vcode}.ttl").headers["ETag"]
    other = client.get(f"/doc/vereniging/{vcode}.jsonld", headers={"If-None-Match": turtle})
    assert other.status_code == 200 and other.headers["ETag"] != turtle


def test_a_read_etag_is_accepted_as_if_match(client, keys, vcode):
    etag = client.get(f"/doc/vereniging/{vcode}.jsonld").headers["ETag"]
    headers = {**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"}
    changed = client.patch(f"/verenigingen/{vcode}", json={"korteNaam": "Smash"}, headers={**headers, "If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] == 'W/"2"'
    stale = client.patch(f"/verenigingen/{vcode}", json={"korteNaam": "Smash 2"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412


@pytest.mark.parametrize("key", [*FORMATS, "html"])
def test_public_read_never_shows_personal_data(client, vcode, key):
    body = client.get(f"/doc/vereniging/{vcode}.{key}").get_data(as_text=True)
    for secret in PERSONAL:
        assert secret not in body, (key, secret)
    assert "heeftVertegenwoordiger" not in body and "vertegenwoordiger" not in body.lower().replace(
        "vertegenwoordigers", "")


@pytest.mark.parametrize("key", [*FORMATS, "html"])
def test_initiator_key_shows_everything(client, keys, vcode, key):
    response = client.get(f"/doc/vereniging/{vcode}.{key}", headers=Keys.auth(keys.reader))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_data(as_text=True)
    for secret in ("85073003328", "Peeters"):
        assert secret in body, key


def test_unknown_key_on_read_is_401_not_public(client, vcode, keys):
    """On every surface, also those that serve only public data: a client whose key expired hears it."""
    for path in (f"/doc/vereniging/{vcode}.ttl", "/sparql?query=ASK%7B%7D", "/api/zoeken?q=club", "/ldes/verenigingen",
                 "/dumps/verenigingen.nq", "/zoeken", "/"):
        for header in ("Bearer wrong", "Basic d3Jvbmc=", "Digest x"):
            response = client.get(path, headers={"Authorization": header})
            assert response.status_code == 401 and response.mimetype == "application/problem+json", (path, header)
            assert response.headers["WWW-Authenticate"]
        assert client.get(path, headers=Keys.auth(keys.reader)).status_code == 200, path
    assert client.options("/sparql", headers={"Origin": "https://elders.example",
                                               "Access-Control-Request-Method": "GET"}).status_code < 300


def test_jsonld_is_compact_with_our_context(client, vcode):
    doc = json.loads(client.get(f"/doc/vereniging/{vcode}.jsonld").data)
    assert doc["@context"] == f"{BASE}/contexten/vereniging.jsonld"
    assert doc["vCode"] == vcode
    assert doc["naam"] == "Volleybalclub De Smashers"
    assert sorted(doc["hoofdactiviteiten"]) == ["JGDW", "SPRT"]
    assert doc["werkingsgebieden"] == ["BE23444021"]
    assert doc["doelgroep"]["minimumleeftijd"] == 12
    assert [loc["locatietype"] for loc in doc["locaties"]] == ["Activiteiten", "Correspondentie"]
    assert doc["locaties"][0]["adres"]["gemeente"] == "Gent"
    assert {c["contactgegeventype"] for c in doc["contactgegevens"]} == {"E-mail", "Telefoon", "Website",
                                                                          "SocialMedia"}
    assert "vertegenwoordigers" not in doc


@pytest.mark.parametrize("method, url, headers, status", [
    ("GET", "/bestaat/niet", {}, 404),
    ("PUT", "/verenigingen/V0001001", {}, 405),
    ("GET", "/doc/vereniging/V0001001", {"Accept": "foo/bar"}, 406),
    ("POST", "/sparql", {"Content-Type": "application/sparql-update"}, 405),
])
def test_every_problem_has_an_errors_list(client, vcode, method, url, headers, status):
    """The README promises `errors` on any problem+json; it was only on 400s."""
    response = client.open(url, method=method, headers=headers, data="INSERT DATA {}" if method == "POST" else None)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["errors"] and problem["errors"][0]["message"] == problem["detail"]
