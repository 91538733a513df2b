"""SPARQL 1.1 Protocol: /sparql (public) and /sparql/beheer (initiators, audited).

Read-only: updates and SERVICE are refused on the parsed query (app/validation/sparql_query.py),
and the processes that evaluate queries have no network at all. Public queries run with the
default graph and the named graphs pinned to the public graphs, which overrides FROM, FROM NAMED
and GRAPH, so no query can reach restricted data. Queries run in worker processes with a deadline
that covers the whole request (waiting included) and a result limit; results are complete before
the status line is sent. When every worker is busy a query is refused at once (503 + Retry-After),
and each client (IP address, or API key on /sparql/beheer) has one rate limit (429 + Retry-After)
shared by every process of the register (app/publication/rate_limit.py).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import replace

import pyoxigraph
from flask import Blueprint, Response, current_app, render_template, request

from app.auth import audit
from app.auth.access import principal
from app.namespaces import GRAPH_CODELISTS, GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC
from app.publication import negotiation, sparql_page
from app.publication.portal import LICENCE
from app.publication.problems import http_problem, problem
from app.publication.rate_limit import RateLimit
from app.store.query_workers import RETRY_AFTER, QueryFailed, QueryJob, QueryWorkers, busy, refused
from app.validation import sparql_query

bp = Blueprint("sparql", __name__)

SOLUTIONS = ("json", "xml", "csv", "tsv")  # keys of negotiation.FORMATS, preferred first
GRAPHS = ("ttl", "nt", "jsonld", "rdf")
VCODE = re.compile(r"/id/vereniging/(V\d{7})")
CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Content-Type, Content-Length, Vary, Link, Content-Location"}
EXAMPLES = [
    ("Actieve verenigingen per hoofdactiviteit (zoals op Statistieken)", """PREFIX regorg: <http://www.w3.org/ns/regorg#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?activiteit (COUNT(DISTINCT ?v) AS ?aantal) WHERE {
  GRAPH <urn:vr:graph:public> {
    ?v regorg:orgActivity ?a ;
       regorg:orgStatus <https://w3id.org/verenigingsregister/concept/verenigingstatus/Actief> }
  GRAPH <urn:vr:graph:codelists> { ?a skos:prefLabel ?activiteit }
} GROUP BY ?activiteit ORDER BY DESC(?aantal)"""),
    ("Inschrijvingen in het register per maand (elke status; niet de oprichtingsdatum)",
     """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX fv: <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#>
SELECT ?maand (COUNT(?v) AS ?nieuw) WHERE {
  ?v a fv:Vereniging ; dcterms:created ?t .
  BIND(SUBSTR(STR(?t), 1, 7) AS ?maand)
} GROUP BY ?maand ORDER BY ?maand"""),
    ("Actieve verenigingen per gemeente (zoals op Statistieken: de gemeente van de postcode)",
     """PREFIX org: <http://www.w3.org/ns/org#>
