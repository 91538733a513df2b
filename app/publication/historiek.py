"""Recordhistoriek: every change of one vereniging — when, who, what (before → after), why.

Built from the version snapshots the write path keeps, so it needs no separate event log: each
version is turned back into a state and compared with the previous one. The public history
reads the public version graph only (personal data never appears there); with a key the
restricted snapshots are added, and INSZ numbers are still masked.
"""

from __future__ import annotations

import json

import pyoxigraph
from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import NamedNode, Quad, Triple

from app.auth import audit
from app.auth.access import principal
from app.domain import mapping
from app.domain.model import MODEL
from app.domain.vcode import parse_vcode
from app.domain.versions import AS, rebase, version_iri
from app.namespaces import (
    DCTERMS,
    GRAPH_VERSIONS_PUBLIC,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SKOS,
    VRX,
    XSD,
)
from app.publication import negotiation, representations
from app.publication.problems import http_problem
from app.publication.representations import RenderCache
from app.store import RegisterStore
from app.store.audience import PUBLIC, Audience
from app.store.base import QuadIndex

bp = Blueprint("historiek", __name__)

FIELD_LABELS = MODEL.labels()
RESTRICTED_PARTS = {part.kind for part in MODEL.parts if part.restricted}


def _label(activity_class: str) -> str:
    """'VerenigingWerdGewijzigd' → 'Vereniging werd gewijzigd'."""
    name = activity_class.rsplit("#", 1)[-1]
    words = "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip()
    return words[:1].upper() + words[1:]


def _mask(value: object) -> object:
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, dict):
        return {k: ("***********" if k == "insz" else _mask(v)) for k, v in value.items() if k != "id"}
    return value


def _show(value: object) -> str:
    if value in (None, [], {}):
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # a reader of the portal reads Dutch, not JSON
        return "ja" if value else "nee"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def entries(register_store: RegisterStore, base: str, vcode: str, audience: Audience = PUBLIC,
            latest: int | None = None, cache: RenderCache | None = None) -> list[dict]:
    """One entry per version (up to `latest`); with a cache, each version's entry is built once.
    A restricted audience sees the full history (its store read is audited by the reader)."""
    vc_iri = mapping.vereniging_iri(base, vcode)
    full = audience.restricted
    graphs = list(audience.version_graphs)
    read: list[QuadIndex] = []

    def store() -> QuadIndex:
        """Every version of the vereniging in one store read, walked in memory; only when needed."""
        if not read:
            read.append(register_store.history(vc_iri, audience))
        return read[0]

    out: list[dict] = []
    previous: dict | None = None
    number = 1
    while latest is None or number <= latest:
        version = version_iri(vc_iri, number)
        found = cache.get(("historiek", version, full)) if cache is not None else None
        if found is None:
            found = _entry(store(), vc_iri, version, number, graphs, previous, full)
            if found is None:
                break
            if cache is not None:
                cache.put(("historiek", version, full), found)
        entry, previous = found
        out.append(entry)
        number += 1
    return out


def _entry(store: QuadIndex, vc_iri: str, version: str, number: int, graphs: list[str],
           previous: dict | None, full: bool) -> tuple[dict, dict | None] | None:
    """The history entry of one version and the state it leaves (the next entry's 'before')."""
    header = {q.predicate.value: q.object for q in store.quads_for_pattern(
        NamedNode(version), None, None, NamedNode(GRAPH_VERSIONS_PUBLIC))}
    if not header:
        return None
    activity = header[PROV + "wasGeneratedBy"]
    act: dict[str, list] = {}
    for quad in store.quads_for_pattern(activity, None, None, NamedNode(GRAPH_VERSIONS_PUBLIC)):
        act.setdefault(quad.predicate.value, []).append(quad.object)
    kind = next((t.value for t in act.get(RDF + "type", []) if t.value.startswith(VRX)), "")
    agent = act[PROV + "wasAssociatedWith"][0]
    agent_name = next((q.object.value for q in store.quads_for_pattern(
        agent, NamedNode(SKOS + "prefLabel"), None, NamedNode(GRAPH_VERSIONS_PUBLIC))), agent.value)
    tombstone = any(q.object.value == AS + "Tombstone" for q in store.quads_for_pattern(
        NamedNode(version), NamedNode(RDF + "type"), None, NamedNode(GRAPH_VERSIONS_PUBLIC)))
    state = None if tombstone else _state_at(store, vc_iri, version, graphs)
    entry = {
        "iri": version, "versie": number, "tijdstip": header[PROV + "generatedAtTime"].value,
        "beschrijving": _label(kind),
        "activiteit": {"iri": activity.value, "type": kind.rsplit("#", 1)[-1],
                       "initiator": {"iri": agent.value, "naam": agent_name},
                       **({"reden": act[RDFS + "comment"][0].value} if RDFS + "comment" in act else {})},
        "wijzigingen": _diff(previous, state, full),
    }
    return entry, state


def _state_at(store: QuadIndex, vc_iri: str, version: str, graphs: list[str]) -> dict:
    """The vereniging as it was in this version (snapshot IRIs mapped back onto the vereniging's)."""
    quads = []
    back = rebase(version, vc_iri)
    # The version's own activity comes along (it sits below the version IRI); the mapping ignores it.
    for quad in store.tree(version, graphs):
        quads.append(Quad(back(quad.subject), quad.predicate, back(quad.object)))
    return mapping.quads_to_state(quads, vc_iri)


