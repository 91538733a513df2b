"""Erkenningen over time: each one's derived status and whether the vereniging counts as erkend.

Status (reference §1.4.6): InAanvraag before the start, Verlopen after the end, Geschorst while a
schorsing by the issuer runs, else Actief. A vereniging is erkend while at least one erkenning is
Actief. The status is part of the published state (RDF, JSON-LD, the change stream), so it is
stored with every write and brought up to date when days pass by RefreshErkenningen (the official
register's scheduled ErkenningWerdGeactiveerd / ErkenningWerdVerlopen).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from app.domain import clock, items
from app.domain.errors import DomainError, refused, small_body
from app.domain.versions import Initiator
from app.validation import formats

STATUSES = ("InAanvraag", "Actief", "Verlopen", "Geschorst")


def schorsing_loopt(schorsing: dict | None, today: date) -> bool:
    """A schorsing runs from its `van` up to and including its `tot` (open-ended without one)."""
    if not schorsing:
        return False
    day = today.isoformat()
    return schorsing["van"] <= day and (not schorsing.get("tot") or schorsing["tot"] >= day)


def schorsing_afgelopen(schorsing: dict | None, today: date) -> bool:
    return bool(schorsing and schorsing.get("tot") and schorsing["tot"] < today.isoformat())


def status(erkenning: dict, today: date) -> str:
    day = today.isoformat()
    if erkenning.get("einddatum") and erkenning["einddatum"] < day:
        return "Verlopen"
    if schorsing_loopt(erkenning.get("schorsing"), today):
        return "Geschorst"
    if erkenning.get("startdatum") and erkenning["startdatum"] > day:
        return "InAanvraag"
    return "Actief"


def refresh(state: dict, today: date) -> dict:
    """`state` with every erkenning's status and the vereniging's isErkend as of `today`."""
    erkenningen = state.get("erkenningen") or []
    if all(e.get("status") == status(e, today) for e in erkenningen) and state.get("isErkend") == _erkend(
            erkenningen, today):
        return state
    new = copy.deepcopy(state)
    for erkenning in new["erkenningen"]:
        erkenning["status"] = status(erkenning, today)
    new["isErkend"] = _erkend(new["erkenningen"], today)
    return new


def _erkend(erkenningen: list[dict], today: date) -> bool:
    return any(status(e, today) == "Actief" for e in erkenningen)


# -- commands ---------------------------------------------------------------------------------------------
def _issued(state: dict, item_id: int, actor: Initiator) -> dict:
    """The erkenning, if `actor` registered it: only that organisation may change, suspend or remove it
    (reference §7)."""
    return items.own(state, "erkenningen", item_id, actor)


def _schorsing(item: dict, today: date | None = None) -> dict:
    """The erkenning's schorsing that is running or planned (not yet over on `today`)."""
    current = item.get("schorsing")
    if not current or (today and schorsing_afgelopen(current, today)):
        raise refused("niet-geschorst", "Deze erkenning is niet geschorst.")
    return current


def _replace(state: dict, updated: dict) -> dict:
    return items.replace(state, "erkenningen", updated)


