"""Whole-register downloads, streamed: /dumps/verenigingen.{nq,ttl,jsonld,csv} (public) and
/dumps/beheer/verenigingen.{…} (restricted: any valid key)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, stream_with_context

from app.auth import audit
from app.auth.access import principal
from app.exchange import export
from app.publication import jsonld
from app.publication.problems import http_problem

bp = Blueprint("dumps", __name__)


def _dump(fmt: str, restricted: bool) -> Response:
    if fmt not in export.FORMATS:
        return http_problem(404, f"Onbekend formaat '.{fmt}': kies uit {', '.join(export.FORMATS)}.")
    register = current_app.extensions["vr"]
    body = export.stream(register.store, fmt, restricted, register.settings.base + jsonld.CONTEXT_PATH)
    response = Response(stream_with_context(body), mimetype=export.FORMATS[fmt])
    name = f"verenigingen{'-beheer' if restricted else ''}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if restricted:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/dumps/verenigingen.<fmt>")
def public_dump(fmt: str) -> Response:
    return _dump(fmt, restricted=False)


@bp.get("/dumps/beheer/verenigingen.<fmt>")
def restricted_dump(fmt: str) -> Response:
    caller = principal("lezer")
    audit.record("dump", caller)
    return _dump(fmt, restricted=True)
