"""SPARQL 1.1 Protocol: /sparql (public) and /sparql/beheer (initiators, audited).

Read-only: updates are refused, SERVICE is refused (no outbound requests). Public queries run
with the default graph and the named graphs pinned to the public graphs, which overrides FROM,
FROM NAMED and GRAPH, so no query can reach restricted data. Queries run in worker processes
with a deadline and a result limit; results are complete before the status line is sent.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import NamedNode

from app.auth import audit
from app.auth.access import principal
from app.namespaces import (
    GRAPH_CODELISTS,
    GRAPH_PUBLIC,
    GRAPH_RESTRICTED,
    GRAPH_VERSIONS_PUBLIC,
    GRAPH_VERSIONS_RESTRICTED,
)
from app.publication.problems import http_problem, problem
from app.store.query_workers import QueryFailed, QueryJob

bp = Blueprint("sparql", __name__)

# Default graph: the current state (+ code lists); the version history is reachable with GRAPH.
PUBLIC_DEFAULT = (GRAPH_PUBLIC, GRAPH_CODELISTS)
PUBLIC_NAMED = (GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC, GRAPH_CODELISTS)
RESTRICTED_DEFAULT = PUBLIC_DEFAULT + (GRAPH_RESTRICTED,)
RESTRICTED_NAMED = PUBLIC_NAMED + (GRAPH_RESTRICTED, GRAPH_VERSIONS_RESTRICTED)
SOLUTION_TYPES = [("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
                  ("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("application/json", "json")]
GRAPH_TYPES = [("text/turtle", "ttl"), ("application/n-triples", "nt"), ("application/ld+json", "jsonld"),
               ("application/rdf+xml", "rdf")]
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
         "tsv": "text/tab-separated-values", "ttl": "text/turtle", "nt": "application/n-triples",
         "jsonld": "application/ld+json", "rdf": "application/rdf+xml"}
UPDATE_WORDS = re.compile(r"\b(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD)\b", re.I)
SERVICE = re.compile(r"\bSERVICE\b", re.I)
_LITERALS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''  # strings
    r"|<[^<>\s]*>|#[^\n]*")  # IRIs and comments

EXAMPLES = [
    ("Aantal verenigingen per hoofdactiviteit", """PREFIX regorg: <http://www.w3.org/ns/regorg#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?activiteit (COUNT(DISTINCT ?v) AS ?aantal) WHERE {
  GRAPH <urn:vr:graph:public> { ?v regorg:orgActivity ?a }
  GRAPH <urn:vr:graph:codelists> { ?a skos:prefLabel ?activiteit }
} GROUP BY ?activiteit ORDER BY DESC(?aantal)"""),
    ("Nieuwe verenigingen per maand", """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX fv: <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#>
SELECT ?maand (COUNT(?v) AS ?nieuw) WHERE {
  ?v a fv:Vereniging ; dcterms:created ?t .
  BIND(SUBSTR(STR(?t), 1, 7) AS ?maand)
} GROUP BY ?maand ORDER BY ?maand"""),
    ("Verenigingen per gemeente", """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX locn: <http://www.w3.org/ns/locn#>
PREFIX adres: <https://data.vlaanderen.be/ns/adres#>
SELECT ?gemeente (COUNT(DISTINCT ?v) AS ?aantal) WHERE {
  ?v org:hasSite/locn:address/adres:gemeentenaam ?gemeente .
} GROUP BY ?gemeente ORDER BY DESC(?aantal)"""),
]


def _strip(query: str) -> str:
    """The query without strings, IRIs and comments, so keywords inside them don't count."""
    return _LITERALS.sub(" ", query)


