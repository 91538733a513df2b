"""The named commands: every change to the register is one of these, whoever asks for it.

HTTP handlers, the importer and the KBO sync only build a command; CommandHandler.run loads
the current state, calls `apply(state, actor)` and writes the result through the one write
path. The guards live here, in the command, so no entry point can bypass them: KBO-owned data
(the KBO basisgegevens, KBO-sourced locaties/contactgegevens, the vertegenwoordigers of a
vereniging with legal personality) changes only through KboSync, and an erkenning only by the
organisation that registered it.

`apply` never mutates its input and returns a new state. New items carry no `id`: the runner
numbers them from the vereniging's counters (ids are never reused).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol

from app.domain import clock, items, parse, row_update
from app.domain.errors import refused
from app.domain.model import KBO_TYPES, MODEL
from app.domain.versions import Initiator

KBO_ITEM_EDITABLE = frozenset({"beschrijving", "isPrimair", "naam"})  # what initiators may edit on KBO items
KBO_SOURCE = "KBO"
NOT_IN_STOPZETTING = {"inStopzetting": False, "stopzettingsmelding": None}  # a real stop ends the winding-down


class Command(Protocol):
    """A change to one existing vereniging."""

    activity: ClassVar[str]  # provenance activity (versions.ACTIVITY_TYPES)
    vcode: str

    def apply(self, state: dict, actor: Initiator) -> dict: ...


def _kbo_vereniging(state: dict) -> bool:
    return state["verenigingstype"] in KBO_TYPES


def _from_kbo(item: dict | None) -> bool:
    return item is not None and item.get("bron") == KBO_SOURCE


def _guard_kbo_representatives(kind: str, state: dict) -> None:
    if MODEL.part(kind).kbo_owned_for_kbo_types and _kbo_vereniging(state):
        raise refused("kbo", "Aan een KBO vereniging kunnen geen vertegenwoordigers toegevoegd of verwijderd "
                             "worden; die komen uit de KBO.")


def _kbo_item_refused() -> Exception:
    return refused("kbo", "Dit gegeven komt uit de KBO: enkel "
                          f"{', '.join(sorted(KBO_ITEM_EDITABLE))} kan hier gewijzigd worden.")


# -- registration ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Register:
    """A new vereniging from a parsed state (parse.parse_registration / parse_kbo_registration)."""

    state: dict
    confirmation: str | None = None  # the token of a 409 'possible duplicates' answer
    idempotency_key: str | None = None
    activity: ClassVar[str] = "registratie"

    @classmethod
    def from_body(cls, body: Any, *, kbo: bool = False, **options: Any) -> Register:
        return cls(parse.parse_kbo_registration(body) if kbo else parse.parse_registration(body), **options)

    def apply(self, state: None, actor: Initiator) -> dict:
        new = copy.deepcopy(self.state)
        for item in new.get("erkenningen", []):
            item["geregistreerdDoor"] = actor.ovo
        return new


# -- basisgegevens and life cycle ---------------------------------------------------------------------
@dataclass(frozen=True)
class ChangeBasisgegevens:
    """An RFC 7386 merge patch on the basisgegevens; KBO-owned fields are refused for KBO verenigingen."""

    vcode: str
    patch: Any
    activity: ClassVar[str] = "wijziging"

    def apply(self, state: dict, actor: Initiator) -> dict:
        if isinstance(self.patch, dict) and self.patch.get("roepnaam") is not None and not _kbo_vereniging(state):
            raise refused("geen-kbo-vereniging", "Een roepnaam is er enkel voor een vereniging met "
                                                 "rechtspersoonlijkheid (VZW, IVZW, PS, SVON); een feitelijke "
                                                 "vereniging wijzigt haar naam zelf.", "roepnaam")
        return parse.parse_basis_patch(self.patch, state)


@dataclass(frozen=True)
class Stop:
    vcode: str
    einddatum: str  # ISO date, parsed by parse.parse_stop
    today: date | None = None
    activity: ClassVar[str] = "stopzetting"

    @classmethod
    def from_body(cls, vcode: str, body: Any) -> Stop:
        return cls(vcode, parse.parse_stop(body))

    def apply(self, state: dict, actor: Initiator) -> dict:
        if _kbo_vereniging(state):
            raise refused("kbo", "Een KBO-vereniging kan niet gestopt worden; dat gebeurt in de KBO.")
        if date.fromisoformat(self.einddatum) > (self.today or clock.today()):
            raise refused("toekomst", "Einddatum mag niet in de toekomst liggen.", "einddatum")
        if state["startdatum"] and self.einddatum < state["startdatum"]:
            raise refused("voor-startdatum", "Einddatum moet na startdatum liggen.", "einddatum")
        return dict(state, status="Gestopt", einddatum=self.einddatum, **NOT_IN_STOPZETTING)


@dataclass(frozen=True)
class Reactivate:
    """Correct a vereniging that was stopped by mistake: active again, einddatum removed."""

    vcode: str
    activity: ClassVar[str] = "correctie-stopzetting"

    def apply(self, state: dict, actor: Initiator) -> dict:
        if state["status"] != "Gestopt":
            raise refused("niet-gestopt", "Deze vereniging is niet gestopt.")
        return dict(state, status="Actief", einddatum=None)


@dataclass(frozen=True)
class Remove:
    """Soft delete: the data goes, a tombstone version stays, the V-code is never reused."""

    vcode: str
    activity: ClassVar[str] = "verwijdering"
    removes: ClassVar[bool] = True

    def apply(self, state: dict, actor: Initiator) -> dict:
        if _kbo_vereniging(state):
            raise refused("kbo", "Een KBO-vereniging kan niet verwijderd worden.")
        return state


# -- items (locaties, contactgegevens, …) -------------------------------------------------------------
@dataclass(frozen=True)
class AddItem:
    vcode: str
    kind: str
    item: dict  # parsed by parse.parse_item
    activity: ClassVar[str] = "wijziging"

    @classmethod
    def from_body(cls, vcode: str, kind: str, body: Any) -> AddItem:
        return cls(vcode, kind, parse.parse_item(kind, body))

    def apply(self, state: dict, actor: Initiator) -> dict:
        _guard_kbo_representatives(self.kind, state)
        item = dict(self.item)
        if MODEL.part(self.kind).issuer_only:
            item["geregistreerdDoor"] = actor.ovo
        return dict(state, **{self.kind: [*state[self.kind], item]})


@dataclass(frozen=True)
class _OnItem:
    """A command on one existing item; only the organisation that added an issuer-only item may touch it."""

    vcode: str
    kind: str
    item_id: int
    activity: ClassVar[str] = "wijziging"

    def _item(self, state: dict, actor: Initiator) -> dict:
        return items.own(state, self.kind, self.item_id, actor)


@dataclass(frozen=True)
class ChangeItem(_OnItem):
    """A merge patch on one item; immutable fields and KBO-owned fields are refused."""

    patch: Any = None

    def apply(self, state: dict, actor: Initiator) -> dict:
        current = self._item(state, actor)
        keys = set(self.patch) if isinstance(self.patch, dict) else set()
        if _from_kbo(current) and keys - KBO_ITEM_EDITABLE:
            raise _kbo_item_refused()
        updated = parse.parse_item(self.kind, self.patch, current)
        for f in MODEL.part(self.kind).fields:  # what the register set (bron, issuer, status, validaties) stays
            if not f.writable and current.get(f.key) is not None:
                updated[f.key] = current[f.key]
        if updated.get("validaties") and updated.get("titularissen") != current.get("titularissen"):
            updated["validaties"] = []  # a validation vouched for the old holders, not for the new ones
        items = [updated if item["id"] == self.item_id else item for item in state[self.kind]]
        return dict(state, **{self.kind: items})


@dataclass(frozen=True)
class RemoveItem(_OnItem):
    def apply(self, state: dict, actor: Initiator) -> dict:
        current = self._item(state, actor)
        _guard_kbo_representatives(self.kind, state)
        if _from_kbo(current):
            raise _kbo_item_refused()
        if current.get("status") == "Geschorst":
            raise refused("geschorst", "Een geschorste erkenning kan niet verwijderd worden; "
                                       "hef eerst de schorsing op.")
        return dict(state, **{self.kind: [item for item in state[self.kind] if item["id"] != self.item_id]})


# -- bulk sources ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportRow:
    """A bestuur's spreadsheet row for a vereniging it registered before (its own key) or adopts.

    Only what the row fills in is applied, and never what the KBO owns: the KBO basisgegevens,
    KBO-sourced locaties and contactgegevens (such as the maatschappelijke zetel) and the
    vertegenwoordigers of a vereniging with legal personality (row_update.py).
    """

    vcode: str
    fresh: dict  # the row, parsed like a registration
    filled: dict  # the row's body: which fields it fills in
    activity: ClassVar[str] = "wijziging"

    def apply(self, state: dict, actor: Initiator) -> dict:
        return row_update.apply_row(state, self.fresh, self.filled)


@dataclass(frozen=True)
class KboFacts:
    """What the KBO says about one association (app/exchange/kbo_open_data.py reads the dump)."""

    kbo_nummer: str
    verenigingstype: str
    naam: str | None
    korte_naam: str | None
    startdatum: str | None
    active: bool
    locaties: list[dict] = field(default_factory=list)  # the maatschappelijke zetel, bron KBO
    contactgegevens: list[dict] = field(default_factory=list)  # bron KBO


def _merge_kbo(state: dict, facts: KboFacts) -> dict:
    """`state` with the KBO-owned fields replaced by the KBO's; what initiators added is kept."""
    new = copy.deepcopy(state)
    new["verenigingstype"] = facts.verenigingstype
    new["naam"] = facts.naam or state.get("naam")
    new["korteNaam"] = facts.korte_naam
    new["startdatum"] = facts.startdatum
    for kind, fresh in (("locaties", facts.locaties), ("contactgegevens", facts.contactgegevens)):
        kept = [item for item in new[kind] if not _from_kbo(item)]
        old = {_identity(item): item for item in new[kind] if _from_kbo(item)}
        merged = []
        for item in fresh:
            previous = old.get(_identity(item))
            if previous is not None:  # keep the id and what initiators may edit
                item = dict(item, id=previous["id"], isPrimair=previous["isPrimair"],
                            beschrijving=previous.get("beschrijving"), naam=previous.get("naam"))
                item = {k: v for k, v in item.items() if k in previous or k == "bron"}
            merged.append(dict(item, bron=KBO_SOURCE))
        new[kind] = kept + merged
    return new


