"""JSON-LD round trips through pyld, other contexts, expanded form and Turtle writes."""

from __future__ import annotations

import json

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic

from app.publication.jsonld import context_document
from tests.conftest import BASE, Keys, valid_body


def own_loader(url, options=None):
    assert url.endswith("/contexten/vereniging.jsonld"), url
    return {"contextUrl": None, "documentUrl": url, "document": context_document()}


def nquads_graph(doc: dict) -> rdflib.Graph:
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": own_loader})
    return rdflib.Graph().parse(data=nquads, format="nt")


@pytest.mark.parametrize("auth", [False, True])
def test_jsonld_output_means_the_same_graph_as_turtle(client, post, keys, auth):
    vcode = post(valid_body()).get_json()["vCode"]
    headers = Keys.auth(keys.reader) if auth else {}
    doc = json.loads(client.get(f"/doc/vereniging/{vcode}.jsonld", headers=headers).data)
    turtle = client.get(f"/doc/vereniging/{vcode}.ttl", headers=headers).data
    assert isomorphic(nquads_graph(doc), rdflib.Graph().parse(data=turtle, format="turtle"))


def test_context_is_served_and_the_write_body_is_its_own_compact_form(client):
    served = client.get("/contexten/vereniging.jsonld")
    assert served.status_code == 200 and served.mimetype == "application/ld+json"
    body = valid_body()
    expanded = jsonld.expand(body, {"documentLoader": own_loader})
    compacted = jsonld.compact(expanded, context_document()["@context"], {"documentLoader": own_loader})
    compacted.pop("@context")
    original = {k: v for k, v in body.items() if k != "@context"}
    assert json.loads(json.dumps(compacted, sort_keys=True)) == json.loads(json.dumps(original, sort_keys=True))