PREFIX locn: <http://www.w3.org/ns/locn#>
PREFIX regorg: <http://www.w3.org/ns/regorg#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX vrx: <https://w3id.org/verenigingsregister/ns#>
SELECT ?gemeente (COUNT(DISTINCT ?v) AS ?aantal) WHERE {
  ?v org:hasSite/locn:address/vrx:gemeente ?g ;
     regorg:orgStatus <https://w3id.org/verenigingsregister/concept/verenigingstatus/Actief> .
  ?g skos:prefLabel ?gemeente .
} GROUP BY ?gemeente ORDER BY DESC(?aantal)"""),
]


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


def _negotiate(offered: tuple[str, ...]) -> str | None:
    """The format key for one family of results (solutions or graphs); None when Accept rules all out.

    A browser (or `?format=html`, the query page) gets the first offered format.
    """
    try:
        return negotiation.negotiate(request, offered, lenient=True).key
    except negotiation.NotAcceptable:
        return None


_limits_lock = threading.Lock()


def _forward(register, engine, job: QueryJob, started: float) -> tuple[str, bytes]:
    """For an engine that evaluates elsewhere (the remote store server): only checked text is forwarded,
    so SERVICE never reaches the server — a query whose text cannot hold SERVICE as it is, any other
    after an offline worker parsed and checked it (app/validation/sparql_query.py) — and no more
    queries are in flight than the embedded engine allows (workers + waiting), so SPARQL cannot hold
    every web thread while the server is busy."""
    admitted = _admitted(register)
    if not admitted.acquire(blocking=False):
        raise busy()
    try:
        try:
            quick = sparql_query.unparsed(job.query)
        except sparql_query.QueryRefused as exc:
            raise refused(exc) from None
        if quick is None:
            checked = _checker(register).check(job.query, started)
            return engine.execute(replace(job, query=checked.text), started)
        _checker(register).check(quick.text, started, canary_only=True)  # the canary, not the server, overflows
        try:
            return engine.execute(replace(job, query=quick.text), started)
        except QueryFailed as exc:
            if exc.status == 400:  # say why, as the parse does (e.g. an update: read-only endpoint)
                _checker(register).check(job.query, started)
            raise
    finally:
        admitted.release()


def _admitted(register) -> threading.BoundedSemaphore:
    with _limits_lock:
        admitted = current_app.extensions.get("vr-sparql-admitted")
        if admitted is None:
            settings = register.settings
            admitted = threading.BoundedSemaphore(settings.sparql_workers + settings.sparql_waiting)
            current_app.extensions["vr-sparql-admitted"] = admitted
        return admitted


def _checker(register) -> QueryWorkers:
    """Offline processes that only parse and check queries, for engines that evaluate elsewhere."""
    with _limits_lock:
        pool = current_app.extensions.get("vr-sparql-checker")
        if pool is None:
            settings = register.settings
            pool = QueryWorkers(None, settings.sparql_workers, settings.sparql_timeout, settings.sparql_waiting)
            current_app.extensions["vr-sparql-checker"] = pool
        return pool


def _rate_limit(register) -> RateLimit:
    """One limiter per app, made on first use; its windows are shared by every process of the register
    (a file in the data directory), so `--workers N` does not give a client N budgets."""
    with _limits_lock:
        limiter = current_app.extensions.get("vr-sparql-rate")
        if limiter is None:
            settings = register.settings
            path = None if settings.in_memory else settings.data_dir / "sparql-limiet.sqlite3"
            limiter = current_app.extensions["vr-sparql-rate"] = RateLimit(settings.sparql_rate_limit, path)
        return limiter


def _too_many(caller) -> Response | None:
    register = current_app.extensions["vr"]
    client = f"sleutel:{caller.initiator.ovo}" if caller is not None else f"ip:{request.remote_addr}"
    wait = _rate_limit(register).retry_after(client)
    if wait is None:
        return None
    return problem(429, "te-veel-queries", "Te veel queries",
                   f"Deze client stuurde te veel SPARQL-queries; probeer opnieuw over {wait} s.",
                   headers={"Retry-After": str(wait)})


def _failed(exc: QueryFailed) -> Response:
    if exc.status == 406:
        offered = {"oplossingen": SOLUTIONS, "graaf": GRAPHS}.get(exc.family or "", SOLUTIONS + GRAPHS)
        return http_problem(406, exc.message + " " + negotiation.not_acceptable_detail(offered))
    retry = exc.retry_after or (RETRY_AFTER if exc.status == 503 else None)  # every 503 says when to retry
    headers = {"Retry-After": str(retry)} if retry else None
    return problem(exc.status, exc.slug, exc.title, exc.message, headers=headers)


def _endpoint(restricted: bool) -> Response:
    started = time.monotonic()  # the deadline counts from here: waiting for a worker is part of it
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
        audience = audit.audience(caller, "sparql")  # its graphs are the dataset; its hook logs what is read
        default, named = _dataset(*audience.query_dataset)
    except ProtocolError as exc:
        return http_problem(exc.status, exc.detail)
    if query is None:
        if request.method == "POST":
            return problem(400, "sparql-protocol", "Ongeldige aanvraag",
                           "Stuur een query als ?query=, als formulierveld 'query' of als application/sparql-query.")
        return _service_description(restricted)
    if len(query) > 100_000:
        return problem(400, "sparql-protocol", "Ongeldige aanvraag", "De query is te lang.")
    limited = _too_many(caller)
    if limited is not None:
        return limited
    try:
        workers = register.query_workers()
        job = QueryJob(query, default, named, _negotiate(SOLUTIONS), _negotiate(GRAPHS),
                       register.settings.sparql_max_rows,
                       # the store server reads live data: no checkpoint generation (saves a round trip)
                       register.handler.latest_sequence if getattr(workers, "needs_generation", True) else 0)
        key, body = workers.execute(job, started) if getattr(workers, "checks_queries", False) \
            else _forward(register, workers, job, started)
    except QueryFailed as exc:
        return _failed(exc)
    media = negotiation.FORMATS[key].media_type
    # the records the answer names, logged before it goes out (raises a 503 when the log cannot be written); the
    # whole query (at most 100,000 characters), the register's sequence and the answer's digest besides, as an
    # answer can name records in a form no pattern finds (REPLACE(STR(?v), …))
    if audience.restricted:
        audience.read([match.group(0) for match in VCODE.finditer(body.decode("utf-8", "replace"))], answer=True,
                      query=query, sequentie=register.handler.latest_sequence,
                      antwoord=f"sha256:{hashlib.sha256(body).hexdigest()} ({len(body)} bytes)")
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
    if negotiation.without_parameters(request.accept_mimetypes).best_match(["text/html", "text/turtle"]) == "text/html":
        return Response(render_template("sparql.html", examples=EXAMPLES, restricted=restricted, boolean=None),
                        mimetype="text/html",  # no query yet: no result section (an undefined boolean read as 'nee')
                        headers={"Vary": "Accept"})
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
    if sparql_page.wanted():
        return sparql_page.answer(lambda: _endpoint(restricted=False), EXAMPLES, restricted=False)
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
            known = (sequence, register.store.public_triple_count())
            _counted[id(register)] = known
        return known[1]


def _rdf(turtle: str) -> Response:
    """A small description written in Turtle, served in the RDF syntax the client asks for."""
    try:
        rep = negotiation.negotiate(request, GRAPHS, lenient=True)
    except negotiation.NotAcceptable:
        return http_problem(406, negotiation.not_acceptable_detail(GRAPHS))
    media = rep.media_type
    body: str | bytes = turtle
    if rep.key != "ttl":
        triples = pyoxigraph.parse(turtle, format=pyoxigraph.RdfFormat.TURTLE)
        body = pyoxigraph.serialize(triples, format=rep.rdf_format or pyoxigraph.RdfFormat.JSON_LD)
    response = Response(body, mimetype=media)
    response.headers["Vary"] = "Accept"
    return response


# The vocabularies the public data uses (VoID lists them so a consumer knows what to query with).
VOCABULARIES = ("https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#", "http://www.w3.org/ns/org#",
                "http://www.w3.org/ns/regorg#", "http://schema.org/", "http://www.w3.org/ns/locn#",
                "https://data.vlaanderen.be/ns/adres#", "http://purl.org/dc/terms/",
                "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/adms#",
                "https://data.vlaanderen.be/ns/generiek#", "http://data.europa.eu/m8g/", "http://xmlns.com/foaf/0.1/",
                "http://www.w3.org/ns/prov#", "https://w3id.org/verenigingsregister/ns#")


@bp.get("/void")
@bp.get("/.well-known/void")
def void() -> Response:
    """VoID + DCAT description of the public dataset and its SPARQL endpoint."""
    register = current_app.extensions["vr"]
    base = register.settings.base
    count = _public_triples(register)
    reading = f"te lezen met GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ … }}"
    body = f"""@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{base}/void> a void:Dataset, dcat:Dataset ;
    dcterms:title "Verenigingsregister"@nl ;
    dcterms:description "Verenigingen in Vlaanderen als linked data (OSLO Feitelijke Verenigingen)."@nl ;
    void:sparqlEndpoint <{base}/sparql> ;
    void:uriSpace "{base}/id/vereniging/" ;
    void:exampleResource <{base}/id/vereniging/V0001001> ;
    void:vocabulary {", ".join(f"<{ns}>" for ns in VOCABULARIES)} ;
    dcterms:license <{LICENCE[1]}> ;
    void:triples {count} ;
    void:dataDump <{base}/dumps/verenigingen.nq> ;
    void:subset <{base}/void#huidig>, <{base}/void#versies>, <{base}/void#codelijsten> ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessService [ a dcat:DataService ;
        dcat:endpointURL <{base}/sparql> ; dcterms:conformsTo <https://www.w3.org/TR/sparql11-protocol/> ] ] ,
      [ a dcat:Distribution ; dcat:downloadURL <{base}/dumps/verenigingen.nq> ; dcat:mediaType "application/n-quads" ] .
<{base}/void#huidig> a void:Dataset ; void:triples {count} ;
    dcterms:title "De huidige gegevens van elke vereniging: graaf <{GRAPH_PUBLIC}>, in de standaardgraaf"@nl .
<{base}/void#versies> a void:Dataset ;
    dcterms:title "Elke versie met haar provenance (de stroom): graaf <{GRAPH_VERSIONS_PUBLIC}>, {reading}"@nl .
<{base}/void#codelijsten> a void:Dataset ;
    dcterms:title "De codelijsten (SKOS): graaf <{GRAPH_CODELISTS}>, ook in de standaardgraaf"@nl .
"""
    return _rdf(body)
