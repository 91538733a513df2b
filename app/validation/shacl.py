"""SHACL validation of one record with pyshacl.

The shapes are parsed once per process. Each write validates only the record it would store
plus the facts it references (the code-list concepts' scheme membership), never the whole
store, so the cost stays flat as the register grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pyshacl.shape
import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad
from pyshacl import Validator
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from pyshacl.graph_abstraction import DataGraph
from pyshacl.shapes_graph import ShapesGraph
from rdflib.namespace import SH, XSD

from app import paths
from app.domain import codelists
from app.validation.errors import FieldError

_XSD_STRING = str(XSD.string)


@cache
def shapes_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(paths.SHAPES.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


# pyshacl looks every shape parameter up in a list of constraint parameters; a set gives the
# same answers ~20% faster. Same verdicts are asserted in tests/test_shacl.py.
pyshacl.shape.CONSTRAINT_PARAMS = (frozenset(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)


@cache
def _compiled_shapes() -> ShapesGraph:
    """pyshacl's compiled form of the shapes, built once instead of on every validation.

    pyshacl has no public API for this; a Validator is built per call and handed this object.
    tests/test_shacl.py checks that verdicts equal those of a plain pyshacl.validate() call.
    """
    compiled = ShapesGraph(shapes_graph())
    _ = compiled.shapes  # harvest the shapes now
    return compiled


def run_pyshacl(graph: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    validator = Validator(DataGraph.from_rdflib(graph), shacl_graph=shapes_graph(),
                          options={"inference": "none", "allow_infos": True, "allow_warnings": True})
    validator.shacl_graph = _compiled_shapes()
    conforms, report, _ = validator.run()
    return conforms, report


def _term(term):
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return rdflib.Literal(term.value, datatype=None if datatype == _XSD_STRING else rdflib.URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


def data_graph(quads: Iterable[Quad], concepts: Iterable[str]) -> rdflib.Graph:
    graph = rdflib.Graph(bind_namespaces="none")
    add = graph.add
    for quad in quads:
        add((_term(quad.subject), _term(quad.predicate), _term(quad.object)))
    skos_in_scheme = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#inScheme")
    rdf_type = rdflib.RDF.type
    concept_class = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    for iri in concepts:
        found = codelists.concept_by_iri(iri)
        if found:
            node = rdflib.URIRef(iri)
            add((node, rdf_type, concept_class))
            add((node, skos_in_scheme, rdflib.URIRef(codelists.get(found.scheme).iri)))
    return graph


def check(quads: list[Quad], concepts: Iterable[str], root: str) -> list[FieldError]:
    """Validate a record; return its violations as field errors (empty when it conforms)."""
    graph = data_graph(quads, concepts)
    conforms, report = run_pyshacl(graph)
    if conforms:
        return []
    errors = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = str(report.value(result, SH.focusNode))
        path = report.value(result, SH.resultPath)
        message = str(report.value(result, SH.resultMessage) or "Voldoet niet aan de SHACL-vorm.")
        where = focus[len(root):].lstrip("/").replace("/", ".") if focus.startswith(root) else focus
        if path is not None and isinstance(path, rdflib.URIRef):
            where = f"{where}:{report.namespace_manager.normalizeUri(path)}" if where else \
                report.namespace_manager.normalizeUri(path)
        errors.append(FieldError(where or "vereniging", "shacl", message))
    return sorted(errors, key=lambda e: (e.path, e.message))