def _read_back(client, response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    vcode = response.get_json()["vCode"]
    return json.loads(client.get(f"/doc/vereniging/{vcode}.jsonld").data)


def test_expanded_jsonld_is_accepted(client, post):
    expanded = jsonld.expand(valid_body(), {"documentLoader": own_loader})
    doc = _read_back(client, post(json.dumps(expanded[0]), content_type="application/ld+json"))
    assert doc["naam"] == "Volleybalclub De Smashers"
    assert sorted(doc["hoofdactiviteiten"]) == ["JGDW", "SPRT"]
    assert len(doc["locaties"]) == 2


@pytest.mark.parametrize("form", ["list", "graph", "flattened"])
def test_expanded_and_flattened_documents_as_tools_write_them_are_accepted(client, post, form):
    """pyld and jsonld.js write a list of nodes (expand) or a "@graph" (flatten), not one object."""
    expanded = jsonld.expand(valid_body(), {"documentLoader": own_loader})
    body = {"list": expanded, "graph": {"@graph": expanded},
            "flattened": jsonld.flatten(valid_body(), None, {"documentLoader": own_loader})}[form]
    doc = _read_back(client, post(json.dumps(body), content_type="application/ld+json"))
    assert doc["naam"] == "Volleybalclub De Smashers" and len(doc["locaties"]) == 2
    assert sorted(doc["hoofdactiviteiten"]) == ["JGDW", "SPRT"]


def test_a_list_of_two_verenigingen_is_refused(post):
    expanded = jsonld.expand(valid_body(), {"documentLoader": own_loader})
    other = jsonld.expand(valid_body(naam="Andere club"), {"documentLoader": own_loader})
    response = post(json.dumps(expanded + other), content_type="application/ld+json")
    assert response.status_code == 400 and "precies één vereniging" in response.get_json()["detail"]


def test_another_inline_context_is_accepted(client, post):
    body = {
        "@context": {"skos": "http://www.w3.org/2004/02/skos/core#",
                     "name": {"@id": "skos:prefLabel", "@language": "nl"},
                     "activity": {"@id": "http://www.w3.org/ns/regorg#orgActivity", "@type": "@id"}},
        "name": "Schaakclub Het Paard",
        "activity": "https://w3id.org/verenigingsregister/concept/hoofdactiviteit/HOSP",
    }
    doc = _read_back(client, post(json.dumps(body), content_type="application/ld+json"))
    assert doc["naam"] == "Schaakclub Het Paard"
    assert doc["hoofdactiviteiten"] == ["HOSP"]


def test_foreign_terms_in_another_context_are_unknown_properties(post):
    body = {"@context": {"name": {"@id": "http://www.w3.org/2004/02/skos/core#prefLabel", "@language": "nl"},
                         "color": "http://example.org/color"},
            "name": "Club", "color": "blauw"}
    response = post(json.dumps(body), content_type="application/ld+json")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["code"] == "onbekende-eigenschap"


TURTLE = """
@prefix fv: <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix regorg: <http://www.w3.org/ns/regorg#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix locn: <http://www.w3.org/ns/locn#> .
@prefix adres: <https://data.vlaanderen.be/ns/adres#> .
@prefix schema: <http://schema.org/> .
@prefix vrx: <https://w3id.org/verenigingsregister/ns#> .
@prefix act: <https://w3id.org/verenigingsregister/concept/hoofdactiviteit/> .
@prefix lt: <https://w3id.org/verenigingsregister/concept/locatietype/> .

[] a fv:FeitelijkeVereniging ;
   skos:prefLabel "Imkersbond De Honingbij"@nl ;
   schema:foundingDate "1987-04-12"^^<http://www.w3.org/2001/XMLSchema#date> ;
   regorg:orgActivity act:NMDW , act:LAVI ;
   org:hasSite [ dcterms:type lt:Activiteiten ; vrx:isPrimair true ;
                 locn:address [ locn:thoroughfare "Bijenweg"@nl ; adres:Adresvoorstelling.huisnummer "7" ;
                                locn:postCode "3000" ; adres:gemeentenaam "Leuven"@nl ; adres:land "België"@nl ] ] .
"""


def test_turtle_write_is_accepted(client, post):
    doc = _read_back(client, post(TURTLE.encode(), content_type="text/turtle"))
    assert doc["naam"] == "Imkersbond De Honingbij"
    assert doc["startdatum"] == "1987-04-12"
    assert sorted(doc["hoofdactiviteiten"]) == ["LAVI", "NMDW"]
    assert doc["locaties"][0]["adres"]["gemeente"] == "Leuven"
    assert doc["locaties"][0]["isPrimair"] is True


def test_turtle_is_validated_like_json(post):
    bad = TURTLE.replace("act:NMDW , act:LAVI", "act:NMDW , act:LAVI , act:SPRT , act:TOER")
    response = post(bad.encode(), content_type="text/turtle")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["path"] == "hoofdactiviteiten"


def test_an_escaped_control_character_in_turtle_is_refused_like_in_json(post):
    """Turtle may write a character as \\uXXXX; the escape is the character, held to the same text rules."""
    for escape, code in (("\\u0001", "stuurteken"), ("\\u202E", "ongeldig-teken")):
        bad = TURTLE.replace('"Imkersbond De Honingbij"@nl', f'"Imkersbond{escape}x"@nl')
        response = post(bad.encode(), content_type="text/turtle")
        assert response.status_code == 400, (escape, response.get_json())
        assert response.get_json()["errors"][0]["code"] == code and response.get_json()["errors"][0]["path"] == "naam"
    fine = TURTLE.replace('"Imkersbond De Honingbij"@nl', '"Imkersbond Caf\\u00E9"@nl')
    assert post(fine.encode(), content_type="text/turtle").status_code == 201



@pytest.mark.parametrize("change, said", [
    (("[] a fv:FeitelijkeVereniging", f"<{BASE}/id/vereniging/V0001001> a fv:FeitelijkeVereniging"),
     "krijgt haar IRI van het register"),  # it registered a new vereniging and dropped the IRI
    (('skos:prefLabel "Imkersbond De Honingbij"@nl ;',
      'skos:prefLabel "Imkersbond De Honingbij"@nl ; vrx:x << <urn:a> <urn:b> <urn:c> >> ;'), "RDF-star"),  # a 500
    (("lt:Activiteiten ; vrx:isPrimair true ;", "lt:Activiteiten ; vrx:isPrimair true ; locn:address <#adres> ] .\n"
      "<#adres> locn:thoroughfare \"Bijenweg\"@nl . [] org:hasSite [ "), "niet gelezen"),
])
def test_turtle_that_would_be_read_otherwise_than_written_is_refused(client, post, change, said):
    before = client.get("/api/zoeken").get_json()["totaal"]
    response = post(TURTLE.replace(*change).encode(), content_type="text/turtle")
    assert response.status_code == 400 and said in response.get_json()["detail"], response.get_json()
    assert client.get("/api/zoeken").get_json()["totaal"] == before


def test_triples_about_other_subjects_are_refused_not_dropped(client, post):
    """A body that also says something about another vereniging (or about nothing under this one) is refused
    whole, naming what would not be read; before, the rest was registered and the extra triples dropped."""
    other = f"<{BASE}/id/vereniging/V0001001> skos:prefLabel \"GEHACKT\"@nl .\n"
    response = post((TURTLE + other).encode(), content_type="text/turtle")
    assert response.status_code == 400
    assert f"<{BASE}/id/vereniging/V0001001>" in response.get_json()["detail"]
    expanded = jsonld.expand(valid_body(), {"documentLoader": own_loader})
    extra = {"@id": f"{BASE}/id/vereniging/V0001001", "http://www.w3.org/2004/02/skos/core#prefLabel": "GEHACKT"}
    response = post(json.dumps([*expanded, extra]), content_type="application/ld+json")
    assert response.status_code == 400  # two nodes that nothing points to: two verenigingen
    typed = [{**expanded[0], "@type": ["https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#FeitelijkeVereniging"]}]
    response = post(json.dumps([*typed, extra]), content_type="application/ld+json")
    assert response.status_code == 400 and "niet gelezen" in response.get_json()["detail"], response.get_json()
    assert client.get("/api/zoeken").get_json()["totaal"] == 0