def _query_text() -> str | None:
    if request.method == "GET":
        return request.args.get("query")
    if request.mimetype == "application/sparql-query":
        return request.get_data(as_text=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("query")
    return None


def _kind(query: str) -> str:
    words = re.findall(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", _strip(query), re.I)
    return words[0].upper() if words else ""


def _negotiate(kind: str) -> tuple[str, str] | None:
    offered = SOLUTION_TYPES if kind in ("SELECT", "ASK") else GRAPH_TYPES
    if request.args.get("format") in dict(offered).values():
        key = request.args["format"]
        return MEDIA[key], key
    if not request.accept_mimetypes or request.accept_mimetypes.best in ("*/*", "text/html"):
        return MEDIA[offered[0][1]], offered[0][1]
    best = request.accept_mimetypes.best_match([media for media, _ in offered])
    return (best if best != "application/json" else MEDIA["json"], dict(offered)[best]) if best else None


def _endpoint(restricted: bool) -> Response:
    caller = principal("lezer") if restricted else None
    query = _query_text()
    if request.method == "POST" and request.mimetype == "application/sparql-update" or (
            request.method == "POST" and request.form.get("update")):
        return http_problem(405, "Dit SPARQL-eindpunt is alleen-lezen: updates zijn niet toegelaten.",
                            headers={"Allow": "GET, POST"})
    if query is None:
        if request.method == "POST":
            return problem(400, "sparql-protocol", "Ongeldige aanvraag",
                           "Stuur een query als ?query=, als formulierveld 'query' of als application/sparql-query.")
        return _service_description(restricted)
    if len(query) > 100_000:
        return problem(400, "sparql-protocol", "Ongeldige aanvraag", "De query is te lang.")
    text = _strip(query)
    if SERVICE.search(text):
        return problem(400, "sparql-service", "SERVICE niet toegelaten",
                       "Federatie met SERVICE is niet toegelaten: dit eindpunt maakt geen uitgaande verbindingen.")
    kind = _kind(query)
    if not kind:
        if UPDATE_WORDS.search(text):
            return problem(400, "sparql-alleen-lezen", "Alleen-lezen",
                           "Dit SPARQL-eindpunt is alleen-lezen: updates zijn niet toegelaten.")
        return problem(400, "sparql-syntax", "Ongeldige SPARQL", "De query is geen SELECT, ASK, CONSTRUCT of DESCRIBE.")
    chosen = _negotiate(kind)
    if chosen is None:
        return http_problem(406, "Beschikbare formaten: " + ", ".join(
            m for m, _ in (SOLUTION_TYPES if kind in ("SELECT", "ASK") else GRAPH_TYPES)) + ".")
    media, key = chosen
    register = current_app.extensions["vr"]
    default, named = (RESTRICTED_DEFAULT, RESTRICTED_NAMED) if restricted else (PUBLIC_DEFAULT, PUBLIC_NAMED)
    job = QueryJob(query, default, named, key if kind in ("SELECT", "ASK") else "json",
                   key if kind in ("CONSTRUCT", "DESCRIBE") else "ttl", register.settings.sparql_max_rows,
                   register.handler.latest_sequence)
    try:
        _, body = register.query_workers().execute(job)
    except QueryFailed as exc:
        return problem(exc.status, exc.slug, "Query mislukt", exc.message)
    if restricted:
        audit.record("sparql", caller)
    response = Response(body, mimetype=media)
    response.headers["Vary"] = "Accept, Authorization"
    if not restricted:
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _service_description(restricted: bool) -> Response:
    if request.accept_mimetypes.best_match(["text/html", "text/turtle"]) == "text/html":
        return Response(render_template("sparql.html", examples=EXAMPLES, restricted=restricted), mimetype="text/html")
    base = current_app.extensions["vr"].settings.base
    endpoint = f"{base}/sparql{'/beheer' if restricted else ''}"
    body = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>, <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
        <http://www.w3.org/ns/formats/SPARQL_Results_CSV>, <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
        <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>,
        <http://www.w3.org/ns/formats/JSON-LD>, <http://www.w3.org/ns/formats/RDF_XML> ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ; void:inDataset <{base}/void> ] ] .
"""
    response = Response(body, mimetype="text/turtle")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def public_endpoint() -> Response:
    return _endpoint(restricted=False)


@bp.route("/sparql/beheer", methods=["GET", "POST"])
def restricted_endpoint() -> Response:
    return _endpoint(restricted=True)


@bp.get("/void")
def void() -> Response:
    """VoID + DCAT description of the public dataset and its SPARQL endpoint."""
    register = current_app.extensions["vr"]
    base = register.settings.base
    count = sum(1 for _ in register.store.store.quads_for_pattern(None, None, None, NamedNode(GRAPH_PUBLIC)))
    body = f"""@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{base}/void> a void:Dataset, dcat:Dataset ;
    dcterms:title "Verenigingsregister"@nl ;
    dcterms:description "Verenigingen in Vlaanderen als linked data (OSLO Feitelijke Verenigingen)."@nl ;
    void:sparqlEndpoint <{base}/sparql> ;
    void:uriSpace "{base}/id/vereniging/" ;
    void:exampleResource <{base}/id/vereniging/V0001001> ;
    void:vocabulary <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#>, <http://www.w3.org/ns/org#> ;
    void:triples {count} ;
    void:dataDump <{base}/dumps/verenigingen.nq> ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessService [ a dcat:DataService ;
        dcat:endpointURL <{base}/sparql> ; dcterms:conformsTo <https://www.w3.org/TR/sparql11-protocol/> ] ] ,
      [ a dcat:Distribution ; dcat:downloadURL <{base}/dumps/verenigingen.nq> ; dcat:mediaType "application/n-quads" ] .
"""
    response = Response(body, mimetype="text/turtle")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
