"""What supervising organisations do to a vereniging's data (issue 13, the official register's newer features).

- the issuer of an erkenning suspends it, corrects the reason, lifts the suspension:
  `POST | PATCH | DELETE /verenigingen/{vCode}/erkenningen/{id}/schorsingen`;
- the organisation authorised for it (VR_STOPZETTING_OVO, OVO000067 by default) marks a vereniging
  as being wound up: `POST /verenigingen/{vCode}/in-stopzetting`;
- an organisation confirms a bankrekeningnummer on the strength of a document, or undoes its own
  confirmation: `POST | DELETE /verenigingen/{vCode}/bankrekeningnummers/{id}/validaties`.
Each is a named command run by the one write path (beheer_api._run): If-Match, Idempotency-Key,
reason and audit work as everywhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app

from app.auth.access import principal
from app.domain import bankvalidatie, clock, erkenningen, stopzetting
from app.publication.beheer_api import _run, _vcode, respond
from app.publication.write_api import read_body

bp = Blueprint("toezicht_api", __name__)
MERGE = ("application/merge-patch+json", "application/json")


def _schorsingen(vcode: str, item_id: int) -> str:
    return f"/verenigingen/{vcode}/erkenningen/{item_id}/schorsingen"


@bp.post("/verenigingen/<code>/erkenningen/<int:item_id>/schorsingen")
def schors(code: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    command = erkenningen.Schorsing.from_body(vcode, item_id, read_body(), clock.today())
    return respond(_run(command, caller, command.reden), 201, _schorsingen(vcode, item_id))


@bp.patch("/verenigingen/<code>/erkenningen/<int:item_id>/schorsingen")
def corrigeer_schorsing(code: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    return respond(_run(erkenningen.CorrigeerSchorsing(vcode, item_id, read_body(MERGE)), caller))


@bp.delete("/verenigingen/<code>/erkenningen/<int:item_id>/schorsingen")
def hef_schorsing_op(code: str, item_id: int) -> Response:
    caller = principal("initiator")
    return respond(_run(erkenningen.HefSchorsingOp(_vcode(code), item_id, clock.today()), caller))


@bp.post("/verenigingen/<code>/in-stopzetting")
def in_stopzetting(code: str) -> Response:
    caller = principal("initiator")
    authority = current_app.extensions["vr"].settings.stopzetting_ovo
    command = stopzetting.InStopzetting.from_body(_vcode(code), read_body(), clock.today(), authority)
    return respond(_run(command, caller, command.reden))


@bp.post("/verenigingen/<code>/bankrekeningnummers/<int:item_id>/validaties")
def valideer(code: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    excluded = current_app.extensions["vr"].settings.stopzetting_ovo
    command = bankvalidatie.ValideerBankrekeningnummer.from_body(vcode, item_id, read_body(), now, excluded)
    return respond(_run(command, caller), 201, f"/verenigingen/{vcode}/bankrekeningnummers/{item_id}/validaties")


@bp.delete("/verenigingen/<code>/bankrekeningnummers/<int:item_id>/validaties")
def maak_validatie_ongedaan(code: str, item_id: int) -> Response:
    caller = principal("initiator")
    return respond(_run(bankvalidatie.MaakValidatieOngedaan(_vcode(code), item_id), caller))