def parse_reason(body: Any, key: str) -> str:
    """A required reason (`redenVanWijziging`, `redenSchorsing`): text, not blank, at most 500 characters."""
    value = body.get(key) if isinstance(body, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise refused("verplicht", f"'{key}' is verplicht en mag niet leeg zijn.", key)
    if not isinstance(value, str):
        raise refused("geen-tekst", f"'{key}' moet een tekst zijn.", key)
    if formats.contains_html(value) or len(value) > REASON_MAX:
        raise refused("ongeldige-reden", f"'{key}' is tekst zonder HTML, hoogstens {REASON_MAX} tekens.", key)
    return value.strip()


REASON_MAX = 500


@dataclass(frozen=True)
class Schorsing:
    """POST …/erkenningen/{id}/schorsingen: the issuer suspends an erkenning, from `van` (today) up to `tot`."""

    vcode: str
    item_id: int
    reden: str
    van: str
    tot: str | None
    today: date
    activity: ClassVar[str] = "schorsing"

    @classmethod
    def from_body(cls, vcode: str, item_id: int, body: Any, today: date) -> Schorsing:
        small_body(body, {"redenSchorsing", "van", "tot"}, '{"redenSchorsing": "…"}')
        reden = parse_reason(body, "redenSchorsing")
        van, tot = (_day(body.get(key), key) for key in ("van", "tot"))
        van = van or today.isoformat()
        if tot and tot < van:
            raise refused("periode", "Het einde van een schorsing moet na het begin liggen.", "tot")
        return cls(vcode, item_id, reden, van, tot, today)

    def apply(self, state: dict, actor: Initiator) -> dict:
        item = _issued(state, self.item_id, actor)
        if status(item, self.today) == "Verlopen":
            raise refused("verlopen", "Een verlopen erkenning kan niet geschorst worden.")
        current = item.get("schorsing")
        if current and not schorsing_afgelopen(current, self.today):
            raise refused("al-geschorst", "Deze erkenning is al geschorst; wijzig de reden of hef de schorsing op.")
        schorsing = {"reden": self.reden, "van": self.van, **({"tot": self.tot} if self.tot else {})}
        return _replace(state, dict(item, schorsing=schorsing))


@dataclass(frozen=True)
class CorrigeerSchorsing:
    """PATCH …/schorsingen: the issuer corrects the reason (and may set or move the end) of a schorsing."""

    vcode: str
    item_id: int
    patch: Any
    activity: ClassVar[str] = "correctie-schorsing"

    def apply(self, state: dict, actor: Initiator) -> dict:
        item = _issued(state, self.item_id, actor)
        new = dict(_schorsing(item))
        if not self.patch:
            raise refused("leeg", "Een request mag niet leeg zijn.")
        small_body(self.patch, {"redenSchorsing", "tot"}, '{"redenSchorsing": "…", "tot": "…"}')
        if "redenSchorsing" in self.patch:
            new["reden"] = parse_reason(self.patch, "redenSchorsing")
        if "tot" in self.patch:
            tot = _day(self.patch["tot"], "tot")
            if tot and tot < new["van"]:
                raise refused("periode", "Het einde van een schorsing moet na het begin liggen.", "tot")
            new.pop("tot", None)
            if tot:
                new["tot"] = tot
        return _replace(state, dict(item, schorsing=new))


@dataclass(frozen=True)
class HefSchorsingOp:
    """DELETE …/schorsingen: the issuer lifts a running (or planned) schorsing."""

    vcode: str
    item_id: int
    today: date
    activity: ClassVar[str] = "opheffing-schorsing"

    def apply(self, state: dict, actor: Initiator) -> dict:
        item = _issued(state, self.item_id, actor)
        _schorsing(item, self.today)
        return _replace(state, dict(item, schorsing=None))


@dataclass(frozen=True)
class WijzigErkenning:
    """PATCH …/erkenningen/{id}: a merge patch by the issuer, with the required `redenVanWijziging`."""

    vcode: str
    item_id: int
    patch: dict
    reden: Any
    activity: ClassVar[str] = "wijziging-erkenning"

    @classmethod
    def from_body(cls, vcode: str, item_id: int, body: Any) -> WijzigErkenning:
        if not isinstance(body, dict):
            raise refused("geen-object", "De body moet een object met 'redenVanWijziging' zijn.")
        return cls(vcode, item_id, {k: v for k, v in body.items() if k != "redenVanWijziging"},
                   body.get("redenVanWijziging"))

    @property
    def valid_reason(self) -> str | None:
        """The reason for the version's provenance, once it is known to be valid."""
        try:
            return parse_reason({"redenVanWijziging": self.reden}, "redenVanWijziging")
        except DomainError:  # apply() reports it, after the issuer check
            return None

    def apply(self, state: dict, actor: Initiator) -> dict:
        from app.domain.named_commands import ChangeItem  # the generic item change does the rest

        _issued(state, self.item_id, actor)  # another organisation learns nothing more
        parse_reason({"redenVanWijziging": self.reden}, "redenVanWijziging")
        return ChangeItem(self.vcode, "erkenningen", self.item_id, self.patch).apply(state, actor)


@dataclass(frozen=True)
class RefreshErkenningen:
    """Bring stored statuses in line with today (the official scheduled activation and expiry)."""

    vcode: str
    today: date
    activity: ClassVar[str] = "erkenningsstatus"

    def apply(self, state: dict, actor: Initiator) -> dict:
        return refresh(state, self.today)


def _day(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return formats.parse_date(value).isoformat()
    except ValueError as exc:
        raise refused("datumformaat", str(exc), key) from None


SYSTEM = Initiator("OVO002949", "Digitaal Vlaanderen")  # the official register's agent for scheduled jobs


def refresh_all(handler) -> list[str]:
    """Run RefreshErkenningen for every vereniging whose stored statuses are not today's; their V-codes.

    `vr serve` does this once a day, `vr erkenningen` at once; each update is a version of its own
    (activity ErkenningsstatusWerdBijgewerkt by Digitaal Vlaanderen), so it reaches the change stream.
    Today is the handler's clock, the same day every command stores statuses for.
    """
    today = clock.today(handler.clock())
    changed = []
    for vcode in handler.store.verenigingen_met_erkenningen():
        state, _ = handler.load(vcode)
        if refresh(state, today) != state:
            outcome = handler.run(RefreshErkenningen(vcode, today), SYSTEM,
                                  reason="De status van erkenningen volgt hun geldigheidsperiode.")
            if outcome.changed:
                changed.append(vcode)
    return changed
