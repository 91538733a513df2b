"""The register's own vocabulary, code lists and JSON-LD context, served at stable URLs.

Concept and scheme IRIs live under https://w3id.org/verenigingsregister/; a deployment serves
the same paths below its own base (…/concept/hoofdactiviteit/SPRT, …/conceptscheme/…, …/ns),
which is where the persistent w3id redirect points.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

import pyoxigraph
from flask import Blueprint, Response, request

from app import paths
from app.domain.codelists import SCHEMES, codelist_graph
from app.namespaces import FV, M8G, ORG, PREFIXES, PROJECT, PROV, RDF, SKOS
from app.namespaces import SCHEMA as SCHEMA_ORG
from app.publication import jsonld, negotiation, portal
from app.publication.problems import http_problem
from app.register import term

bp = Blueprint("vocab", __name__)


@bp.get(jsonld.CONTEXT_PATH)
def context() -> Response:
    response = Response(json.dumps(jsonld.context_document(), ensure_ascii=False, indent=2),
                        mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@cache
def _vocabulary() -> list[pyoxigraph.Triple]:
    return list(pyoxigraph.parse(path=str(paths.ONTOLOGY / "vrx.ttl"), format=pyoxigraph.RdfFormat.TURTLE))


@cache
def _codelist_triples() -> list[pyoxigraph.Triple]:
    return [pyoxigraph.Triple(term(s), term(p), term(o)) for s, p, o in codelist_graph()]


def _split(name: str) -> tuple[str, str | None]:
    if "." in name:
        head, ext = name.rsplit(".", 1)
        return head, ext
    return name, None


def _respond(triples: list[pyoxigraph.Triple], subject: str, title: str, extension: str | None) -> Response:
    rep = negotiation.choose_or_problem(request, extension)
    if isinstance(rep, Response):
        return rep
    if rep.key == "html":
        body = portal.readable_terms(triples, subject, title)
    elif rep.key == "jsonld":
        body = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.JSON_LD)
    else:
        body = pyoxigraph.serialize(triples, format=rep.rdf_format, prefixes=PREFIXES)
    response = Response(body, mimetype=rep.media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/ns")
@bp.get("/ns.<ext>")
def vocabulary(ext: str | None = None) -> Response:
    return _respond(_vocabulary(), PROJECT + "ns#", "Uitbreidingsvocabularium van het Verenigingsregister", ext)


@cache
def _oslo_terms() -> list[pyoxigraph.Triple]:
    return list(pyoxigraph.parse(path=str(paths.ONTOLOGY / "oslo-terms.ttl"), format=pyoxigraph.RdfFormat.TURTLE))


@bp.get("/ns/oslo-terms")
@bp.get("/ns/oslo-terms.<ext>")
def oslo_terms(ext: str | None = None) -> Response:
    """The OSLO, W3C and schema.org terms the register writes, and how it uses each."""
    return _respond(_oslo_terms(), PROJECT + "ns/oslo-terms", "Hergebruikte termen (OSLO en andere)", ext)


@cache
def _concepts_by_iri() -> dict[str, list[pyoxigraph.Triple]]:
    found: dict[str, list[pyoxigraph.Triple]] = {}
    for triple in _codelist_triples():
        if triple.predicate.value in (RDF + "type", SKOS + "prefLabel", SKOS + "inScheme", SKOS + "notation"):
            found.setdefault(triple.subject.value, []).append(triple)
    return found


def referenced(triples: list[pyoxigraph.Triple],
               label_of: Callable[[str], str | None] = lambda iri: None) -> list[pyoxigraph.Triple]:
    """What a reader of a record needs about the things it points to, to label and validate it:
    each referenced concept (type, label, scheme), the type of an erkenning's issuing authority and
    of a locatie's vestigingsadres (OSLO Contactinfo)."""
    out: list[pyoxigraph.Triple] = []
    seen: set[str] = {t.subject.value for t in triples if t.predicate.value == RDF + "type"}  # typed already
    for triple in triples:
        target = triple.object
        if not isinstance(target, pyoxigraph.NamedNode) or target.value in seen:
            continue
        seen.add(target.value)
        if triple.predicate.value == ORG + "siteAddress":  # the profile's vestigingsadres is a Contactinfo
            out.append(pyoxigraph.Triple(target, pyoxigraph.NamedNode(RDF + "type"),
                                         pyoxigraph.NamedNode(SCHEMA_ORG + "ContactPoint")))
        elif triple.predicate.value == FV + "toegekenddoor":
            out += [pyoxigraph.Triple(target, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(kind))
                    for kind in (M8G + "PublicOrganisation", ORG + "Organization")]
            name = label_of(target.value) or f"Organisatie {target.value.rsplit('/', 1)[-1]}"
            out.append(pyoxigraph.Triple(target, pyoxigraph.NamedNode(SKOS + "prefLabel"),
                                         pyoxigraph.Literal(name, language="nl")))
        elif target.value.startswith(IPDC_CONCEPT):
            out += _ipdc_concept(target.value[len(IPDC_CONCEPT):])
        else:
            out += _concepts_by_iri().get(target.value, [])
    return out


