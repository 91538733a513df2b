"""The one write path: every change to a vereniging goes through CommandHandler.

parse (done by the caller, see parse.py) → domain rules → RDF state → SHACL on that record →
ONE Oxigraph transaction writing the public state, the restricted state, the version record
with its provenance and the bookkeeping together. Any rejection raises CommandRejected before
the transaction, so a refused command leaves the store untouched.

Validation runs outside the writer lock (in worker processes when configured), so concurrent
requests validate in parallel; only numbering and the commit itself are serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyoxigraph import NamedNode, Quad

from app.domain import mapping, rules, versions
from app.domain.vcode import format_vcode
from app.namespaces import GRAPH_SYSTEM, GRAPH_VERSIONS_PUBLIC, PROV, VRX
from app.store.oxigraph_store import RegisterStore, system_quad
from app.validation.errors import CommandRejected, invalid
from app.validation.shacl import ShaclPool

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


def _max(store: RegisterStore, query: str) -> str | None:
    for row in store.store.query(query):
        value = row[0]
        return value.value if value is not None else None
    return None


class CommandHandler:
    def __init__(self, store: RegisterStore, base: str, validator: ShaclPool | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.base = base.rstrip("/")
        self.validator = validator or ShaclPool(0)
        self.clock = clock
        self._reserve_lock = threading.Lock()
        self._restore_counters()

    # -- register-wide counters: derived from the data itself, never stored separately ---------
    def _restore_counters(self) -> None:
        """Highest V-code, sequence and timestamp ever written (removed records included)."""
        self._last_vcode = int(_max(self.store, f"""
            SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{GRAPH_SYSTEM}> {{ ?v <{VRX}vcodeNummer> ?n }} }}""")
                               or FIRST_VCODE_NUMBER - 1)
        self._sequence = int(_max(self.store, f"""
            SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?a <{VRX}sequentie> ?n }} }}""")
                             or 0)
        self._timestamp = _max(self.store, f"""
            SELECT (MAX(?t) AS ?m) WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?v <{PROV}generatedAtTime> ?t }} }}""") \
            or ""
        self._next_vcode = self._last_vcode + 1

    def _reserve_vcode(self) -> tuple[int, str]:
        """A V-code for a new vereniging. Never handed out twice; a rejected command leaves a gap."""
        with self._reserve_lock:
            number = self._next_vcode
            self._next_vcode += 1
        return number, format_vcode(number)

    def _next_timestamp(self) -> str:
        """Now, but strictly after the previous change, so stream order equals time order."""
        now = self.clock().astimezone(UTC)
        if self._timestamp:
            previous = datetime.fromisoformat(self._timestamp.replace("Z", "+00:00"))
            if now <= previous:
                now = previous + timedelta(microseconds=1)
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def is_empty(self) -> bool:
        """True until the first vereniging was ever registered."""
        return self._last_vcode < FIRST_VCODE_NUMBER

    # -- commands -------------------------------------------------------------------------------
    def register(self, state: dict, prov: versions.Provenance) -> Outcome:
        """Register a new vereniging from a parsed state (see parse.parse_registration)."""
        rules.check(state)
        for key, _ in CHILD_KINDS:
            for index, item in enumerate(state[key], start=1):
                item["id"] = index
        number, vcode = self._reserve_vcode()
        vc_iri = mapping.vereniging_iri(self.base, vcode)
        public, restricted = mapping.state_to_quads(state, self.base, vcode)
        record = public + restricted
        problems = self.validator.check(record, vc_iri, mapping.referenced_facts(record))
        if problems:
            raise invalid(problems, "De vereniging voldoet niet aan de SHACL-vormen van het register.")
        vc = NamedNode(vc_iri)
        system = [system_quad(vc, "vcodeNummer", number), system_quad(vc, "versienummer", 1)]
        system += [system_quad(vc, f"volgende{kind}Id", len(state[key]) + 1) for key, kind in CHILD_KINDS]
        with self.store.write_lock:
            sequence = self._sequence + 1
            timestamp = self._next_timestamp()
            meta = mapping.metadata_quads(vc_iri, timestamp, timestamp)
            history = versions.version_quads(vc_iri, 1, sequence, timestamp, prov, public + meta, restricted)
            self.store.insert(record + meta + history + system)
            self._sequence, self._timestamp = sequence, timestamp
            self._last_vcode = max(self._last_vcode, number)
        return Outcome(vcode=vcode, version=1, sequence=sequence, created=True)

    # -- reads the write path needs -------------------------------------------------------------
    def version_of(self, vcode: str) -> int | None:
        value = self.store.system_value(NamedNode(mapping.vereniging_iri(self.base, vcode)), "versienummer")
        return int(value) if value is not None else None


__all__ = ["CommandHandler", "CommandRejected", "Outcome", "Quad"]
