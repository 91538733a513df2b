"""LDES change streams of the version records (see ../shared/reference/ldes.md).

Members are the immutable versions written by the one write path; each carries
`dcterms:isVersionOf`, `prov:generatedAtTime` (strictly increasing with the register-wide
sequence) and `prov:wasGeneratedBy` an activity with type, reason and initiator. Pages hold
250 consecutive sequences, so a page's membership is fixed once written and a full page never
changes (immutable, cached for a year); the latest page is short-lived with an ETag. Restricted pages
are never immutable: the retention period and an erasure on request rewrite them (revalidated by ETag).

Views:
- time: /ldes/{stream}/tijd → pages /ldes/{stream}/tijd/{k}
- per gemeente: /ldes/{stream}/gemeenten → /ldes/{stream}/gemeente/{code} → …/gemeente/{code}/{k};
  a change is listed under every gemeente of the vereniging before and after it, so a
  municipality also sees associations that move away.
The public stream reads public graphs only; /ldes/beheer/… adds the restricted snapshots and
requires a key (with an optional retention period, VR_LDES_RETENTION_DAYS).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pyoxigraph
from flask import Blueprint, Response, current_app, request
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from app.auth import audit
from app.auth.access import principal
from app.domain import codelists
from app.domain.errors import not_found
from app.domain.versions import AS
from app.namespaces import (
    DCTERMS,
    PREFIXES,
    PROV,
    RDF,
    VRX,
    XSD,
)
from app.publication import negotiation, representations, stream_html
from app.publication.member_shape import shape_triples
from app.publication.problems import http_problem
from app.store.audience import PUBLIC, Audience

bp = Blueprint("streams", __name__)

PAGE_SIZE = 250
LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
SH = "http://www.w3.org/ns/shacl#"
DCAT = "http://www.w3.org/ns/dcat#"
STREAMS = {"verenigingen": False, "beheer/verenigingen": True}  # path → restricted
OFFERED = ("nq", "ttl", "nt", "jsonld", "trig")  # keys of negotiation.FORMATS, preferred first
# HTML is offered last: only a client that prefers it (a browser) gets it; `*/*` still gets N-Quads.
WITH_HTML = (*OFFERED, "html")
IMMUTABLE = "public, max-age=31536000, immutable"
A = NamedNode(RDF + "type")


def n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _t(s, p: str, o) -> Triple:
    return Triple(s, n(p), o)


def retention_days() -> int | None:
    value = os.environ.get("VR_LDES_RETENTION_DAYS")
    return int(value) if value else None


class Stream:
    """One event stream (public or restricted) as seen from the current request."""

    def __init__(self, path: str, audience: Audience = PUBLIC) -> None:
        """`audience`: the reader of a restricted stream (its member reads are audited by the store)."""
        self.path = path
        self.restricted = STREAMS[path]
        register = current_app.extensions["vr"]
        self.store = register.store
        self.audience = audience if self.restricted else PUBLIC
        self.base = register.settings.base
        self.iri = f"{self.base}/ldes/{path}"
        self.latest = register.handler.latest_sequence

    # -- membership ---------------------------------------------------------------------------------
    def gemeente_sequences(self, code: str) -> list[int]:
        return self.store.gemeente_sequences(code)

    def timestamps(self, sequences: list[int]) -> dict[int, str]:
        """Timestamps of the members at these sequences, in one store read."""
        return {m.sequence: m.timestamp for m in self.store.page(sequences, self.audience, with_triples=False)}

    def within_retention(self, timestamp: str) -> bool:
        days = retention_days() if self.restricted else None
        if days is None:
            return True
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        return moment >= datetime.now(UTC) - timedelta(days=days)

    # -- stream metadata ------------------------------------------------------------------------------
    def metadata(self, view: str) -> list[Triple]:
        es = n(self.iri)
        shape = BlankNode("shape")
        triples = [
            _t(es, RDF + "type", n(LDES + "EventStream")),
            _t(es, LDES + "timestampPath", n(PROV + "generatedAtTime")),
            _t(es, LDES + "versionOfPath", n(DCTERMS + "isVersionOf")),
            _t(es, LDES + "versionDeleteObject", n(AS + "Tombstone")),
            _t(es, LDES + "pollingInterval", Literal("60", datatype=n(XSD + "integer"))),
            _t(es, TREE + "view", n(view)),
            _t(es, TREE + "shape", shape),
            _t(es, DCTERMS + "title", Literal("Verenigingen – wijzigingen" + (" (beheer)" if self.restricted else ""),
                                               language="nl")),
            _t(es, DCTERMS + "conformsTo", n("https://w3id.org/ldes/specification")),
        ] + shape_triples(shape)
        days = retention_days() if self.restricted else None
        if days is not None:
            policy = BlankNode("retentie")
            triples += [_t(es, LDES + "retentionPolicy", policy),
                        _t(policy, LDES + "fullLogDuration", Literal(f"P{days}D", datatype=n(XSD + "duration")))]
        return triples


def _page_relations(node: NamedNode, pages: list[tuple[str, str, str, bool]], stream: Stream) -> list[Triple]:
    """GTE first timestamp and, for a full page, LT just after its last timestamp."""
    out = []
    for index, (url, first, last, full) in enumerate(pages):
        for kind, value in (("GreaterThanOrEqualToRelation", first),) + (
                (("LessThanRelation", _after(last)),) if full else ()):
            relation = BlankNode(f"r{index}{kind[0]}")
            out += [_t(node, TREE + "relation", relation), _t(relation, RDF + "type", n(TREE + kind)),
                    _t(relation, TREE + "node", n(url)), _t(relation, TREE + "path", n(PROV + "generatedAtTime")),
                    _t(relation, TREE + "value", Literal(value, datatype=n(XSD + "dateTime")))]
    return out


def _after(timestamp: str) -> str:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + timedelta(microseconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _media() -> str | None:
    """The media type asked for (Turtle when the client does not say); None: nothing offered fits."""
    try:
        return negotiation.negotiate(request, WITH_HTML, default="ttl").media_type
    except negotiation.NotAcceptable:
        return None


def _serialize(triples: list[Triple], media: str) -> bytes:
    rep = next(negotiation.FORMATS[key] for key in WITH_HTML if negotiation.FORMATS[key].media_type == media)
    if rep.key == "html":
        return stream_html.render(triples, WITH_HTML)
    fmt = rep.rdf_format or pyoxigraph.RdfFormat.JSON_LD
    data = [Quad(t.subject, t.predicate, t.object) for t in triples] if fmt.supports_datasets else triples
    prefixes = PREFIXES if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG) else None
    return pyoxigraph.serialize(data, format=fmt, prefixes=prefixes)


def _respond(triples: list[Triple], cache: str) -> Response:
    media = _media()
    if media is None:
        return _not_acceptable()
    return _respond_bytes(_serialize(triples, media), media, cache)


def _not_acceptable() -> Response:
    return http_problem(406, negotiation.not_acceptable_detail(OFFERED))


def _respond_bytes(body: bytes, media: str, cache: str) -> Response:
    """Bytes with an ETag that is the hash of exactly these bytes (so it can never describe another body)."""
    etag = hashlib.sha256(body).hexdigest()[:32]
    if request.if_none_match and request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=media)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache
    response.headers["Vary"] = "Accept, Authorization"
    if not STREAMS.get(request.view_args.get("stream", "verenigingen"), False):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _stream(stream: str) -> Stream:
    """The stream with this name (a Dutch 404 otherwise); reading a restricted one needs a key."""
    if stream not in STREAMS:
        raise not_found(f"Stroom '{stream}' bestaat niet.")
    if STREAMS[stream]:
        return Stream(stream, audit.audience(principal("lezer"), "ldes"))
    return Stream(stream)


def _short_cache(stream: Stream) -> str:
    return "private, max-age=5" if stream.restricted else "public, max-age=5"


# -- entry point and time view ------------------------------------------------------------------------
@bp.get("/ldes/<path:stream>/tijd")
def time_root(stream: str) -> Response:
    s = _stream(stream)
    node = n(f"{s.iri}/tijd")
    pages = []
    bounds = [((k - 1) * PAGE_SIZE + 1, min(k * PAGE_SIZE, s.latest))
              for k in range(1, (s.latest + PAGE_SIZE - 1) // PAGE_SIZE + 1)]
    times = s.timestamps([b for pair in bounds for b in pair])
    for k, (low, high) in enumerate(bounds, start=1):
        pages.append((f"{s.iri}/tijd/{k}", times[low], times[high], high == k * PAGE_SIZE))
    triples = s.metadata(node.value) + [_t(node, RDF + "type", n(TREE + "Node"))] + _page_relations(node, pages, s)
    return _respond(triples, _short_cache(s))


@bp.get("/ldes/<path:stream>/tijd/<int:k>")
def time_page(stream: str, k: int) -> Response:
    s = _stream(stream)
    low, high = (k - 1) * PAGE_SIZE + 1, min(k * PAGE_SIZE, s.latest)
    if k < 1 or low > s.latest:
        return http_problem(404, f"Pagina {k} bestaat (nog) niet.")
    return _page(s, f"{s.iri}/tijd/{k}", range(low, high + 1), full=high == k * PAGE_SIZE)


def _page(s: Stream, url: str, sequences, full: bool) -> Response:
    # A restricted page is never immutable: the retention period and an erasure on request (AVG art. 17)
    # take personal data out of pages already published, so a replica must revalidate them (ETag).
    immutable = full and not s.restricted
    media = _media()
    if media is None:
        return _not_acceptable()
    if immutable:
        # A full public page never changes: rendered once, then served as bytes by every process.
        body = representations.page_store().get_or_render(f"{url}|{media}", lambda: _serialize(
            _page_triples(s, url, sequences, immutable), media))
        return _respond_bytes(body, media, IMMUTABLE)
    body = _serialize(_page_triples(s, url, sequences, immutable), media)
    return _respond_bytes(body, media, _short_cache(s) if not full else "private, no-cache")


def _page_triples(s: Stream, url: str, sequences, immutable: bool) -> list[Triple]:
    node = n(url)
    es = n(s.iri)
    triples = [_t(node, RDF + "type", n(TREE + "Node"))]
    for member in s.store.page(list(sequences), s.audience):
        if not s.within_retention(member.timestamp):
            continue
        triples.append(_t(es, TREE + "member", member.version))
        triples += member.triples
    if immutable:
        triples.append(_t(node, LDES + "immutable", Literal("true", datatype=n(XSD + "boolean"))))
    return triples


# -- per-gemeente view --------------------------------------------------------------------------------
@bp.get("/ldes/<path:stream>/gemeenten")
def gemeente_root(stream: str) -> Response:
    s = _stream(stream)
    node = n(f"{s.iri}/gemeenten")
    triples = s.metadata(node.value) + [_t(node, RDF + "type", n(TREE + "Node"))]
    for code in _gemeenten_with_members(s):
        relation = BlankNode(f"g{code}")
        triples += [_t(node, TREE + "relation", relation), _t(relation, RDF + "type", n(TREE + "EqualToRelation")),
                    _t(relation, TREE + "node", n(f"{s.iri}/gemeente/{code}")),
                    _t(relation, TREE + "path", n(VRX + "gemeente")),
                    _t(relation, TREE + "value", n(codelists.get("werkingsgebieden").find(code).iri))]
    return _respond(triples, _short_cache(s))


def _gemeenten_with_members(s: Stream) -> list[str]:
    """Codes of the werkingsgebieden that have changes: one indexed lookup per code, in one store read."""
    known = [c.code for c in codelists.get("werkingsgebieden").concepts]
    found = s.store.gemeenten_with_members(known)
    return [code for code in known if code in found]


@bp.get("/ldes/<path:stream>/gemeente/<code>")
def gemeente_view(stream: str, code: str) -> Response:
    """A municipality's own entry point: only the changes that concern it."""
    s = _stream(stream)
    if codelists.get("werkingsgebieden").find(code) is None:
        return http_problem(404, f"'{code}' is geen gekende gemeente (werkingsgebied).")
    sequences = s.gemeente_sequences(code)
    node = n(f"{s.iri}/gemeente/{code}")
    pages = []
    chunks = [sequences[i:i + PAGE_SIZE] for i in range(0, len(sequences), PAGE_SIZE)]
    times = s.timestamps([b for chunk in chunks for b in (chunk[0], chunk[-1])])
    for k, chunk in enumerate(chunks, start=1):
        pages.append((f"{node.value}/{k}", times[chunk[0]], times[chunk[-1]], len(chunk) == PAGE_SIZE))
    triples = s.metadata(node.value) + [_t(node, RDF + "type", n(TREE + "Node"))] + _page_relations(node, pages, s)
    return _respond(triples, _short_cache(s))


