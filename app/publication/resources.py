"""Dereferenceable verenigingen: /id/… → 303 → /doc/…, negotiated to Turtle, JSON-LD, N-Triples,
RDF/XML or HTML.

The public view reads from the public graph only; the restricted graph is added only for a
caller with a valid key. There is no filtering step that could forget something: what a
graph does not contain cannot leak.
"""

from __future__ import annotations

import json

import pyoxigraph
from flask import Blueprint, Response, current_app, redirect, render_template, request
from pyoxigraph import NamedNode

from app.auth import audit
from app.auth.access import principal
from app.domain import clock, codelists, erkenningen, mapping, versions
from app.domain.vcode import parse_vcode
from app.namespaces import PREFIXES
from app.publication import jsonld, negotiation, portal, representations, vocab
from app.publication.problems import http_problem
from app.store import members
from app.store.audience import Audience

bp = Blueprint("resources", __name__)


CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Link, Location, Content-Location, Vary"}


@bp.get("/id/vereniging/<code>")
def thing(code: str) -> Response:
    vcode = parse_vcode(code)
    if vcode is None:
        return _not_found(code)
    return _see_other(f"/doc/vereniging/{vcode}")


@bp.get("/id/vereniging/<code>/<path:part>")
def part(code: str, part: str) -> Response:
    """Every IRI minted below a vereniging: 303 to the document that describes it.

    Parts of the current record (locatie/1, contactgegeven/2, identificator/…, oprichting, …)
    are described by the record's document; a version and everything below it (its parts, its
    activity) by the version's document.
    """
    vcode = parse_vcode(code)
    if vcode is None:
        return _not_found(code)
    register = current_app.extensions["vr"]
    iri = f"{mapping.vereniging_iri(register.settings.base, vcode)}/{part}"
    segments = part.split("/")
    if segments[0] == "versie" and len(segments) > 1 and segments[1].isdigit():
        target = f"/doc/vereniging/{vcode}/versie/{int(segments[1])}"
    else:
        target = f"/doc/vereniging/{vcode}"
    if not members.describes(register.store, iri, audit.audience(principal(), "lezen")):
        return http_problem(404, f"'{iri}' is niet gekend in het register.")
    return _see_other(target)


def _see_other(target: str) -> Response:
    response = redirect(target + ("?" + request.query_string.decode("latin-1") if request.query_string else ""), 303)
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = f'<{target}>; rel="describedby"'
    response.headers.update(CORS)
    return response


def _choose(extension: str | None) -> negotiation.Representation | Response:
    return negotiation.choose_or_problem(request, extension)


@bp.get("/doc/vereniging/<code>")
def document(code: str) -> Response:
    extension = None
    if "." in code:
        code, extension = code.split(".", 1)
    vcode = parse_vcode(code)
    if vcode is None:
        return _not_found(code)
    rep = _choose(extension)
    if isinstance(rep, Response):
        return rep
    caller = principal()
    full = caller is not None
    register = current_app.extensions["vr"]
    iri = mapping.vereniging_iri(register.settings.base, vcode)
    current, removed = register.handler.records.status(vcode)  # one store read for a cached answer
    if removed:
        return http_problem(410, f"Vereniging '{vcode}' werd verwijderd.", **portal.removed_facts(register, vcode))
    if current is None:
        return _not_found(vcode)
    if request.if_none_match and request.if_none_match.contains_weak(
            negotiation.representation_tag(current, rep.key, full)):
        response = Response(status=304)
        version = current
    else:
        found = _record_body(register, vcode, iri, rep, audit.audience(caller, "lezen"), current)
        if found is None:
            return _not_found(vcode)
        version, body = found
        response = _body_response(body, rep)
    response.headers["ETag"] = f'W/"{negotiation.representation_tag(version, rep.key, full)}"'
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if full else "public, max-age=60"
    response.headers["Content-Location"] = f"/doc/vereniging/{vcode}.{rep.key}"
    response.headers["Link"] = f'<{iri}>; rel="about"'
    if not full:
        response.headers.update(CORS)
    return response


def _record_body(register, vcode: str, iri: str, rep: negotiation.Representation,
                 audience: Audience, version: int | None) -> tuple[int, bytes] | None:
    """The body and the version it shows, read consistently.

    The record's triples are read by several lookups; a write that lands between them would
    mix versions. So the version is read before and after the triples, and the read is retried
    until both agree: body and ETag then always belong to the same version.
    """
    renders = representations.cache()
    full = audience.restricted
    for attempt in range(20):
        if attempt:  # the first try uses the version the caller read just before; a retry reads it anew
            version = register.handler.version_of(vcode)
        if version is None:
            return None
        key = (iri, version, rep.key)
        if not full and (cached := renders.get(key)) is not None:
            return version, cached
        quads = register.store.record(iri, audience)  # a restricted read is audited by the reader
        if register.handler.version_of(vcode) != version:
            continue
        if not quads:
            return None
        body = _encode(_render(rep, quads, iri, vcode, full, register))
        if not full:
            renders.put(key, body)
        return version, body
    raise RuntimeError(f"no consistent read of {vcode}")


