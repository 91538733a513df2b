"""SPARQL 1.1 Protocol: /sparql (public) and /sparql/beheer (initiators, audited).

Read-only: updates are refused, SERVICE is refused (no outbound requests). Public queries run
with the default graph and the named graphs pinned to the public graphs, which overrides FROM,
FROM NAMED and GRAPH, so no query can reach restricted data. Queries run in worker processes
with a deadline and a result limit; results are complete before the status line is sent.
"""

from __future__ import annotations

import re
import threading

import pyoxigraph
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
# A keyword is a bare word: not a variable (?service), not part of a prefixed name (ex:service, ask:x).
_BARE = r"(?<![\w?$:.\-])({})(?![\w:\-])"
UPDATE_WORDS = re.compile(_BARE.format("INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH"), re.I)
SERVICE = re.compile(_BARE.format("SERVICE"), re.I)
FORMS = re.compile(_BARE.format("SELECT|ASK|CONSTRUCT|DESCRIBE"), re.I)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
VCODE = re.compile(r"/id/vereniging/(V\d{7})")
CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Content-Type, Content-Length, Vary, Link, Content-Location"}
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
    """The query without strings, IRIs and comments, so keywords inside them don't count.

    \\u escapes are decoded first: SPARQL allows them anywhere in a query string (pyoxigraph 0.5
    does not honour them in keywords, but a later version might, and SERVICE must stay refused).
    """
    decoded = _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)
    return _LITERALS.sub(" ", decoded)


class ProtocolError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def _params():
    """Where the protocol parameters are: the form for a form POST, else the URL."""
    return request.form if request.method == "POST" and request.mimetype == FORM else request.args


FORM = "application/x-www-form-urlencoded"


def _query_text() -> str | None:
    if request.method == "POST" and request.mimetype not in (FORM, "application/sparql-query"):
        if not request.mimetype:
            raise ProtocolError(400, "Een POST heeft een Content-Type nodig: application/sparql-query of " + FORM + ".")
        raise ProtocolError(415, f"Stuur application/sparql-query of {FORM}, niet '{request.mimetype}'.")
    if request.method == "POST" and request.mimetype == "application/sparql-query":
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, "Een SPARQL-query wordt in UTF-8 gestuurd.")
        try:
            return request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(400, "De query is geen geldige UTF-8 tekst.") from None
    values = _params().getlist("query")
    if len(values) > 1:
        raise ProtocolError(400, "Geef precies één parameter 'query'.")
    return values[0] if values else None


def _dataset(default: tuple[str, ...], named: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """default-graph-uri / named-graph-uri, honoured only within the graphs this endpoint may read.

    As the protocol says, they replace FROM / FROM NAMED; without them the endpoint's own dataset
    applies — which is also what happens to FROM in the query text: it cannot widen what is visible.
    """
    params = request.args if request.method == "POST" and request.mimetype != FORM else _params()
    wanted_default, wanted_named = params.getlist("default-graph-uri"), params.getlist("named-graph-uri")
    if not wanted_default and not wanted_named:
        return default, named
    allowed = set(default) | set(named)
    refused = [g for g in wanted_default + wanted_named if g not in allowed]
    if refused:
        raise ProtocolError(400, f"Graaf niet beschikbaar op dit eindpunt: {', '.join(refused)}. "
                                 f"Beschikbaar: {', '.join(sorted(allowed))}.")
    return tuple(wanted_default), tuple(wanted_named)


def _kind(query: str) -> str:
    found = FORMS.search(_strip(query))
    return found.group(1).upper() if found else ""


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
    if request.method == "OPTIONS":  # CORS preflight (POST with application/sparql-query is not "simple")
        return _preflight()
    if request.method == "POST" and request.mimetype == "application/sparql-update" or (
            "update" in request.args or request.method == "POST" and request.mimetype == FORM and
            "update" in request.form):
        return http_problem(405, "Dit SPARQL-eindpunt is alleen-lezen: updates zijn niet toegelaten.",
                            headers={"Allow": "GET, POST"})
    try:
        query = _query_text()
        register = current_app.extensions["vr"]
        default, named = _dataset(*((RESTRICTED_DEFAULT, RESTRICTED_NAMED) if restricted
                                    else (PUBLIC_DEFAULT, PUBLIC_NAMED)))
    except ProtocolError as exc:
        return http_problem(exc.status, exc.detail)
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
    job = QueryJob(query, default, named, key if kind in ("SELECT", "ASK") else "json",
                   key if kind in ("CONSTRUCT", "DESCRIBE") else "ttl", register.settings.sparql_max_rows,
                   register.handler.latest_sequence)
    try:
        _, body = register.query_workers().execute(job)
    except QueryFailed as exc:
        return problem(exc.status, exc.slug, "Query mislukt", exc.message)
    if restricted:
        vcodes = sorted(set(VCODE.findall(body.decode("utf-8", "replace"))))
        audit.record("sparql", caller, vcodes[0] if len(vcodes) == 1 else None, vCodes=vcodes[:1000],
                     query=query[:4000])
    response = Response(body, mimetype=media)
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if restricted else "public, max-age=60"
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers",
                                                                           "Accept, Content-Type")
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    """Open CORS on the public surfaces of this blueprint, error responses included."""
    if request.path in ("/sparql", "/void", "/.well-known/void"):
        response.headers.update(CORS)
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
    return _rdf(body)


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def public_endpoint() -> Response:
    return _endpoint(restricted=False)


@bp.route("/sparql/beheer", methods=["GET", "POST"])
def restricted_endpoint() -> Response:
    return _endpoint(restricted=True)


_counted: dict[int, tuple[int, int]] = {}  # id(register) → (sequence, triples in the public graph)
_count_lock = threading.Lock()


def _public_triples(register) -> int:
    """Counting walks the whole public graph: do it once per register generation, not per request."""
    sequence = register.handler.latest_sequence
    with _count_lock:
        known = _counted.get(id(register))
        if known is None or known[0] != sequence:
            graph = NamedNode(GRAPH_PUBLIC)
            known = (sequence, sum(1 for _ in register.store.store.quads_for_pattern(None, None, None, graph)))
            _counted[id(register)] = known
        return known[1]


RDF_OFFERED = [("text/turtle", pyoxigraph.RdfFormat.TURTLE), ("application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES),
               ("application/ld+json", pyoxigraph.RdfFormat.JSON_LD),
               ("application/rdf+xml", pyoxigraph.RdfFormat.RDF_XML)]


def _rdf(turtle: str) -> Response:
    """A small description written in Turtle, served in the RDF syntax the client asks for."""
    media = request.accept_mimetypes.best_match([m for m, _ in RDF_OFFERED]) if request.accept_mimetypes else None
    if request.accept_mimetypes and media is None and request.accept_mimetypes.best not in ("*/*", "text/html"):
        return http_problem(406, "Beschikbare formaten: " + ", ".join(m for m, _ in RDF_OFFERED) + ".")
    media = media or "text/turtle"
    body: str | bytes = turtle
    if media != "text/turtle":
        triples = pyoxigraph.parse(turtle, format=pyoxigraph.RdfFormat.TURTLE)
        body = pyoxigraph.serialize(triples, format=dict(RDF_OFFERED)[media])
    response = Response(body, mimetype=media)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/void")
@bp.get("/.well-known/void")
def void() -> Response:
    """VoID + DCAT description of the public dataset and its SPARQL endpoint."""
    register = current_app.extensions["vr"]
    base = register.settings.base
    count = _public_triples(register)
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
    return _rdf(body)
