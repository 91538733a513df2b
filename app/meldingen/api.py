"""HTTP: manage subscriptions, read a subscription's feed, read one melding, and the staff page."""

from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, current_app, render_template, request

from app.auth import audit
from app.auth.access import principal
from app.auth.keys import KeyRing, Principal
from app.domain import places
from app.domain.model import MODEL
from app.meldingen import activity
from app.meldingen.delivery import subscriptions_changed
from app.meldingen.events import EVENT_TYPES, Event
from app.meldingen.subscriptions import (
    MAX_GEMEENTEN,
    Subscription,
    Subscriptions,
    new_subscription,
    not_found,
    same_request,
)
from app.publication.write_api import once
from app.store.meldingen import MeldingenStore
from app.validation import json_body
from app.validation.errors import CommandRejected, FieldError, invalid

bp = Blueprint("meldingen", __name__, template_folder="templates")
_FIELD_LABELS = MODEL.labels()  # which fields a "gegevens gewijzigd" melding concerns, in words
_creating = threading.Lock()
PAGE_SIZE = 100
SCAN = 500  # outbox commits read per query while filling a page
JSON_LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _store() -> MeldingenStore:
    register = current_app.extensions["vr"]
    return MeldingenStore(register.store)


def _base() -> str:
    return current_app.extensions["vr"].settings.base


def _keys() -> KeyRing:
    return current_app.extensions["vr"].keys


def _caller() -> Principal:
    caller = principal()
    if caller is None:
        principal("lezer")  # raises the 401 that says how to authenticate
    return caller


def _json(body: object, status: int = 200, mimetype: str = "application/json") -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _owned(subscription_id: str, caller: Principal) -> Subscription:
    sub = Subscriptions(_store()).get(subscription_id)
    if sub is None or not sub.owned_by(caller):
        raise not_found(subscription_id)  # another organisation's subscription is not even confirmed to exist
    return sub


JSON_BODIES = ("application/json", "application/ld+json", "application/merge-patch+json")


def _body() -> object:
    """The request body through the register's one JSON reader (Dutch errors, depth and text limits)."""
    if request.mimetype not in JSON_BODIES:
        raise CommandRejected(415, "mediatype-niet-ondersteund", "Mediatype niet ondersteund",
                              f"Stuur JSON (Content-Type: application/json), niet '{request.mimetype or 'geen'}'.")
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise CommandRejected(400, "codering", "Ongeldige tekencodering", "De body is geen geldige UTF-8 tekst.",
                              [FieldError("", "codering", "De body is geen geldige UTF-8 tekst.")]) from None
    return json_body.decode(text)


# -- subscriptions ------------------------------------------------------------------------------------------
@bp.post("/meldingen/abonnementen")
def create() -> Response:
    caller = _caller()
    key = once()["idempotency_key"]  # checked as on every POST of the register
    body = _body()
    store = _store()
    sub = new_subscription(body, caller, store.latest_sequence(), key)
    with _creating:  # a retry racing its first attempt must find it, not add a second set of facts
        first = Subscriptions(store).get(sub.id) if key else None
        replayed = first is not None
        if first is None:
            Subscriptions(store).add(sub)
        elif same_request(first, sub):
            sub = first  # the retry gets the first answer (with the same secret)
        else:
            raise CommandRejected(422, "idempotentie-sleutel", "Idempotency-Key hergebruikt",
                                  "Deze Idempotency-Key werd al gebruikt voor een andere aanvraag.",
                                  [FieldError("Idempotency-Key", "hergebruikt", "Gebruik een nieuwe sleutel voor "
                                                                                "een andere aanvraag.")])
    subscriptions_changed()
    created = sub.as_json(_base(), _keys())
    if sub.channel != "pull":
        created["geheim"] = sub.secret  # shown once: it signs every push delivery
    response = _json(created, 201)
    response.headers["Location"] = created["url"]
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/meldingen/abonnementen")
def listing() -> Response:
    caller = _caller()
    subs = [s.as_json(_base(), _keys()) for s in Subscriptions(_store()).all() if s.owned_by(caller)]
    return _json({"abonnementen": subs})


@bp.get("/meldingen/abonnementen/<subscription_id>")
def show(subscription_id: str) -> Response:
    return _json(_owned(subscription_id, _caller()).as_json(_base(), _keys()))


@bp.patch("/meldingen/abonnementen/<subscription_id>")
def pause_or_resume(subscription_id: str) -> Response:
    """{"status": "gepauzeerd"} pauses, {"status": "actief"} resumes (also after 'mislukt')."""
    sub = _owned(subscription_id, _caller())
    body = _body()
    if not isinstance(body, dict) or set(body) != {"status"} or body["status"] not in ("actief", "gepauzeerd"):
        raise invalid([FieldError("status", "ongeldig", "Stuur {\"status\": \"actief\"} of "
                                  "{\"status\": \"gepauzeerd\"}.")])
    Subscriptions(_store()).set_status(sub, body["status"])
    subscriptions_changed()
    return _json(_owned(subscription_id, _caller()).as_json(_base(), _keys()))


