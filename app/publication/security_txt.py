"""/.well-known/security.txt (RFC 9116): where to report a vulnerability, from VR_SECURITY_CONTACT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, current_app

from app.publication.problems import http_problem

bp = Blueprint("security_txt", __name__)


@bp.get("/.well-known/security.txt")
def security_txt() -> Response:
    settings = current_app.extensions["vr"].settings
    if not settings.security_contact:
        return http_problem(404, "Dit register publiceert geen beveiligingscontact (VR_SECURITY_CONTACT).")
    expires = (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT00:00:00Z")
    body = (f"Contact: {settings.security_contact}\nExpires: {expires}\nPreferred-Languages: nl, en\n"
            f"Canonical: {settings.base}/.well-known/security.txt\n")
    return Response(body, mimetype="text/plain")