@bp.get("/ldes/<path:stream>/gemeente/<code>/<int:k>")
def gemeente_page(stream: str, code: str, k: int) -> Response:
    s = _stream(stream)
    sequences = s.gemeente_sequences(code)
    chunk = sequences[(k - 1) * PAGE_SIZE:k * PAGE_SIZE] if k >= 1 else []
    if not chunk:
        return http_problem(404, f"Pagina {k} van gemeente {code} bestaat (nog) niet.")
    return _page(s, f"{s.iri}/gemeente/{code}/{k}", chunk, full=len(chunk) == PAGE_SIZE)


# -- the event stream itself and its DCAT description ------------------------------------------------
@bp.get("/ldes/<path:stream>")
def event_stream(stream: str) -> Response:
    """The ES IRI: metadata, exactly one tree:view (the time view), the other views as distributions."""
    if stream.endswith("/tijd") or stream not in STREAMS:
        return http_problem(404, f"Stroom '{stream}' bestaat niet.")
    s = _stream(stream)
    es = n(s.iri)
    triples = s.metadata(f"{s.iri}/tijd") + [_t(es, RDF + "type", n(DCAT + "Dataset"))]
    for suffix, title in (("tijd", "chronologisch"), ("gemeenten", "per gemeente")):
        view = n(f"{s.iri}/{suffix}")
        triples += [_t(es, DCAT + "distribution", view), _t(view, RDF + "type", n(DCAT + "Distribution")),
                    _t(view, DCAT + "accessURL", view), _t(view, DCTERMS + "title", Literal(title, language="nl"))]
    return _respond(triples, _short_cache(s))