IPDC_SCHEME = f"{PROJECT}conceptscheme/ipdcproducten"
IPDC_CONCEPT = f"{PROJECT}concept/ipdcproduct/"


def _ipdc_scheme() -> list[pyoxigraph.Triple]:
    scheme = pyoxigraph.NamedNode(IPDC_SCHEME)
    return [pyoxigraph.Triple(scheme, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(SKOS + "ConceptScheme")),
            pyoxigraph.Triple(scheme, pyoxigraph.NamedNode(SKOS + "prefLabel"),
                              pyoxigraph.Literal("IPDC-producten (erkenningstypes)", language="nl")),
            pyoxigraph.Triple(scheme, pyoxigraph.NamedNode(SKOS + "definition"), pyoxigraph.Literal(
                "Het type van een erkenning: het product van de Instantie Publieke Dienstverlening Vlaanderen "
                "(IPDC) dat de erkenning toekent, genoemd naar zijn productnummer.", language="nl"))]


def _ipdc_concept(number: str) -> list[pyoxigraph.Triple]:
    """An erkenning's type: the IPDC product with this number (every number names one product)."""
    iri = pyoxigraph.NamedNode(f"{PROJECT}concept/ipdcproduct/{number}")
    return [pyoxigraph.Triple(iri, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(SKOS + "Concept")),
            pyoxigraph.Triple(iri, pyoxigraph.NamedNode(SKOS + "notation"), pyoxigraph.Literal(number)),
            pyoxigraph.Triple(iri, pyoxigraph.NamedNode(SKOS + "prefLabel"),
                              pyoxigraph.Literal(f"IPDC-product {number}", language="nl")),
            pyoxigraph.Triple(iri, pyoxigraph.NamedNode(SKOS + "inScheme"), pyoxigraph.NamedNode(IPDC_SCHEME))]


@bp.get("/conceptscheme/<name>")
def scheme(name: str) -> Response:
    name, ext = _split(name)
    if name == "ipdcproducten":
        return _respond(_ipdc_scheme(), IPDC_SCHEME, "Conceptenlijst ipdcproducten", ext)
    if name not in SCHEMES:
        return http_problem(404, f"Conceptenlijst '{name}' bestaat niet.")
    iri = f"{PROJECT}conceptscheme/{name}"
    members = {t.subject.value for t in _codelist_triples()
               if t.predicate.value.endswith("#inScheme") and t.object.value == iri}
    triples = [t for t in _codelist_triples() if t.subject.value == iri or t.subject.value in members]
    return _respond(triples, iri, f"Conceptenlijst {name}", ext)


@bp.get("/concept/<segment>/<code>")
def concept(segment: str, code: str) -> Response:
    code, ext = _split(code)
    iri = f"{PROJECT}concept/{segment}/{code}"
    triples = [t for t in _codelist_triples() if t.subject.value == iri]
    if segment == "ipdcproduct" and code.isdigit() and len(code) <= 12:
        triples = _ipdc_concept(code)
    if not triples:
        return http_problem(404, f"Concept '{segment}/{code}' bestaat niet.")
    return _respond(triples, iri, f"Concept {code}", ext)


KBO_AGENT = f"{PROJECT}agent/KBO"


@bp.get("/agent/<name>")
def agent(name: str) -> Response:
    """The register's own agents (the KBO synchronisation); organisations are named by their OVO IRI."""
    name, ext = _split(name)
    if f"{PROJECT}agent/{name}" != KBO_AGENT:
        return http_problem(404, f"Agent '{name}' bestaat niet.")
    iri = pyoxigraph.NamedNode(KBO_AGENT)
    triples = [pyoxigraph.Triple(iri, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(PROV + "Agent")),
               pyoxigraph.Triple(iri, pyoxigraph.NamedNode(RDF + "type"), pyoxigraph.NamedNode(PROV + "SoftwareAgent")),
               pyoxigraph.Triple(iri, pyoxigraph.NamedNode(SKOS + "prefLabel"),
                                 pyoxigraph.Literal("Kruispuntbank van Ondernemingen", language="nl"))]
    return _respond(triples, KBO_AGENT, "Agent KBO", ext)
