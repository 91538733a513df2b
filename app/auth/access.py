"""Who is calling: resolve the Bearer key of a request to a Principal (or anonymous)."""

from __future__ import annotations

from flask import current_app, request

from app.auth.keys import Principal
from app.validation.errors import CommandRejected


def _unauthorised(detail: str) -> CommandRejected:
    return CommandRejected(401, "niet-geauthenticeerd", "Niet geauthenticeerd", detail,
                           extra={})


def principal(required_role: str | None = None) -> Principal | None:
    """The caller's principal; None for an anonymous call when no role is required.

    A malformed or unknown key is always 401 (never silently treated as anonymous), and a key
    without the required role is 403.
    """
    header = request.headers.get("Authorization")
    if not header:
        if required_role:
            raise _unauthorised("Deze actie vereist een API-sleutel: 'Authorization: Bearer <sleutel>'.")
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise _unauthorised("De Authorization-header moet de vorm 'Bearer <sleutel>' hebben.")
    found = current_app.extensions["vr"].keys.lookup(key.strip())
    if found is None:
        raise _unauthorised("Deze API-sleutel is niet gekend.")
    if required_role and not found.has(required_role):
        raise CommandRejected(403, "geen-toegang", "Geen toegang",
                              f"De organisatie {found.initiator.ovo} heeft de rol '{required_role}' niet.")
    return found