def _diff(before: dict | None, after: dict | None, full: bool) -> list[dict]:
    if after is None:
        return [{"veld": "vereniging", "voor": "bestaat", "na": "verwijderd"}]
    changes = []
    for key, label in FIELD_LABELS.items():
        if key in RESTRICTED_PARTS and not full:
            continue
        old = _mask((before or {}).get(key)) if before else None
        new = _mask(after.get(key))
        if old != new and not (before is None and new in (None, [], {})):
            changes.append({"veld": label, "voor": _show(old), "na": _show(new)})
    return changes


CONTEXT = {
    "@version": 1.1, "@vocab": VRX, "xsd": XSD, "iri": "@id", "type": "@type",
    "vCode": DCTERMS + "identifier",
    "gebeurtenissen": {"@reverse": DCTERMS + "isVersionOf"},
    "versie": {"@id": VRX + "versienummer", "@type": XSD + "integer"},
    "tijdstip": {"@id": PROV + "generatedAtTime", "@type": XSD + "dateTime"},
    "beschrijving": {"@id": RDFS + "label", "@language": "nl"},
    "activiteit": {"@id": PROV + "wasGeneratedBy"},
    "initiator": {"@id": PROV + "wasAssociatedWith"},
    "naam": {"@id": SKOS + "prefLabel", "@language": "nl"},
    "reden": {"@id": RDFS + "comment", "@language": "nl"},
    "wijzigingen": {"@id": VRX + "wijziging", "@container": "@set"},
    "veld": VRX + "veld", "voor": VRX + "vorigeWaarde", "na": VRX + "nieuweWaarde",
}


def history_document(items: list[dict], vc_iri: str, vcode: str) -> dict:
    """The history as JSON-LD: the one graph every other format is parsed from. A value that did not exist
    (before a registration, after a removal) has no triple; a list or an object is a JSON literal (rdf:JSON,
    JSON-LD's "@json"), which a program reads as JSON rather than as text it must parse."""
    return {"@context": CONTEXT, "iri": vc_iri, "vCode": vcode,
            "gebeurtenissen": [{**item, "wijzigingen": [_as_data(c) for c in item.get("wijzigingen", [])]}
                               for item in items]}


def _as_data(change: dict) -> dict:
    out = {"veld": change["veld"]}
    for side in ("voor", "na"):
        value = change.get(side)
        if value in (None, "—"):
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = {"@value": json.loads(value), "@type": "@json"}
            except ValueError:
                pass
        out[side] = value
    return out


def _render(rep: negotiation.Representation, items: list[dict], vc_iri: str, vcode: str, full: bool) -> bytes:
    document = history_document(items, vc_iri, vcode)
    if rep.key == "html":
        return render_template("historiek.html", vcode=vcode, items=items, full=full).encode("utf-8")
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if rep.key == "jsonld":
        return text.encode("utf-8")
    triples = [Triple(q.subject, q.predicate, q.object)
               for q in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.JSON_LD)]
    return pyoxigraph.serialize(triples, format=rep.rdf_format, prefixes=PREFIXES)


@bp.get("/doc/vereniging/<code>/historiek")
@bp.get("/doc/vereniging/<code>/historiek.<ext>")
def historiek(code: str, ext: str | None = None) -> Response:
    vcode = parse_vcode(code)
    if vcode is None:
        return http_problem(404, f"Vereniging '{code}' is niet gekend in het register.")
    rep = negotiation.choose_or_problem(request, ext)
    if isinstance(rep, Response):
        return rep
    caller = principal()
    full = caller is not None
    register = current_app.extensions["vr"]
    vc_iri = mapping.vereniging_iri(register.settings.base, vcode)
    latest = register.handler.version_of(vcode)
    if not latest:
        return http_problem(404, "De historiek van de gevraagde vereniging is niet gevonden.")
    renders = representations.cache()
    tag = negotiation.representation_tag(latest, rep.key, full)
    if request.if_none_match and request.if_none_match.contains_weak(tag):
        response = Response(status=304)
        response.headers.update({"ETag": f'W/"{tag}"', "Vary": "Accept, Authorization",
                                 "Cache-Control": "private, no-store" if full else "public, max-age=30"})
        if not full:
            response.headers.update({"Access-Control-Allow-Origin": "*",
                                     "Access-Control-Expose-Headers": "ETag, Link, Vary"})
        return response

    def render() -> bytes:
        items = entries(register.store, register.settings.base, vcode, audit.audience(caller, "historiek"), latest,
                        None if full else renders)
        return _render(rep, items, vc_iri, vcode, full)

    body = render() if full else renders.get_or_render((vc_iri, "historiek", latest, rep.key), render)
    response = Response(body, mimetype=rep.media_type)
    response.charset = "utf-8"
    response.headers["ETag"] = f'W/"{tag}"'
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if full else "public, max-age=30"
    response.headers["Link"] = f'<{vc_iri}>; rel="about"'
    if not full:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link, Vary"
    return response