def _identity(item: dict) -> tuple:
    if "adres" in item:
        return ("locatie", tuple(sorted((item.get("adres") or {}).items())))
    return ("contact", item["contactgegeventype"], item["waarde"])


@dataclass(frozen=True)
class RegisterFromKbo:
    """A vereniging with legal personality that the KBO knows and the register not yet."""

    facts: KboFacts
    activity: ClassVar[str] = "registratie"

    def apply(self, state: None, actor: Initiator) -> dict:
        if not self.facts.active:
            raise refused("niet-actief", "niet actief in de KBO")
        empty = parse.empty_state(self.facts.verenigingstype)
        empty["kboNummer"] = self.facts.kbo_nummer
        return _merge_kbo(empty, self.facts)


@dataclass(frozen=True)
class KboSync:
    """Bring a known vereniging in line with the KBO; an association no longer active there stops."""

    vcode: str
    facts: KboFacts
    today: date | None = None

    @property
    def activity(self) -> str:  # type: ignore[override]
        return "wijziging" if self.facts.active else "stopzetting"

    def apply(self, state: dict, actor: Initiator) -> dict:
        new = _merge_kbo(state, self.facts)
        if not self.facts.active and new["status"] != "Gestopt":
            new["status"], new["einddatum"] = "Gestopt", (self.today or clock.today()).isoformat()
            new.update(NOT_IN_STOPZETTING)
        return new
