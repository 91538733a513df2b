"""Decentraal beheer: the management API of a gegevensinitiator.

Every endpoint only builds a named command (app/domain/named_commands.py) and hands it to the
one write path (CommandHandler.run); the rules live in the commands. Concurrency:
`If-Match: W/"<versie>"` pins the version (412 on mismatch); every write answers with the new
`ETag`; a request that changes nothing answers 200 without a new version.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, current_app, request

from app.auth.access import principal
from app.domain import erkenningen
from app.domain import named_commands as cmd
from app.domain.commands import Outcome
from app.domain.errors import not_found, refused
from app.domain.model import MODEL
from app.domain.vcode import parse_vcode
from app.publication.write_api import once, provenance, read_body
from app.validation.errors import CommandRejected, FieldError

bp = Blueprint("beheer_api", __name__)

# Our ETags are weak: W/"<versie>" from a write, W/"<versie>-<formaat>" from a read of one representation
# (negotiation.representation_tag). A strong "2" is not one we sent, as in the official register.
_ETAG = re.compile(r'^W/"([0-9]{1,18})(?:-[a-z]{2,6})?(?:-beheer)?"$')


def _run(command, caller, reason: str | None = None) -> Outcome:
    """Run a command for the caller: its reason, If-Match, Idempotency-Key and audit entry from the request."""
    prov = provenance(command.activity, caller, reason)
    return current_app.extensions["vr"].handler.run(
        command, prov.initiator, reason=prov.reason, expected_version=expected_version(),
        idempotency_key=once()["idempotency_key"], before_commit=prov.before_commit)


def _vcode(code: str) -> str:
    vcode = parse_vcode(code)
    if vcode is None:
        raise not_found("Formaat van de VCode moet 'V0000000' zijn en groter dan V0001000.")
    return vcode


def expected_version() -> int | None:
    if request.headers.get("If-None-Match", "").strip() == "*" and (request.view_args or {}).get("code"):
        # "only if it does not exist yet" (RFC 9110 §13.1.2) on a vereniging that does (else the command is a 404)
        detail = "If-None-Match: * vraagt dat de vereniging nog niet bestaat; ze bestaat al."
        raise CommandRejected(412, "bestaat-al", "Voorwaarde niet voldaan", detail,
                              [FieldError("If-None-Match", "bestaat-al", detail)])
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if not match:
        detail = "Etag header bevat een ongeldige waarde, gelieve formaat 'W/\"[0-9]*\"' te gebruiken."
        raise CommandRejected(412, "ongeldige-etag", "Ongeldige ETag", detail,
                              [FieldError("If-Match", "ongeldige-etag", detail)])
    return int(match.group(1))


def respond(outcome: Outcome, status: int = 200, location: str | None = None, item_id: int | None = None) -> Response:
    body: dict = {"vCode": outcome.vcode, "versie": outcome.version, "gewijzigd": outcome.changed}
    if item_id is not None:
        body["id"] = item_id
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["ETag"] = f'W/"{outcome.version}"'
    if location:
        response.headers["Location"] = location
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


# -- KBO registration --------------------------------------------------------------------------------
@bp.post("/verenigingen/kbo")
def register_kbo() -> Response:
    caller = principal("initiator")
    outcome = _run(cmd.Register.from_body(read_body(), kbo=True), caller)
    return respond(outcome, 201 if outcome.created else 200, f"/id/vereniging/{outcome.vcode}")


# -- basisgegevens -----------------------------------------------------------------------------------
@bp.patch("/verenigingen/<code>")
def patch_basis(code: str) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    body = read_body(("application/merge-patch+json", "application/json"))
    return respond(_run(cmd.ChangeBasisgegevens(vcode, body), caller))


# -- stop / correct a stop / remove --------------------------------------------------------------------
@bp.post("/verenigingen/<code>/stop")
def stop(code: str) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    return respond(_run(cmd.Stop.from_body(vcode, read_body()), caller))


@bp.post("/verenigingen/<code>/heractivering")
def reactivate(code: str) -> Response:
    """Correct a vereniging that was stopped by mistake: active again, einddatum removed."""
    caller = principal("initiator")
    return respond(_run(cmd.Reactivate(_vcode(code)), caller))


@bp.delete("/verenigingen/<code>")
def remove(code: str) -> Response:
    caller = principal("admin")
    vcode = _vcode(code)
    reason = None
    if request.get_data():
        body = read_body()
        if not isinstance(body, dict) or set(body) - {"reden"}:
            raise refused("onbekende-eigenschap", "De body mag enkel {\"reden\": \"…\"} bevatten.")
        reason = body.get("reden")
    return respond(_run(cmd.Remove(vcode), caller, reason))


# -- sub-resources ------------------------------------------------------------------------------------
def _kind(kind: str) -> str:
    if kind not in MODEL.by_kind:
        raise not_found(f"'{kind}' is geen onderdeel van een vereniging.")
    return kind


@bp.post("/verenigingen/<code>/<kind>")
def add_item(code: str, kind: str) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)
    outcome = _run(cmd.AddItem.from_body(vcode, kind, read_body()), caller)
    return respond(outcome, 201, f"/verenigingen/{vcode}/{kind}/{outcome.item_id}", outcome.item_id)


@bp.patch("/verenigingen/<code>/<kind>/<int:item_id>")
def patch_item(code: str, kind: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)
    body = read_body(("application/merge-patch+json", "application/json"))
    if kind == "erkenningen":  # the official rule: an erkenning changes only with a reason
        command = erkenningen.WijzigErkenning.from_body(vcode, item_id, body)
        return respond(_run(command, caller, command.valid_reason))
    return respond(_run(cmd.ChangeItem(vcode, kind, item_id, body), caller))


@bp.delete("/verenigingen/<code>/<kind>/<int:item_id>")
def delete_item(code: str, kind: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)
    return respond(_run(cmd.RemoveItem(vcode, kind, item_id), caller))
