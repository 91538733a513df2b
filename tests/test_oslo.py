"""Every demo record, public and with a key, against the official OSLO Feitelijke Verenigingen AP shapes."""

from __future__ import annotations

import re

import pyshacl
import rdflib

from app.cli.main import load_demo
from app.domain import codelists
from app.paths import ROOT
from app.validation import shacl
from tests.conftest import Keys, valid_body

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SHAPES = ROOT / "shapes" / "external" / "oslo-fv-ap-2021-06-22-SHACL.ttl"
DEFECTS_DOC = ROOT / "docs" / "oslo-profiel.md"


def documented_defects() -> set[tuple[str, str]]:
    """(path, constraint) pairs from the table in docs/oslo-profiel.md."""
    return set(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", DEFECTS_DOC.read_text(encoding="utf-8"), re.M))


def violations(data: rdflib.Graph, shapes: rdflib.Graph) -> set[tuple[str, str, str]]:
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    found = set()
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        path = data.namespace_manager.normalizeUri(report.value(result, SH.resultPath))
        component = report.namespace_manager.normalizeUri(report.value(result, SH.sourceConstraintComponent))
        found.add((path, component.replace("shacl:", "sh:"), str(report.value(result, SH.focusNode))))
    return found


def test_every_record_conforms_to_the_oslo_profile_except_its_documented_defects(client, register, keys):
    count = load_demo(register, quiet=True)
    auth = Keys.auth(keys.initiator)
    assert client.post("/verenigingen", json=valid_body(naam="Koepel der smashers"), headers=auth).status_code == 201
    vcode = f"V{1000 + count + 1:07d}"
    for path, body in (("lidmaatschappen", {"andereVereniging": "V0001001", "van": "2016-01-01"}),
                       ("erkenningen", {"ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning sportvereniging",
                                        "startdatum": "2024-01-01", "einddatum": "2026-12-31"})):
        assert client.post(f"/verenigingen/{vcode}/{path}", json=body, headers=auth).status_code == 201
    kbo = {"kboNummer": "0202239951", "verenigingstype": "VZW", "naam": "Koninklijke Harmonie De Eendracht"}
    assert client.post("/verenigingen/kbo", json=kbo, headers=auth).status_code == 201
    count += 1  # the KBO vereniging is the last V-code read below
    shapes = rdflib.Graph().parse(SHAPES, format="turtle")
    own_shapes = shacl.shapes_graph()
    allowed = documented_defects()
    assert len(allowed) >= 8
    for headers in ({}, Keys.auth(keys.reader)):
        data = rdflib.Graph()
        for n in range(1001, 1001 + count + 1):
            answer = client.get(f"/doc/vereniging/V{n:07d}", headers={"Accept": "text/turtle", **headers})
            assert answer.status_code == 200
            data.parse(data=answer.data, format="turtle")
        for prefix, namespace in (("fv", "https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#"),
                                  ("adres", "https://data.vlaanderen.be/ns/adres#"), ("sh", str(SH))):
            data.bind(prefix, namespace)
        found = violations(data, shapes)
        unexpected = sorted(v for v in found if v[:2] not in allowed)
        assert not unexpected, unexpected[:20]
        # and to the register's own shapes, which every write is checked with (they failed on the vestigingsadres)
        assert not violations(data, own_shapes), sorted(violations(data, own_shapes))[:10]
    roles = set(data.objects(None, rdflib.URIRef("http://www.w3.org/ns/org#role")))
    assert {str(r).rsplit("/", 1)[-1] for r in roles} >= {"voorzitter", "secretaris"}
    sites = "SELECT (COUNT(?a) AS ?n) WHERE { ?v <http://www.w3.org/ns/org#hasSite>/<http://www.w3.org/ns/org#siteAddress>/<http://www.w3.org/ns/locn#address> ?a }"  # noqa: E501
    assert int(next(iter(data.query(sites)))[0]) >= count
    # the public dump (what SPARQL and the stream carry too) with the code lists it points to: the same verdict
    dump = rdflib.Dataset()
    dump.parse(data=client.get("/dumps/verenigingen.nq").data, format="nquads")
    flat = rdflib.Graph()
    for triple in dump.triples((None, None, None)):
        flat.add(triple)
    flat += codelists.codelist_graph()
    unexpected = sorted(v for v in violations(flat, shapes) if v[:2] not in allowed)
    assert not unexpected, unexpected[:20]


def test_the_term_lists_are_published(client):
    terms = rdflib.Graph().parse(data=client.get("/ns/oslo-terms", headers={"Accept": "text/turtle"}).data,
                                 format="turtle")
    assert (rdflib.URIRef("https://w3id.org/verenigingsregister/ns/oslo-terms"), None, None) in terms
    for term in ("gemeente", "wijziging", "veld", "vorigeWaarde", "nieuweWaarde"):
        ns = rdflib.Graph().parse(data=client.get("/ns", headers={"Accept": "text/turtle"}).data, format="turtle")
        assert (rdflib.URIRef(f"https://w3id.org/verenigingsregister/ns#{term}"), None, None) in ns
