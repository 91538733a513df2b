"""Dereferenceable verenigingen: /id/… → 303 → /doc/…, negotiated to Turtle, JSON-LD, N-Triples,
RDF/XML or HTML.

The public view reads from the public graph only; the restricted graph is added only for a
caller with a valid key. There is no filtering step that could forget something: what a
graph does not contain cannot leak.
"""

from __future__ import annotations

import json
from datetime import date

import pyoxigraph
from flask import Blueprint, Response, current_app, redirect, render_template, request

from app.auth import audit
from app.auth.access import principal
from app.domain import codelists, mapping
from app.domain.vcode import parse_vcode
from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED, PREFIXES
from app.publication import jsonld, negotiation
from app.publication.problems import http_problem

bp = Blueprint("resources", __name__)


@bp.get("/id/vereniging/<code>")
def thing(code: str) -> Response:
    vcode = parse_vcode(code)
    if vcode is None:
        return _not_found(code)
    target = f"/doc/vereniging/{vcode}"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, 303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/vereniging/<code>")
def document(code: str) -> Response:
    extension = None
    if "." in code:
        code, extension = code.split(".", 1)
    vcode = parse_vcode(code)
    if vcode is None:
        return _not_found(code)
    try:
        rep = negotiation.choose(request, extension)
    except KeyError:
        return http_problem(404, f"Onbekende extensie '.{extension}'. Gebruik .ttl, .jsonld, .nt, .rdf of .html.")
    except negotiation.NotAcceptable:
        return http_problem(406, "Beschikbare formaten: text/html, text/turtle, application/ld+json, "
                                 "application/n-triples, application/rdf+xml.")
    caller = principal()
    full = caller is not None
    register = current_app.extensions["vr"]
    iri = mapping.vereniging_iri(register.settings.base, vcode)
    graphs = [GRAPH_PUBLIC, GRAPH_RESTRICTED] if full else [GRAPH_PUBLIC]
    if register.handler.is_removed(vcode):
        return http_problem(410, f"Vereniging '{vcode}' werd verwijderd.")
    quads = register.store.record_quads(iri, graphs)
    if not quads:
        return _not_found(vcode)
    version = register.handler.version_of(vcode)
    etag = f'W/"{version}"'
    vary = "Accept, Authorization"
    if full:
        audit.record("lezen", caller, vcode)
    if request.if_none_match and request.if_none_match.contains_weak(str(version)):
        response = Response(status=304)
    else:
        response = Response(_render(rep, quads, iri, vcode, full, register), mimetype=rep.media_type)
        if rep.key in ("ttl", "html", "jsonld", "nt", "rdf"):
            response.charset = "utf-8"
    response.headers["ETag"] = etag
    response.headers["Vary"] = vary
    response.headers["Cache-Control"] = "private, no-store" if full else "public, max-age=60"
    response.headers["Content-Location"] = f"/doc/vereniging/{vcode}.{rep.key}"
    response.headers["Link"] = f'<{iri}>; rel="describedby"'
    return response


def _render(rep: negotiation.Representation, quads, iri: str, vcode: str, full: bool, register) -> bytes | str:
    if rep.rdf_format is not None:
        triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads]
        return pyoxigraph.serialize(triples, format=rep.rdf_format, prefixes=PREFIXES)
    if rep.key == "jsonld":
        doc = jsonld.compact_record(quads, iri, register.settings.base + jsonld.CONTEXT_PATH)
        return json.dumps(doc, ensure_ascii=False, indent=2)
    state = mapping.quads_to_state(quads, iri)
    return render_template("vereniging.html", v=view_model(state, vcode, iri, quads), full=full,
                           formats=negotiation.REPRESENTATIONS)


def view_model(state: dict, vcode: str, iri: str, quads) -> dict:
    """State plus labels for the HTML page."""
    rec = mapping.Record(quads)

    def label(scheme: str, code: str | None) -> str:
        found = codelists.get(scheme).find(code) if code else None
        return found.label if found else (code or "")

    model = dict(state)
    model.update({
        "vCode": vcode,
        "iri": iri,
        "type_label": label("verenigingstypes", state["verenigingstype"]),
        "status_label": label("verenigingstatus", state["status"]),
        "hoofdactiviteiten_labels": [(c, label("hoofdactiviteiten", c)) for c in state["hoofdactiviteiten"]],
        "werkingsgebieden_labels": [(c, label("werkingsgebieden", c)) for c in state["werkingsgebieden"]],
        "gewijzigd": rec.one(iri, "http://purl.org/dc/terms/modified"),
        "erkenningen": [dict(e, status=erkenning_status(e)) for e in state["erkenningen"]],
        "locaties": [dict(loc, adresvoorstelling=mapping.adresvoorstelling(loc["adres"]) if loc.get("adres")
                          else loc.get("adresId")) for loc in state["locaties"]],
    })
    return model


def erkenning_status(erkenning: dict, today: date | None = None) -> str:
    """InAanvraag before the start, Verlopen after the end, Actief in between (reference §1.4.6)."""
    today_text = (today or date.today()).isoformat()
    if erkenning.get("startdatum") and erkenning["startdatum"] > today_text:
        return "InAanvraag"
    if erkenning.get("einddatum") and erkenning["einddatum"] < today_text:
        return "Verlopen"
    return "Actief"


def _not_found(code: str) -> Response:
    return http_problem(404, f"Vereniging '{code}' is niet gekend in het register.")
