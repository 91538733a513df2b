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
from pyoxigraph import Literal, NamedNode, Quad, Triple

from app.auth import audit
from app.auth.access import principal
from app.domain import mapping
from app.domain.vcode import parse_vcode
from app.domain.versions import AS, version_iri
from app.namespaces import (
    DCTERMS,
    GRAPH_VERSIONS_PUBLIC,
    GRAPH_VERSIONS_RESTRICTED,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SKOS,
    VRX,
)
from app.publication import negotiation
from app.publication.problems import http_problem
from app.store.oxigraph_store import RegisterStore

bp = Blueprint("historiek", __name__)

FIELD_LABELS = {
    "naam": "naam", "korteNaam": "korte naam", "korteBeschrijving": "korte beschrijving", "startdatum": "startdatum",
    "einddatum": "einddatum", "status": "status", "verenigingstype": "type", "doelgroep": "doelgroep",
    "hoofdactiviteiten": "hoofdactiviteiten", "werkingsgebieden": "werkingsgebieden", "locaties": "locaties",
    "contactgegevens": "contactgegevens", "vertegenwoordigers": "vertegenwoordigers",
    "lidmaatschappen": "lidmaatschappen", "erkenningen": "erkenningen", "bankrekeningnummers": "bankrekeningnummers",
}


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
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def entries(register_store: RegisterStore, base: str, vcode: str, full: bool) -> list[dict]:
    store = register_store.store
    vc_iri = mapping.vereniging_iri(base, vcode)
    graphs = [GRAPH_VERSIONS_PUBLIC] + ([GRAPH_VERSIONS_RESTRICTED] if full else [])
    out: list[dict] = []
    previous: dict | None = None
    number = 1
    while True:
        version = version_iri(vc_iri, number)
        header = {q.predicate.value: q.object for q in store.quads_for_pattern(
            NamedNode(version), None, None, NamedNode(GRAPH_VERSIONS_PUBLIC))}
        if not header:
            break
        activity = header[PROV + "wasGeneratedBy"]
        act = {}
        for quad in store.quads_for_pattern(activity, None, None, NamedNode(GRAPH_VERSIONS_PUBLIC)):
            act.setdefault(quad.predicate.value, []).append(quad.object)
        kind = next((t.value for t in act.get(RDF + "type", []) if t.value.startswith(VRX)), "")
        agent = act[PROV + "wasAssociatedWith"][0]
        agent_name = next((q.object.value for q in store.quads_for_pattern(
            agent, NamedNode(SKOS + "prefLabel"), None, NamedNode(GRAPH_VERSIONS_PUBLIC))), agent.value)
        tombstone = any(q.object.value == AS + "Tombstone" for q in store.quads_for_pattern(
            NamedNode(version), NamedNode(RDF + "type"), None, NamedNode(GRAPH_VERSIONS_PUBLIC)))
        state = None if tombstone else _state_at(register_store, vc_iri, version, graphs)
        changes = _diff(previous, state, full)
        out.append({
            "versie": number, "iri": version, "tijdstip": header[PROV + "generatedAtTime"].value,
            "activiteit": kind.rsplit("#", 1)[-1], "beschrijving": _label(kind), "initiator": agent.value,
            "initiatorNaam": agent_name, "reden": act[RDFS + "comment"][0].value if RDFS + "comment" in act else None,
            "wijzigingen": changes,
        })
        previous = state
        number += 1
    return out


def _state_at(store: RegisterStore, vc_iri: str, version: str, graphs: list[str]) -> dict:
    """The vereniging as it was in this version (snapshot IRIs mapped back onto the vereniging's)."""
    prefix = version + "/"
    quads = []

    def back(term):
        if isinstance(term, NamedNode):
            if term.value == version:
                return NamedNode(vc_iri)
            if term.value.startswith(prefix):
                return NamedNode(vc_iri + "/" + term.value[len(prefix):])
        return term

    # The version's own activity comes along (it sits below the version IRI); the mapping ignores it.
    for quad in store.record_quads(version, graphs):
        quads.append(Quad(back(quad.subject), quad.predicate, back(quad.object)))
    return mapping.quads_to_state(quads, vc_iri)


def _diff(before: dict | None, after: dict | None, full: bool) -> list[dict]:
    if after is None:
        return [{"veld": "vereniging", "voor": "bestaat", "na": "verwijderd"}]
    changes = []
    for key, label in FIELD_LABELS.items():
        if key in ("vertegenwoordigers", "bankrekeningnummers") and not full:
            continue
        old = _mask((before or {}).get(key)) if before else None
        new = _mask(after.get(key))
        if old != new and not (before is None and new in (None, [], {})):
            changes.append({"veld": label, "voor": _show(old), "na": _show(new)})
    return changes


@bp.get("/doc/vereniging/<code>/historiek")
@bp.get("/doc/vereniging/<code>/historiek.<ext>")
def historiek(code: str, ext: str | None = None) -> Response:
    vcode = parse_vcode(code)
    if vcode is None:
        return http_problem(404, f"Vereniging '{code}' is niet gekend in het register.")
    try:
        rep = negotiation.choose(request, ext)
    except KeyError:
        return http_problem(404, f"Onbekende extensie '.{ext}'.")
    except negotiation.NotAcceptable:
        return http_problem(406, "Beschikbare formaten: text/html, text/turtle, application/ld+json.")
    caller = principal()
    full = caller is not None
    audit.record("historiek", caller, vcode)
    register = current_app.extensions["vr"]
    items = entries(register.store, register.settings.base, vcode, full)
    if not items:
        return http_problem(404, "De historiek van de gevraagde vereniging is niet gevonden.")
    if rep.key == "html":
        body = render_template("historiek.html", vcode=vcode, items=items, full=full)
    elif rep.key == "jsonld":
        body = json.dumps({"@context": {"@vocab": VRX, "iri": "@id"}, "vCode": vcode, "gebeurtenissen": [
            {k: (v.value if hasattr(v, "value") else v) for k, v in item.items()} for item in items]},
            ensure_ascii=False, indent=2)
    else:
        body = pyoxigraph.serialize(_triples(items, register.settings.base, vcode), format=rep.rdf_format,
                                    prefixes=PREFIXES if rep.key == "ttl" else None)
    response = Response(body, mimetype=rep.media_type)
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if full else "public, max-age=30"
    return response


def _triples(items: list[dict], base: str, vcode: str) -> list[Triple]:
    vc = NamedNode(mapping.vereniging_iri(base, vcode))
    out = []
    for item in items:
        v = NamedNode(item["iri"])
        out += [Triple(v, NamedNode(DCTERMS + "isVersionOf"), vc),
                Triple(v, NamedNode(PROV + "generatedAtTime"),
                       Literal(item["tijdstip"], datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))),
                Triple(v, NamedNode(RDFS + "label"), Literal(item["beschrijving"], language="nl")),
                Triple(v, NamedNode(PROV + "wasAttributedTo"), NamedNode(item["initiator"]))]
        if item["reden"]:
            out.append(Triple(v, NamedNode(RDFS + "comment"), Literal(item["reden"], language="nl")))
        for index, change in enumerate(item["wijzigingen"]):
            node = NamedNode(f"{item['iri']}/wijziging/{index + 1}")
            out += [Triple(v, NamedNode(VRX + "wijziging"), node),
                    Triple(node, NamedNode(VRX + "veld"), Literal(change["veld"])),
                    Triple(node, NamedNode(VRX + "vorigeWaarde"), Literal(change["voor"])),
                    Triple(node, NamedNode(VRX + "nieuweWaarde"), Literal(change["na"]))]
    return out
