"""The DCAT catalog conforms to DCAT-AP 2.1.1 and 3.0.0 (official SEMIC shapes); IRIs resolve; sizes, dates true."""

from __future__ import annotations

import pyshacl
import rdflib

from app.paths import ROOT
from tests.conftest import BASE, Keys, valid_body

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.namespace.DCTERMS
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
EXTERNAL = ROOT / "shapes" / "external"
# The official SEMIC shapes (shapes/external/README.md says where each file comes from): DCAT-AP 3.0.0, and
# DCAT-AP 2.1.1 — the version DCAT-AP Vlaanderen 2.0 builds on — with its range constraints.
SHAPE_SETS = {
    "DCAT-AP 3.0.0": [(EXTERNAL / "dcat-ap-3.0.0-SHACL.jsonld", "json-ld")],
    "DCAT-AP 2.1.1": [(EXTERNAL / "dcat-ap-2.1.1-SHACL-shapes.ttl", "turtle"),
                      (EXTERNAL / "dcat-ap-2.1.1-SHACL-range.ttl", "turtle")],
}


def catalog(client) -> rdflib.Graph:
    return rdflib.Graph().parse(data=client.get("/ldes", headers={"Accept": "text/turtle"}).data, format="turtle")


def test_catalog_conforms_to_dcat_ap(client, post):
    for naam in ("Schaakclub Gent", "Harmonie Aalst"):
        assert post(valid_body(naam=naam)).status_code == 201
    for fmt in ("nq", "ttl", "jsonld", "csv", "xlsx"):  # a written dump has a byteSize in the catalog
        assert client.get(f"/dumps/verenigingen.{fmt}").status_code == 200
    graph = catalog(client)
    assert len(list(graph.subject_objects(DCAT.byteSize))) == 5
    for name, files in SHAPE_SETS.items():
        shapes = rdflib.Graph()
        for path, syntax in files:
            shapes.parse(path, format=syntax)
        _, report, text = pyshacl.validate(graph, shacl_graph=shapes, inference="none")
        violations = [(report.value(v, SH.resultPath), report.value(v, SH.sourceConstraintComponent))
                      for v in report.subjects(SH.resultSeverity, SH.Violation)]
        # the one difference between the two: 2.1.1 types a byteSize xsd:decimal, 3.0.0 (and W3C DCAT 3)
        # xsd:nonNegativeInteger; the catalog follows 3.0.0 (README)
        known = (DCAT.byteSize, SH.DatatypeConstraintComponent) if name == "DCAT-AP 2.1.1" else None
        assert all(v == known for v in violations), f"{name}:\n{text}"
    assert len(set(graph.objects(None, DCAT.dataset))) == 3
    for media in graph.objects(None, DCAT.mediaType):
        assert str(media).startswith("https://www.iana.org/assignments/media-types/")
    assert set(graph.objects(None, DCT.license)) == {
        rdflib.URIRef("https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0")}


def test_dataset_iris_resolve_and_sizes_and_dates_are_true(client, post, keys):
    post(valid_body())
    graph = catalog(client)
    for dataset in graph.objects(None, DCAT.dataset):
        answer = client.get(str(dataset)[len(BASE):], headers={
            "Accept": "text/turtle", **Keys.auth(keys.reader)})
        assert answer.status_code == 200, dataset
        assert (dataset, None, None) in rdflib.Graph().parse(data=answer.data, format="turtle")
    _check_sizes(client, graph)
    client.patch("/verenigingen/V0001001", json={"naam": "Een veel langere naam dan eerst"},
                 headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
    after = catalog(client)
    _check_sizes(client, after)
    history = rdflib.Graph().parse(data=client.get("/doc/vereniging/V0001001/historiek.ttl").data, format="turtle")
    last = max(history.objects(None, rdflib.URIRef("http://www.w3.org/ns/prov#generatedAtTime")))
    assert set(after.objects(None, DCT.modified)) == {last}


def _check_sizes(client, graph: rdflib.Graph) -> None:
    for fmt in ("nq", "ttl", "jsonld", "csv", "xlsx"):  # the dumps of the current state exist once asked for
        assert client.get(f"/dumps/verenigingen.{fmt}").status_code == 200
    graph = catalog(client)
    sizes = 0
    for dist in graph.objects(None, DCAT.distribution):
        size = graph.value(dist, DCAT.byteSize)
        if size is None:
            continue
        url = str(graph.value(dist, DCAT.downloadURL))
        body = client.get(url[url.index("/dumps/"):]).data
        assert int(size) == len(body), url
        sizes += 1
    assert sizes == 5
