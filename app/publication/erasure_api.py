"""Admin erasure of personal data from the restricted history.

POST /beheer/wissing/persoon  {"insz": ..., "reden": ...}  erases one person on request (GDPR art. 17);
POST /beheer/wissing/retentie {"reden": ...}               applies the retention period (VR_RETENTION_DAYS).
Both need the admin role, write an audit entry before the erasure's transaction and answer what was
erased (counts and V-codes, never the person's data). See app/store/erasure.py for what is erased.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from app.auth import audit
from app.auth.access import principal
from app.domain.errors import small_body
from app.publication.problems import problem
from app.store import erasure
from app.validation import formats, json_body
from app.validation.errors import CommandRejected, FieldError

bp = Blueprint("erasure", __name__)


def _body(allowed: set[str]) -> dict:
    # The register's one JSON reader: Dutch syntax errors, nesting and text limits (never a RecursionError).
    body = json_body.decode(request.get_data(as_text=True)) if request.mimetype == "application/json" else None
    if not isinstance(body, dict):
        message = "Stuur een JSON-object (Content-Type: application/json)."
        raise CommandRejected(400, "ongeldige-json", "Ongeldige aanvraag", message,
                              [FieldError("", "geen-object", message)])
    # an erasure is irreversible: never run it while ignoring part of what was asked
    small_body(body, allowed, "{" + ", ".join(f'"{key}": "…"' for key in sorted(allowed)) + "}")
    reason = body.get("reden")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500 or formats.contains_html(reason):
        raise CommandRejected(400, "reden", "Ongeldige reden",
                              "Geef een reden (tekst, hoogstens 500 tekens), bv. het kenmerk van het verzoek.",
                              [FieldError("reden", "reden", "Verplicht bij een wissing.")])
    return body


def refresh_queries(register) -> None:
    """No SPARQL query may answer from a checkpoint made before the erasure."""
    workers = getattr(register, "_query_workers", None)
    if workers is not None and hasattr(workers, "refresh"):
        workers.refresh()


def _answer(done: erasure.Erasure) -> Response:
    body = {"gewisteTriples": done.quads, "verenigingen": done.vcodes, "vertegenwoordigerKnopen": done.persons,
            "bankrekeningKnopen": done.accounts}
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/beheer/wissing/persoon")
def erase_person() -> Response:
    caller = principal("admin")
    body = _body({"insz", "reden"})
    try:
        insz = formats.insz(body.get("insz"))
    except ValueError as exc:
        raise CommandRejected(400, "insz", "Ongeldig INSZ", str(exc), [FieldError("insz", "insz", str(exc))]) from None
    register = current_app.extensions["vr"]
    try:
        done = erasure.erase_person(register.store, insz, audit.before_erasure("wissing (verzoek art. 17)", caller,
                                                                               body["reden"].strip()))
    except erasure.StillRepresentative as exc:
        return problem(409, "nog-vertegenwoordiger", "Nog vertegenwoordiger",
                       f"Deze persoon is nog vertegenwoordiger van {', '.join(exc.vcodes)}. Verwijder de "
                       "vertegenwoordiger eerst met de beheer-API (dat is een wijziging met een nieuwe versie) en "
                       "vraag daarna de wissing aan.", verenigingen=exc.vcodes)
    refresh_queries(register)
    return _answer(done)


@bp.post("/beheer/wissing/retentie")
def apply_retention() -> Response:
    caller = principal("admin")
    body = _body({"reden"})
    register = current_app.extensions["vr"]
    days = register.settings.retention_days
    done = erasure.expired(register.store, days, announce=audit.before_erasure(
        f"wissing (retentie {days} dagen)", caller, body["reden"].strip()))
    refresh_queries(register)
    return _answer(done)


@bp.get("/ldes/beheer/wissingen")
def erasure_log() -> Response:
    """For a replica of the restricted stream: the erasures since a moment and the versions each changed.
    Fetch those versions' restricted pages (/doc/vereniging/{vCode}/versie/{n}) again and replace them."""
    principal("lezer")
    since = request.args.get("sinds", "")
    try:
        found = erasure.erasures(current_app.extensions["vr"].store, since)
    except ValueError:
        detail = "'sinds' is een tijdstip in UTC zoals de lijst ze geeft, bv. 2026-12-03T10:00:00.000000Z."
        raise CommandRejected(400, "sinds", "Ongeldig tijdstip", detail,
                              [FieldError("sinds", "sinds", detail)]) from None
    response = Response(json.dumps({"wissingen": found}, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-cache"
    return response