def _encode(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _body_response(body: bytes, rep: negotiation.Representation) -> Response:
    response = Response(body, mimetype=rep.media_type)
    response.charset = "utf-8"
    return response


@bp.get("/doc/vereniging/<code>/versie/<name>")
def version_document(code: str, name: str) -> Response:
    """One version as the stream publishes it: its snapshot, its activity and the agent."""
    number, _, extension = name.partition(".")
    vcode = parse_vcode(code)
    if vcode is None or not number.isdigit():
        return _not_found(code)
    rep = _choose(extension or None)
    if isinstance(rep, Response):
        return rep
    caller = principal()
    register = current_app.extensions["vr"]
    version = versions.version_iri(mapping.vereniging_iri(register.settings.base, vcode), int(number))
    def render() -> bytes:
        triples = members.member_triples(register.store, NamedNode(version), audit.audience(caller, "lezen"))
        return _encode(_render_version(rep, triples, version)) if triples else b""

    body = render() if caller is not None else representations.cache().get_or_render((version, rep.key), render)
    if not body:
        return http_problem(404, f"Versie {number} van vereniging '{vcode}' is niet gekend.")
    tag = negotiation.representation_tag(int(number), rep.key, caller is not None)
    response = Response(status=304) if request.if_none_match and request.if_none_match.contains_weak(tag) \
        else _body_response(body, rep)
    response.headers["ETag"] = f'W/"{tag}"'  # a version never changes: its number is its tag
    response.headers["Vary"] = "Accept, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if caller else "public, max-age=31536000, immutable"
    response.headers["Content-Location"] = f"/doc/vereniging/{vcode}/versie/{number}.{rep.key}"
    response.headers["Link"] = f'<{version}>; rel="about"'
    if caller is None:
        response.headers.update(CORS)
    return response


def _render(rep: negotiation.Representation, quads, iri: str, vcode: str, full: bool, register) -> bytes | str:
    triples = [pyoxigraph.Triple(q.subject, q.predicate, q.object) for q in quads]
    # What the record points to (concepts, the issuing authority), so it labels and validates on its own.
    context = vocab.referenced(triples, lambda agent: members.agent_label(register.store, agent))
    if rep.rdf_format is not None:
        return pyoxigraph.serialize(triples + context, format=rep.rdf_format, prefixes=PREFIXES)
    if rep.key == "jsonld":
        doc = jsonld.compact_record(quads, iri, register.settings.base + jsonld.CONTEXT_PATH)
        if context:
            doc["@included"] = jsonld.compact_nodes(context)
        return json.dumps(doc, ensure_ascii=False, indent=2)
    state = mapping.quads_to_state(quads, iri)
    return render_template("vereniging.html", v=view_model(state, vcode, iri, quads), full=full,
                           formats=negotiation.REPRESENTATIONS)


def _render_version(rep: negotiation.Representation, triples: list[pyoxigraph.Triple], version: str) -> bytes | str:
    if rep.rdf_format is not None:
        return pyoxigraph.serialize(triples, format=rep.rdf_format, prefixes=PREFIXES)
    if rep.key == "jsonld":
        return pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.JSON_LD)
    rows = sorted((t.subject.value, t.predicate.value, t.object) for t in triples)
    return render_template("resource.html", title=f"Versie {version.rsplit('/', 1)[-1]}", subject=version,
                           rows=rows, prefixes=PREFIXES)


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
        "erkenningen": [_erkenning(e, label) for e in state["erkenningen"]],
        "locaties": [dict(loc, adresvoorstelling=mapping.adresvoorstelling(loc["adres"]) if loc.get("adres")
                          else loc.get("adresId"), locatietype_label=label("locatietypes", loc.get("locatietype")))
                     for loc in state["locaties"]],
        "contactgegevens": [dict(c, type_label=label("contactgegeventypes", c.get("contactgegeventype")))
                            for c in state["contactgegevens"]],
    })
    return model


def _erkenning(item: dict, label) -> dict:
    """An erkenning with its status as stored (kept current by RefreshErkenningen) and its label."""
    status = item.get("status") or erkenningen.status(item, clock.today())
    return dict(item, status=status, status_label=label("erkenningstatus", status))


def _not_found(code: str) -> Response:
    return http_problem(404, f"Vereniging '{code}' is niet gekend in het register.")
