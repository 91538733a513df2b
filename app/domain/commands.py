"""The one write path: every change to a vereniging goes through CommandHandler.

parse (done by the caller, see parse.py) → domain rules → RDF state → SHACL on that record →
ONE Oxigraph transaction writing the public state, the restricted state, the version record
with its provenance, and the register's counters together. Any rejection raises
CommandRejected before the transaction, so a refused command leaves the store untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyoxigraph import NamedNode, Quad

from app.domain import mapping, rules, versions
from app.domain.vcode import format_vcode
from app.store.oxigraph_store import REGISTER, RegisterStore, system_quad
from app.validation import shacl
from app.validation.errors import CommandRejected, invalid

FIRST_VCODE_NUMBER = 1001
CHILD_KINDS = (("locaties", "Locatie"), ("contactgegevens", "Contactgegeven"),
               ("vertegenwoordigers", "Vertegenwoordiger"))


@dataclass(frozen=True)
class Outcome:
    vcode: str
    version: int
    sequence: int
    created: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CommandHandler:
    def __init__(self, store: RegisterStore, base: str, clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.base = base.rstrip("/")
        self.clock = clock
        self._counters: dict[str, str | int] | None = None

    # -- register-wide counters (persisted in the system graph, cached here) -----------------
    def _load_counters(self) -> dict[str, str | int]:
        if self._counters is None:
            get = self.store.system_value
            self._counters = {
                "vcode": int(get(REGISTER, "laatsteVCodeNummer") or FIRST_VCODE_NUMBER - 1),
                "sequence": int(get(REGISTER, "sequentie") or 0),
                "timestamp": get(REGISTER, "laatsteTijdstip") or "",
            }
        return self._counters

    def _timestamp(self, last: str) -> str:
        """Now, but strictly after the previous change so stream order equals time order."""
        now = self.clock().astimezone(UTC)
        if last:
            previous = datetime.fromisoformat(last.replace("Z", "+00:00"))
            if now <= previous:
                now = previous + timedelta(microseconds=1)
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @staticmethod
    def _counter_quads(counters: dict) -> list[Quad]:
        return [
            system_quad(REGISTER, "laatsteVCodeNummer", counters["vcode"]),
            system_quad(REGISTER, "sequentie", counters["sequence"]),
            system_quad(REGISTER, "laatsteTijdstip", counters["timestamp"], "dateTime"),
        ]

    # -- commands -------------------------------------------------------------------------------
    def register(self, state: dict, prov: versions.Provenance) -> Outcome:
        """Register a new vereniging from a parsed state (see parse.parse_registration)."""
        rules.check(state)
        for key, _ in CHILD_KINDS:
            for index, item in enumerate(state[key], start=1):
                item["id"] = index
        with self.store.write_lock:
            counters = self._load_counters()
            number = int(counters["vcode"]) + 1
            vcode = format_vcode(number)
            sequence = int(counters["sequence"]) + 1
            timestamp = self._timestamp(str(counters["timestamp"]))
            meta = {"vCode": vcode, "created": timestamp, "modified": timestamp}
            public, restricted = mapping.state_to_quads(state, self.base, meta)
            vc_iri = mapping.vereniging_iri(self.base, vcode)
            record = public + restricted
            problems = shacl.check(record, mapping.referenced_concepts(record), vc_iri)
            if problems:
                raise invalid(problems, "De vereniging voldoet niet aan de SHACL-vormen van het register.")
            vc = NamedNode(vc_iri)
            system = [system_quad(vc, "versienummer", 1)]
            system += [system_quad(vc, f"volgende{kind}Id", len(state[key]) + 1) for key, kind in CHILD_KINDS]
            history = versions.version_quads(vc_iri, 1, sequence, timestamp, prov, public, restricted)
            new_counters = {"vcode": number, "sequence": sequence, "timestamp": timestamp}
            old = self._counter_quads(counters) if counters["timestamp"] else []
            self.store.commit(delete=old, insert=record + history + system + self._counter_quads(new_counters))
            self._counters = new_counters
        return Outcome(vcode=vcode, version=1, sequence=sequence, created=True)

    def is_empty(self) -> bool:
        """True until the first vereniging was ever registered."""
        return int(self._load_counters()["vcode"]) < FIRST_VCODE_NUMBER

    # -- reads the write path needs -------------------------------------------------------------
    def version_of(self, vcode: str) -> int | None:
        value = self.store.system_value(NamedNode(mapping.vereniging_iri(self.base, vcode)), "versienummer")
        return int(value) if value is not None else None


__all__ = ["CommandHandler", "CommandRejected", "Outcome"]
