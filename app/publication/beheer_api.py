"""Decentraal beheer: the management API of a gegevensinitiator.

Every endpoint turns its request into a mutation of the vereniging's state and hands it to the
one write path (CommandHandler.change / remove). Rules: ../shared/reference/association-registry.md
§1–§4 and §7. Concurrency: `If-Match: W/"<versie>"` pins the version (412 on mismatch); every
write answers with the new `ETag`; a request that changes nothing answers 200 without a new version.
"""

from __future__ import annotations

import json
import re
from datetime import date

from flask import Blueprint, Response, current_app, request

from app.auth.access import principal
from app.auth.keys import Principal
from app.domain import parse
from app.domain.commands import Outcome
from app.domain.parse import KINDS
from app.domain.vcode import parse_vcode
from app.publication.write_api import once, provenance, read_body
from app.validation.errors import CommandRejected, FieldError

bp = Blueprint("beheer_api", __name__)

# Our ETags are weak (W/"<versie>"); a strong "2" is not one we sent, as in the official register.
_ETAG = re.compile(r'^W/"([0-9]{1,18})"$')
KBO_TYPES = {"VZW", "IVZW", "PS", "SVON"}
KBO_ITEM_EDITABLE = {"beschrijving", "isPrimair", "naam"}


def _handler():
    return current_app.extensions["vr"].handler


def _vcode(code: str) -> str:
    vcode = parse_vcode(code)
    if vcode is None:
        raise CommandRejected(404, "niet-gevonden", "Niet gevonden",
                              "Formaat van de VCode moet 'V0000000' zijn en groter dan V0001000.")
    return vcode


def expected_version() -> int | None:
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


def _reject(status: int, slug: str, detail: str, path: str = "") -> CommandRejected:
    title = {400: "Ongeldige aanvraag", 403: "Geen toegang", 404: "Niet gevonden"}[status]
    return CommandRejected(status, slug, title, detail, [FieldError(path, slug, detail)] if status == 400 else [])


# -- KBO registration --------------------------------------------------------------------------------
@bp.post("/verenigingen/kbo")
def register_kbo() -> Response:
    caller = principal("initiator")
    state = parse.parse_kbo_registration(read_body())
    key = once()["idempotency_key"]
    outcome = _handler().register(state, provenance("registratie", caller), idempotency_key=key)
    return respond(outcome, 201 if outcome.created else 200, f"/id/vereniging/{outcome.vcode}")


# -- basisgegevens -----------------------------------------------------------------------------------
@bp.patch("/verenigingen/<code>")
def patch_basis(code: str) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    body = read_body(("application/merge-patch+json", "application/json"))
    outcome = _handler().change(vcode, lambda state: parse.parse_basis_patch(body, state),
                                provenance("wijziging", caller), expected_version())
    return respond(outcome)


# -- stop / correct a stop / remove --------------------------------------------------------------------
@bp.post("/verenigingen/<code>/stop")
def stop(code: str) -> Response:
    caller = principal("initiator")
    vcode = _vcode(code)
    body = read_body()
    parser = parse.Parser()
    if not isinstance(body, dict):
        raise _reject(400, "geen-object", "De body moet een object {\"einddatum\": \"yyyy-MM-dd\"} zijn.")
    parser.unknown_keys(body, {"einddatum"}, "")
    end = parser.date(body.get("einddatum"), "einddatum")
    if end is None and "einddatum" not in [e.path for e in parser.errors.items]:
        parser.errors.add("einddatum", "verplicht", "'einddatum' is verplicht.")
    parser.errors.raise_if_any()

    def mutate(state: dict) -> dict:
        if state["verenigingstype"] in KBO_TYPES:
            raise _reject(400, "kbo", "Een KBO-vereniging kan niet gestopt worden; dat gebeurt in de KBO.")
        if date.fromisoformat(end) > date.today():
            raise _reject(400, "toekomst", "Einddatum mag niet in de toekomst liggen.", "einddatum")
        if state["startdatum"] and end < state["startdatum"]:
            raise _reject(400, "voor-startdatum", "Einddatum moet na startdatum liggen.", "einddatum")
        state["status"], state["einddatum"] = "Gestopt", end
        return state

    return respond(_handler().change(vcode, mutate, provenance("stopzetting", caller), expected_version(),
                                     **once(end)))


@bp.post("/verenigingen/<code>/heractivering")
def reactivate(code: str) -> Response:
    """Correct a vereniging that was stopped by mistake: active again, einddatum removed."""
    caller = principal("initiator")
    vcode = _vcode(code)

    def mutate(state: dict) -> dict:
        if state["status"] != "Gestopt":
            raise _reject(400, "niet-gestopt", "Deze vereniging is niet gestopt.")
        state["status"], state["einddatum"] = "Actief", None
        return state

    return respond(_handler().change(vcode, mutate, provenance("correctie-stopzetting", caller), expected_version(),
                                     **once()))


