"""The write API for gegevensinitiatoren: JSON-LD (or Turtle) in, problem+json on every error."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, request

from app.auth import audit
from app.auth.access import principal
from app.domain.named_commands import Register
from app.domain.versions import Provenance
from app.namespaces import FV
from app.publication import jsonld
from app.validation import formats, json_body
from app.validation.errors import CommandRejected, FieldError

bp = Blueprint("write_api", __name__)

JSON_TYPES = ("application/ld+json", "application/json")
TURTLE_TYPES = ("text/turtle", "application/x-turtle")
ROOT_TYPES = {FV + "FeitelijkeVereniging", FV + "Vereniging"}


def _bad_request(slug: str, title: str, detail: str, path: str = "") -> CommandRejected:
    return CommandRejected(400, slug, title, detail, [FieldError(path, slug, detail)])


MERGE_PATCH = "application/merge-patch+json"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def read_body(media_types: tuple[str, ...] = JSON_TYPES + TURTLE_TYPES) -> dict:
    """The request body as compact JSON-LD with our context, whatever syntax it came in.

    A merge patch (RFC 7386) is read as plain JSON: its nulls mean "remove" and must survive.
    """
    register = current_app.extensions["vr"]
    limit = register.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise CommandRejected(413, "te-groot", "Aanvraag te groot",
                              f"De body mag hoogstens {limit} bytes groot zijn.")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise CommandRejected(415, "codering-niet-ondersteund", "Content-Encoding niet ondersteund",
                              f"Stuur de body zonder Content-Encoding, niet '{encoding}' (de body is klein: "
                              f"hoogstens {limit} bytes).")
    media_type = request.mimetype
    if media_type not in media_types:
        raise CommandRejected(415, "mediatype-niet-ondersteund", "Mediatype niet ondersteund",
                              f"Stuur {', '.join(media_types)}, niet '{media_type or 'geen Content-Type'}'.")
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise CommandRejected(413, "te-groot", "Aanvraag te groot", f"De body mag hoogstens {limit} bytes groot zijn.")
    try:
        text = raw.decode(request.mimetype_params.get("charset", "utf-8")).removeprefix("\ufeff")  # PowerShell's BOM
    except LookupError:
        raise _bad_request("codering", "Onbekende tekencodering",
                           f"De tekencodering '{request.mimetype_params.get('charset', '')[:40]}' is niet gekend; "
                           "stuur UTF-8.") from None
    except UnicodeDecodeError:
        raise _bad_request("codering", "Ongeldige tekencodering", "De body is geen geldige UTF-8 tekst.") from None
    if media_type in TURTLE_TYPES:
        try:
            doc = json_body.clean(jsonld.turtle_to_doc(text, request.base_url, ROOT_TYPES))
        except RecursionError:
            raise json_body.refused("", "te-diep", "De Turtle is te diep genest.") from None
        return jsonld.local_references(doc, register.settings.base)
    doc = json_body.decode(text)
    if media_type == MERGE_PATCH or (media_type == "application/json" and MERGE_PATCH in media_types):
        if isinstance(doc, dict) and "@context" in doc and not jsonld.is_own_context(doc["@context"]):
            raise _bad_request("context", "Andere context", "Een merge patch gebruikt de context van het register.",
                               "@context")
        doc = {k: v for k, v in doc.items() if k != "@context"} if isinstance(doc, dict) else doc
        return jsonld.local_references(doc, register.settings.base)
    try:
        doc = jsonld.normalise(doc, request.base_url, ROOT_TYPES if request.path == "/verenigingen" else None)
    except RecursionError:
        raise json_body.refused("", "te-diep", "De JSON-LD is te diep genest.") from None
    return jsonld.local_references(doc, register.settings.base)


def once(payload: object = None) -> dict:
    """Keyword arguments that make a POST idempotent under its `Idempotency-Key` header.

    The key is scoped to the caller's organisation and bound to this endpoint and body: a retry
    returns the first outcome, the same key with another request is refused (422).
    """
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise _bad_request("idempotency-key", "Ongeldige Idempotency-Key",
                           "Een Idempotency-Key bestaat uit 1 tot 200 zichtbare ASCII-tekens.", "Idempotency-Key")
    return {"idempotency_key": key, "payload": (request.method, request.path, payload)}


def header_text(value: str | None) -> str | None:
    """A header's text as the client meant it. HTTP carries header bytes, which WSGI hands over read as
    Latin-1; clients (curl, browsers, requests) send UTF-8, so 'reünie' arrived as 'reÃ¼nie'. Bytes that are
    valid UTF-8 are read as such; other bytes keep their Latin-1 reading."""
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def provenance(activity: str, caller, reason: str | None = None) -> Provenance:
    """Who does this and why: the caller's organisation and the optional reason (VR-Reden header or body)."""
    reason = reason if reason is not None else header_text(request.headers.get("VR-Reden"))
    if reason is not None:
        if not isinstance(reason, str) or formats.contains_html(reason) or len(reason) > 500:
            raise _bad_request("reden", "Ongeldige reden", "Een reden is tekst zonder HTML, hoogstens 500 tekens.",
                               "reden")
        reason = json_body.check_text(reason, "reden").strip() or None
    operation = "registratie" if request.path == "/verenigingen" else f"schrijven ({request.method})"
    return Provenance(activity, caller.initiator, reason, before_commit=audit.before_commit(operation, caller))


@bp.post("/verenigingen")
def register_vereniging() -> Response:
    caller = principal("initiator")
    command = Register.from_body(read_body(), confirmation=request.headers.get("VR-BevestigingsToken"))
    register = current_app.extensions["vr"]
    prov = provenance(command.activity, caller)
    outcome = register.handler.run(command, prov.initiator, reason=prov.reason,
                                   idempotency_key=once()["idempotency_key"], before_commit=prov.before_commit)
    iri = f"{register.settings.base}/id/vereniging/{outcome.vcode}"
    body = {"@context": register.settings.base + jsonld.CONTEXT_PATH, "id": iri, "vCode": outcome.vcode,
            "versie": outcome.version}
    response = Response(json.dumps(body), status=201, mimetype="application/ld+json")
    response.headers["Location"] = f"/id/vereniging/{outcome.vcode}"
    response.headers["ETag"] = f'W/"{outcome.version}"'
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
