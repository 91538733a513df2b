"""Who is calling: resolve the credential of a request to a Principal (or anonymous).

Three ways to present a credential, accepted on every endpoint alike:

- `Authorization: Bearer <API key>`: the register's own keys (keys.py);
- `Authorization: Bearer <JWT>`: an OAuth2 access token of the Flemish ACM/IDM (oauth.py);
- `Authorization: Basic base64(<user>:<API key or JWT>)`: for clients that can only send HTTP
  Basic, such as the npm ldes-client (`--basic-auth`). The user name is free, but when it is an
  OVO code it must be the key's own organisation.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace

from flask import Flask, current_app, g, request

from app.auth.keys import Principal
from app.auth.oauth import CHALLENGE, OVO, OAuthSettings, TokenVerifier, looks_like_jwt
from app.store import members
from app.validation.errors import CommandRejected


def _unauthorised(detail: str) -> CommandRejected:
    return CommandRejected(401, "niet-geauthenticeerd", "Niet geauthenticeerd", detail,
                           headers={"WWW-Authenticate": CHALLENGE})


def principal(required_role: str | None = None) -> Principal | None:
    """The caller's principal; None for an anonymous call when no role is required.

    A malformed or unknown credential is always 401 (never silently treated as anonymous), and a
    caller without the required role is 403.
    """
    header = request.headers.get("Authorization")
    if not header:
        if required_role:
            raise _unauthorised("Deze actie vereist een API-sleutel ('Authorization: Bearer <sleutel>' of HTTP "
                                "Basic met de sleutel als wachtwoord) of een OAuth2-token.")
        return None
    found = g.get("vr_principal")
    if found is None:
        found = g.vr_principal = _credential(header)
    if required_role and not found.has(required_role):
        raise CommandRejected(403, "geen-toegang", "Geen toegang",
                              f"De organisatie {found.initiator.ovo} heeft de rol '{required_role}' niet.")
    return found


def _credential(header: str) -> Principal:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return resolve(value.strip())
    if scheme.lower() == "basic" and value.strip():
        return _basic(value.strip())
    raise _unauthorised("De Authorization-header moet de vorm 'Bearer <sleutel of token>' of "
                        "'Basic <base64(gebruiker:sleutel)>' hebben.")


def init_app(app: Flask) -> None:
    """A credential is checked on every endpoint, also one that serves only public data: a client whose key
    expired or was mistyped hears it (401) instead of silently getting less than it asked for.

    A browser sends the Basic credentials a person typed with every request to this register, also one that a
    form on another website makes it send (a cross-site upload to /imports): a write with Basic credentials
    must come from a page of the register itself (Sec-Fetch-Site, else Origin). A key or token in a Bearer
    header is added by the client's own code, which another website cannot do."""
    @app.before_request
    def _credential_checked() -> None:
        header = request.headers.get("Authorization")
        if request.method == "OPTIONS" or not header:
            return
        if request.method not in ("GET", "HEAD") and header.strip().lower().startswith("basic") and _cross_site():
            raise CommandRejected(403, "andere-website", "Andere website",
                                  "Een formulier of script van een andere website mag niet met uw aanmelding in het "
                                  "register schrijven. Gebruik de pagina's van het register zelf.")
        principal()


def _cross_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/") != request.host_url.rstrip("/")


def resolve(credential: str) -> Principal:
    """An API key or an OAuth2 access token → the principal it stands for (401 when neither)."""
    found = current_app.extensions["vr"].keys.lookup(credential)
    if found is not None:
        return as_recorded(found)
    if looks_like_jwt(credential):
        verifier = token_verifier()
        if verifier is None:
            raise _unauthorised("Dit register aanvaardt geen OAuth2-tokens (geen VR_JWKS ingesteld).")
        return as_recorded(verifier.principal(credential))
    raise _unauthorised("Deze API-sleutel is niet gekend.")


def as_recorded(found: Principal) -> Principal:
    """The caller under the name its organisation was first recorded with in the provenance.

    The name is a label on the organisation's IRI, which every version it wrote points to; a token whose
    name claim changed (or a renamed key) would add a second label and so rewrite the attribution of
    published, immutable versions. The first recorded name is kept; it never changes once written, so a
    process remembers it. That an organisation has no name yet holds until the register's sequence moves
    (a name is only written with a version), which the embedded engine knows without reading the store.
    """
    register = current_app.extensions["vr"]
    iri = found.initiator.iri
    label = register.agent_labels.get(iri)
    if label is None:
        sequence = register.store.latest_sequence()
        if register.unnamed_agents.get(iri) == sequence:
            return found
        label = members.agent_label(register.store, iri)
        if label is None:
            register.unnamed_agents[iri] = sequence
            return found
        register.agent_labels[iri] = label
    if label == found.initiator.naam:
        return found
    return replace(found, initiator=replace(found.initiator, naam=label))


def _basic(encoded: str) -> Principal:
    try:
        user, sep, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep, user, secret = "", "", ""
    if not sep or not secret:
        raise _unauthorised("HTTP Basic verwacht base64('<gebruiker>:<API-sleutel>'), met de sleutel als wachtwoord.")
    found = resolve(secret)
    if OVO.fullmatch(user) and user != found.initiator.ovo:
        raise _unauthorised(f"De gebruikersnaam {user} is niet de organisatie van deze sleutel.")
    return found


def token_verifier() -> TokenVerifier | None:
    """The app's token verifier, configured from the environment on first use (None: OAuth2 off)."""
    extensions = current_app.extensions
    if "vr.oauth" not in extensions:
        settings = OAuthSettings.from_env()
        extensions["vr.oauth"] = TokenVerifier(settings) if settings else None
    return extensions["vr.oauth"]