@bp.delete("/verenigingen/<code>")
def remove(code: str) -> Response:
    caller = principal("admin")
    vcode = _vcode(code)
    reason = None
    if request.get_data():
        body = read_body()
        if not isinstance(body, dict) or set(body) - {"reden"}:
            raise _reject(400, "onbekende-eigenschap", "De body mag enkel {\"reden\": \"…\"} bevatten.")
        reason = body.get("reden")
    state, version = _handler().load(vcode)
    if state["verenigingstype"] in KBO_TYPES:
        raise _reject(400, "kbo", "Een KBO-vereniging kan niet verwijderd worden.")
    outcome = _handler().remove(vcode, provenance("verwijdering", caller, reason), expected_version())
    return respond(outcome)


# -- sub-resources ------------------------------------------------------------------------------------
def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise CommandRejected(404, "niet-gevonden", "Niet gevonden", f"'{kind}' is geen onderdeel van een vereniging.")
    return kind


def _find(state: dict, kind: str, item_id: int) -> dict:
    for item in state[kind]:
        if item["id"] == item_id:
            return item
    label = KINDS[kind].segment.capitalize()
    raise CommandRejected(404, "niet-gevonden", "Niet gevonden", f"{label} met id '{item_id}' is niet gekend.")


def _guard(state: dict, kind: str, caller: Principal, item: dict | None, adding: bool, removing: bool,
           patch: dict | None = None) -> None:
    """Who may touch what: KBO-owned data and erkenningen of other organisations are off limits."""
    if kind == "vertegenwoordigers" and state["verenigingstype"] in KBO_TYPES and (adding or removing):
        raise _reject(400, "kbo", "Aan een KBO vereniging kunnen geen vertegenwoordigers toegevoegd of verwijderd "
                                  "worden; die komen uit de KBO.")
    if item is not None and item.get("bron") == "KBO" and (removing or set(patch or {}) - KBO_ITEM_EDITABLE):
        raise _reject(400, "kbo", "Dit gegeven komt uit de KBO: enkel "
                                  f"{', '.join(sorted(KBO_ITEM_EDITABLE))} kan hier gewijzigd worden.")
    if kind == "erkenningen" and item is not None and item.get("geregistreerdDoor") != caller.initiator.ovo:
        raise _reject(403, "geen-machtiging", "Deze OVOCode heeft geen machtiging om deze actie uit te voeren: "
                                              "enkel de organisatie die de erkenning registreerde.")


@bp.post("/verenigingen/<code>/<kind>")
def add_item(code: str, kind: str) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)
    item = parse.parse_item(kind, read_body())

    def mutate(state: dict) -> dict:
        _guard(state, kind, caller, None, adding=True, removing=False)
        new_item = dict(item, id=_handler().next_item_id(vcode, kind, state))
        if kind == "erkenningen":
            new_item["geregistreerdDoor"] = caller.initiator.ovo
        state[kind].append(new_item)
        return state

    outcome = _handler().change(vcode, mutate, provenance("wijziging", caller), expected_version(), **once(item))
    return respond(outcome, 201, f"/verenigingen/{vcode}/{kind}/{outcome.item_id}", outcome.item_id)


@bp.patch("/verenigingen/<code>/<kind>/<int:item_id>")
def patch_item(code: str, kind: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)
    body = read_body(("application/merge-patch+json", "application/json"))

    def mutate(state: dict) -> dict:
        current = _find(state, kind, item_id)
        _guard(state, kind, caller, current, adding=False, removing=False, patch=body if isinstance(body, dict) else {})
        updated = parse.parse_item(kind, body, current)
        if current.get("bron"):
            updated["bron"] = current["bron"]
        if kind == "erkenningen":
            updated["geregistreerdDoor"] = current["geregistreerdDoor"]
        state[kind] = [updated if item["id"] == item_id else item for item in state[kind]]
        return state

    return respond(_handler().change(vcode, mutate, provenance("wijziging", caller), expected_version()))


@bp.delete("/verenigingen/<code>/<kind>/<int:item_id>")
def delete_item(code: str, kind: str, item_id: int) -> Response:
    caller = principal("initiator")
    vcode, kind = _vcode(code), _kind(kind)

    def mutate(state: dict) -> dict:
        current = _find(state, kind, item_id)
        _guard(state, kind, caller, current, adding=False, removing=True)
        state[kind] = [item for item in state[kind] if item["id"] != item_id]
        return state

    return respond(_handler().change(vcode, mutate, provenance("wijziging", caller), expected_version()))
