"""Reading a vereniging's current record through the store interface: state, version, keys, counters.

The command runner reads what it changes here; nothing in this module writes.
"""

from __future__ import annotations

from pyoxigraph import NamedNode, Quad

from app.domain import mapping
from app.domain.errors import Gone, NotFound
from app.domain.parse import KINDS
from app.store import RegisterStore, keys
from app.store.audience import REGISTER

FIRST_VCODE_NUMBER = 1001


def not_found(vcode: str) -> NotFound:
    return NotFound("niet-gevonden", "Niet gevonden", f"Vereniging '{vcode}' is niet gekend in het register.")


def gone(vcode: str) -> Gone:
    return Gone("verwijderd", "Verwijderd", f"Vereniging '{vcode}' werd verwijderd.")


def unique_keys(state: dict) -> list[NamedNode]:
    """System-graph keys that identify a vereniging outside its V-code: KBO number, a bestuur's own keys."""
    found = [keys.kbo_key(state["kboNummer"])] if state.get("kboNummer") else []
    found += [keys.sleutel_key(mapping.sleutel_segment(s)) for s in state.get("sleutels", [])]
    return found


def next_ids(facts: dict[str, str]) -> dict[str, int]:
    """The next child id per kind, as kept in a vereniging's bookkeeping."""
    return {kind: int(facts.get(keys.next_id_predicate(spec.segment)) or 1) for kind, spec in KINDS.items()}


class Records:
    """The current records of the register, read by V-code."""

    def __init__(self, store: RegisterStore, base: str) -> None:
        self.store = store
        self.base = base.rstrip("/")

    @property
    def latest_sequence(self) -> int:
        """The sequence of the last committed change (the LDES pages are cut from 1…this)."""
        return self.store.latest_sequence()

    def is_empty(self) -> bool:
        """True until the first vereniging was ever registered."""
        return self.store.counters().vcode_number < FIRST_VCODE_NUMBER

    def iri(self, vcode: str) -> str:
        return mapping.vereniging_iri(self.base, vcode)

    def version_of(self, vcode: str) -> int | None:
        value = self.store.bookkeeping(NamedNode(self.iri(vcode))).get(keys.VERSION_NUMBER)
        return int(value) if value is not None else None

    def status(self, vcode: str) -> tuple[int | None, bool]:
        """(current version or None, removed?) in one read: a detail GET served from the render cache
        needs nothing else from the store."""
        facts = self.store.bookkeeping(NamedNode(self.iri(vcode)))
        value = facts.get(keys.VERSION_NUMBER)
        return (int(value) if value is not None else None), facts.get(keys.REMOVED) == "true"

    def is_removed(self, vcode: str) -> bool:
        return self.store.bookkeeping(NamedNode(self.iri(vcode))).get(keys.REMOVED) == "true"

    def load(self, vcode: str) -> tuple[dict, int]:
        """Current state and version; 404 for an unknown V-code, 410 for a removed one."""
        state, version, _, _ = self.load_record(vcode)
        return state, version

    def load_record(self, vcode: str) -> tuple[dict, int, list[Quad], dict[str, str]]:
        """State, version, the record's quads and its bookkeeping, all as of one version.

        The version is read first: if the record changes in between, the commit's guard (this
        version) fails and the change is recomputed.
        """
        facts = self.store.bookkeeping(NamedNode(self.iri(vcode)))
        if keys.VERSION_NUMBER not in facts:
            raise not_found(vcode)
        if facts.get(keys.REMOVED) == "true":
            raise gone(vcode)
        quads = self.store.record(self.iri(vcode), REGISTER)
        state = mapping.quads_to_state(quads, self.iri(vcode))
        for erkenning in state["erkenningen"]:
            erkenning.setdefault("geregistreerdDoor", None)
        return state, int(facts[keys.VERSION_NUMBER]), quads, facts

    def next_item_id(self, vcode: str, kind: str, state: dict) -> int:
        """Child ids are never reused: max(existing + 1, the counter kept for this vereniging)."""
        counter = next_ids(self.store.bookkeeping(NamedNode(self.iri(vcode))))[kind]
        return max([item["id"] + 1 for item in state[kind]] + [counter])

    def owner(self, state: dict) -> str | None:
        """The vereniging that already holds one of this state's unique keys (KBO number, own key)."""
        for key in unique_keys(state):
            found = self.owner_of(key)
            if found is not None:
                return found
        return None

    def owner_of(self, key: NamedNode) -> str | None:
        owner = self.store.owner_of(key)
        return owner.rsplit("/", 1)[-1] if owner else None