@bp.delete("/meldingen/abonnementen/<subscription_id>")
def delete(subscription_id: str) -> Response:
    sub = _owned(subscription_id, _caller())
    Subscriptions(_store()).delete(sub)
    subscriptions_changed()
    return Response(status=204)


# -- pull: the feed of one subscription --------------------------------------------------------------------
@bp.get("/meldingen/abonnementen/<subscription_id>/feed")
def feed(subscription_id: str) -> Response:
    caller = _caller()
    sub = _owned(subscription_id, caller)
    url = f"{_base()}/meldingen/abonnementen/{sub.id}/feed"
    if "na" not in request.args:
        return _json(activity.feed_root(url, f"Meldingen voor {sub.naam}"), mimetype=JSON_LD)
    after = activity.parse_position(request.args["na"])
    if after is None:
        raise invalid([FieldError("na", "ongeldig", "'na' is een positie zoals '12' of '12.1'.")])
    may_read = caller.has("lezer")  # the reader's rights now, not when the subscription was made

    def wants(event: Event) -> bool:
        return sub.wants(event) and (may_read or not event.restricted)

    events = events_after(_store(), sub.gemeenten, after, wants, PAGE_SIZE)
    _audit_restricted(caller, events, "meldingen-feed")
    next_after = activity.position(events[-1]) if events else None
    return _json(activity.feed_page(_base(), url, events, request.args["na"], next_after), mimetype=JSON_LD)


def events_after(store: MeldingenStore, gemeenten: list[str], after: tuple[int, int], wants, limit: int,
                 newest_first: bool = False) -> list[Event]:
    """Up to `limit` wanted events after a position, reading the outbox index of these gemeenten."""
    found: list[Event] = []
    cursor = after[0] - 1
    while len(found) < limit:
        sequences = store.gemeente_sequences(gemeenten, after=cursor, limit=SCAN)
        if not sequences:
            break
        for _, payload in sorted(store.events(sequences).items()):
            found += [e for e in map(Event.from_dict, json.loads(payload)) if e.position > after and wants(e)]
        cursor = sequences[-1]
    return found[:limit]


def recent(store: MeldingenStore, gemeenten: list[str], wants, limit: int) -> list[Event]:
    """The newest wanted events of these gemeenten, newest first."""
    sequences = store.gemeente_sequences(gemeenten, limit=limit * 2, newest_first=True)
    found = []
    for _, payload in sorted(store.events(sequences).items(), reverse=True):
        found += [e for e in reversed([Event.from_dict(d) for d in json.loads(payload)]) if wants(e)]
    return found[:limit]


def _audit_restricted(caller: Principal, events: list[Event], operation: str) -> None:
    restricted = sorted({e.vcode for e in events if e.restricted})
    if restricted:
        audit.record(operation, caller, None, vCodes=restricted)


# -- one melding ---------------------------------------------------------------------------------------------
@bp.get("/meldingen/<int:sequence>-<int:index>")
def one(sequence: int, index: int) -> Response:
    payload = _store().events([sequence]).get(sequence)
    event = next((e for e in map(Event.from_dict, json.loads(payload or "[]")) if e.index == index), None)
    if event is None:
        raise CommandRejected(404, "niet-gevonden", "Niet gevonden", f"Melding {sequence}-{index} bestaat niet.")
    if event.restricted:
        caller = principal("lezer")
        audit.record("melding", caller, event.vcode)
    return _json(activity.activity(_base(), event), mimetype=JSON_LD)


# -- the staff page ------------------------------------------------------------------------------------------
@bp.get("/meldingen")
def page() -> str:
    """Recent meldingen of a bestuur's gemeenten (those of its subscriptions, or ?gemeente=)."""
    caller = _caller()
    asked = list(dict.fromkeys(part.strip() for g in request.args.getlist("gemeente") for part in g.split(",")
                               if part.strip()))  # the page's one field takes several, separated by commas
    if len(asked) > MAX_GEMEENTEN:
        raise CommandRejected(400, "te-veel-gemeenten", "Te veel gemeenten",
                              f"Kies ten hoogste {MAX_GEMEENTEN} gemeenten (er waren er {len(asked)}).")
    codes = {text: places.gemeente_code(text) for text in asked}
    valid = list(dict.fromkeys(code for code in codes.values() if code is not None))
    if not asked:
        for sub in Subscriptions(_store()).all():
            if sub.ovo == caller.initiator.ovo:
                valid += [g for g in sub.gemeenten if g not in valid]
    may_read = caller.has("lezer")
    events = recent(_store(), valid, lambda e: may_read or not e.restricted, 50) if valid else []
    _audit_restricted(caller, events, "meldingen-pagina")
    rows = [{"event": e, "summary": activity.SUMMARIES.get(e.type, e.type),
             "velden": [_FIELD_LABELS.get(f, f) for f in e.fields] if e.type == "gegevens-gewijzigd" else [],
             "gemeenten": [activity.gemeente_label(g) for g in e.gemeenten if g in valid]} for e in events]
    return render_template("meldingen.html", caller=caller, gemeenten=[(g, activity.gemeente_label(g)) for g in valid],
                           unknown=[text for text, code in codes.items() if code is None], rows=rows, may_read=may_read,
                           types=EVENT_TYPES)
