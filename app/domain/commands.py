"""The one write path: every change to a vereniging goes through CommandHandler.

parse (by the caller, see parse.py) → domain rules → RDF state → SHACL on that record →
ONE Oxigraph transaction writing the new public state, the restricted state, the version
record with its provenance and the bookkeeping together. Any rejection raises a DomainError
before the transaction, so a refused command leaves the store untouched.

Validation runs outside the writer lock (in worker processes when configured), so concurrent
requests validate in parallel. A change is computed optimistically from the version it read
and committed only if that is still the current version; otherwise it is recomputed on the
new state (or refused with 412 when the client pinned the version with If-Match).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import duplicates, erkenningen, mapping, places, rules, versions
from app.domain.errors import (
    Busy,
    DomainError,
    FieldError,
    Gone,
    Invalid,
    KeyReused,
    NotFound,
    PossibleDuplicates,
    VersionMismatch,
    invalid,
)
from app.domain.parse import KINDS
from app.domain.vcode import format_vcode
from app.namespaces import GRAPH_PUBLIC, GRAPH_RESTRICTED, GRAPH_SYSTEM, GRAPH_VERSIONS_PUBLIC, PROV, VRX, XSD
from app.store.oxigraph_store import RegisterStore, system_quad
from app.validation.shacl import ShaclPool

FIRST_VCODE_NUMBER = 1001
log = logging.getLogger(__name__)
RECORD_GRAPHS = (GRAPH_PUBLIC, GRAPH_RESTRICTED)
MAX_ATTEMPTS = 20
SHACL_DETAIL = "De vereniging voldoet niet aan de SHACL-vormen van het register."


@dataclass(frozen=True)
class Outcome:
    vcode: str
    version: int
    sequence: int | None  # None: nothing was written
    created: bool = False
    item_id: int | None = None
    replayed: bool = False

    @property
    def changed(self) -> bool:
        return self.sequence is not None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _max(store: RegisterStore, query: str) -> str | None:
    for row in store.store.query(query):
        value = row[0]
        return value.value if value is not None else None
    return None


def not_found(vcode: str) -> NotFound:
    return NotFound("niet-gevonden", "Niet gevonden", f"Vereniging '{vcode}' is niet gekend in het register.")


def gone(vcode: str) -> Gone:
    return Gone("verwijderd", "Verwijderd", f"Vereniging '{vcode}' werd verwijderd.")


def stale(expected: int, actual: int) -> VersionMismatch:
    return VersionMismatch("voorwaarde-niet-voldaan", "Voorwaarde niet voldaan",
                           f"De gevraagde vereniging heeft niet de verwachte sequentiewaarde (verwacht {expected}, "
                           f"huidig {actual}).", extra={"huidigeVersie": actual})


class CommandHandler:
    def __init__(self, store: RegisterStore, base: str, validator: ShaclPool | None = None,
                 secret: bytes = b"", clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.base = base.rstrip("/")
        self.validator = validator or ShaclPool(0)
        self.secret = secret
        self.clock = clock
        self._reserve_lock = threading.Lock()
        # Changes to one vereniging queue up instead of racing and recomputing; striped so the
        # number of locks stays fixed however many verenigingen there are.
        self._record_locks = [threading.Lock() for _ in range(64)]
        # Called as listener(vcode, sequence) right after each commit, still under the writer lock,
        # so derived indexes see changes in sequence order. They must not write to the store.
        self.listeners: list[Callable[[str, int], None]] = []
        # listener → its form for a batch of commits [(vcode, sequence), …] (one index transaction per batch)
        self.batch_forms: dict[Callable, Callable[[list[tuple[str, int]]], None]] = {}
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

    @property
    def latest_sequence(self) -> int:
        """The sequence of the last committed change (the LDES pages are cut from 1…this)."""
        return self._sequence

    def is_empty(self) -> bool:
        """True until the first vereniging was ever registered."""
        return self._last_vcode < FIRST_VCODE_NUMBER

    # -- reading the current state ----------------------------------------------------------------
    def iri(self, vcode: str) -> str:
        return mapping.vereniging_iri(self.base, vcode)

    def version_of(self, vcode: str) -> int | None:
        value = self.store.system_value(NamedNode(self.iri(vcode)), "versienummer")
        return int(value) if value is not None else None

    def is_removed(self, vcode: str) -> bool:
        return self.store.system_value(NamedNode(self.iri(vcode)), "verwijderd") == "true"

    def load(self, vcode: str) -> tuple[dict, int]:
        """Current state and version; 404 for an unknown V-code, 410 for a removed one."""
        version = self.version_of(vcode)
        if version is None:
            raise not_found(vcode)
        if self.is_removed(vcode):
            raise gone(vcode)
        quads = self.store.record_quads(self.iri(vcode), RECORD_GRAPHS)
        state = mapping.quads_to_state(quads, self.iri(vcode))
        for erkenning in state["erkenningen"]:
            erkenning.setdefault("geregistreerdDoor", None)
        return state, version

    def _next_ids(self, vc: NamedNode) -> dict[str, int]:
        return {kind: int(self.store.system_value(vc, f"volgende{spec.segment.capitalize()}Id") or 1)
                for kind, spec in KINDS.items()}

    # -- the entry point: a named command (named_commands.py) --------------------------------------------
    def run(self, command, actor: versions.Initiator, *, reason: str | None = None,
            expected_version: int | None = None, idempotency_key: str | None = None,
            before_commit: Callable[[str, int], None] | None = None) -> Outcome:
        """Run one named command for `actor`: its guards and `apply` on the current state, then one commit.

        `before_commit(vcode, sequence)` runs just before the transaction (the audit entry); with an
        Idempotency-Key a retry of the same command returns the first outcome.
        """
        prov = versions.Provenance(command.activity, actor, reason, before_commit=before_commit)
        vcode = getattr(command, "vcode", None)
        if vcode is None:
            return self.register(command.apply(None, actor), prov, confirmation=getattr(command, "confirmation", None),
                                 idempotency_key=idempotency_key)
        if getattr(command, "removes", False):
            return self.remove(vcode, prov, expected_version, guard=lambda state: command.apply(state, actor))
        return self.change(vcode, lambda state: command.apply(state, actor), prov, expected_version,
                           idempotency_key=idempotency_key, payload=repr(command))

    def run_batch(self, commands: list, actor: versions.Initiator, *, reason: str | None = None,
                  engine: str = "turbo", before_commit: Callable[[str, int], None] | None = None
                  ) -> list[Outcome | DomainError]:
        """Run many Register commands as one batch (register_batch): the importer's write path."""
        items = [(command.apply(None, actor),
                  versions.Provenance(command.activity, actor, reason, before_commit=before_commit),
                  command.confirmation) for command in commands]
        return self.register_batch(items, engine)

    # -- registration -----------------------------------------------------------------------------
    def check(self, state: dict) -> None:
        """Everything registration checks except duplicates, without writing (import dry runs)."""
        rules.check(state)
        self._check_references(state, None)
        trial = copy.deepcopy(state)
        for kind in KINDS:
            for index, item in enumerate(trial[kind], start=1):
                item["id"] = index
        public, restricted = mapping.state_to_quads(trial, self.base, "V0000000")
        self._validate(public + restricted, self.iri("V0000000"))

    def register(self, state: dict, prov: versions.Provenance, *, confirmation: str | None = None,
                 idempotency_key: str | None = None) -> Outcome:
        """Register a new vereniging from a parsed state (parse.parse_registration / parse_kbo_registration)."""
        rules.check(state)
        self._check_references(state, None)
        idem = self._idempotency(prov, idempotency_key, state)
        if idem is not None:
            replay = self._replay(idem)
            if replay is not None:
                return replay
        existing = self._owner(state)
        if existing is not None:
            return Outcome(existing, self.version_of(existing) or 1, None, replayed=True)
        if not state.get("kboNummer"):
            self._check_duplicates(state, confirmation)
        for kind in KINDS:
            for index, item in enumerate(state[kind], start=1):
                item["id"] = index
        number, vcode = self._reserve_vcode()
        vc_iri = self.iri(vcode)
        public, restricted = mapping.state_to_quads(state, self.base, vcode)
        self._validate(public + restricted, vc_iri)
        vc = NamedNode(vc_iri)
        system = [system_quad(vc, "vcodeNummer", number), system_quad(vc, "versienummer", 1)]
        system += [system_quad(vc, f"volgende{spec.segment.capitalize()}Id", len(state[kind]) + 1)
                   for kind, spec in KINDS.items()]
        system += [Quad(key, NamedNode(VRX + "vereniging"), vc, _G_SYSTEM) for key in unique_keys(state)]
        with self.store.write_lock:
            if idem is not None:
                replay = self._replay(idem)
                if replay is not None:
                    return replay
                system += self._idempotency_quads(idem, vc)
            existing = self._owner(state)
            if existing is not None:
                return Outcome(existing, self.version_of(existing) or 1, None, replayed=True)
            sequence = self._sequence + 1
            timestamp = self._next_timestamp()
            meta = mapping.metadata_quads(vc_iri, timestamp, timestamp)
            history = versions.version_quads(vc_iri, 1, sequence, timestamp, prov, public + meta, restricted,
                                             places.gemeenten(state))
            _before_commit(prov, vcode, sequence)
            self.store.insert(public + restricted + meta + history + system)
            self._sequence, self._timestamp = sequence, timestamp
            self._last_vcode = max(self._last_vcode, number)
            self._notify(vcode, sequence)
        return Outcome(vcode=vcode, version=1, sequence=sequence, created=True)

    # -- batches (imports): same checks per record, SHACL over the batch, ONE transaction -----------
    def check_batch(self, states: list[dict], engine: str = "turbo") -> list[list[FieldError]]:
        """What check() finds for each state (duplicates aside), validating all of them in one SHACL run."""
        errors: list[list[FieldError]] = [[] for _ in states]
        records, positions = [], []
        for index, state in enumerate(states):
            try:
                rules.check(state)
                self._check_references(state, None)
            except DomainError as exc:
                errors[index] = exc.errors or [FieldError("", exc.slug, exc.detail)]
                continue
            trial = copy.deepcopy(state)
            for kind in KINDS:
                for number, item in enumerate(trial[kind], start=1):
                    item["id"] = number
            vcode = format_vcode(9_000_000 + index)  # placeholder roots, never stored
            public, restricted = mapping.state_to_quads(trial, self.base, vcode)
            records.append((public + restricted, self.iri(vcode)))
            positions.append(index)
        context = mapping.referenced_facts(q for quads, _ in records for q in quads)
        for index, found in zip(positions, self.validator.check_batch(records, context, engine), strict=True):
            errors[index] = found
        return errors

    def register_batch(self, items: list[tuple[dict, versions.Provenance, str | None]],
                       engine: str = "turbo") -> list[Outcome | DomainError]:
        """Register many verenigingen: each is checked exactly as register() checks it, SHACL runs over
        the whole batch at once, and every accepted one is written in ONE store transaction (state,
        version member, provenance and keys together), so a crash leaves all of the batch or none."""
        results: list[Outcome | DomainError | None] = [None] * len(items)
        accepted = []
        for index, (state, prov, confirmation) in enumerate(items):
            try:
                rules.check(state)
                self._check_references(state, None)
                existing = self._owner(state)
                if existing is not None:
                    results[index] = Outcome(existing, self.version_of(existing) or 1, None, replayed=True)
                    continue
                if not state.get("kboNummer"):
                    self._check_duplicates(state, confirmation)
            except DomainError as exc:
                results[index] = exc
                continue
            for kind in KINDS:
                for number, item in enumerate(state[kind], start=1):
                    item["id"] = number
            number, vcode = self._reserve_vcode()
            public, restricted = mapping.state_to_quads(state, self.base, vcode)
            accepted.append((index, state, prov, number, vcode, public, restricted))
        records = [(public + restricted, self.iri(vcode)) for _, _, _, _, vcode, public, restricted in accepted]
        context = mapping.referenced_facts(q for quads, _ in records for q in quads)
        verdicts = self.validator.check_batch(records, context, engine)
        valid = []
        for entry, problems in zip(accepted, verdicts, strict=True):
            if problems:
                results[entry[0]] = invalid(problems, SHACL_DETAIL)
            else:
                valid.append(entry)
        with self.store.write_lock:
            self._commit_batch(valid, results)
        return results  # type: ignore[return-value]

    def _commit_batch(self, valid: list, results: list) -> None:
        quads: list[Quad] = []
        written: list[tuple[str, int, versions.Provenance]] = []
        keys_in_batch: set[NamedNode] = set()
        sequence, timestamp, last = self._sequence, self._timestamp, self._last_vcode
        before = self._timestamp
        for index, state, prov, number, vcode, public, restricted in valid:
            keys = unique_keys(state)
            existing = self._owner(state)
            if existing is not None or keys_in_batch & set(keys):
                results[index] = Outcome(existing or "", self.version_of(existing) or 1 if existing else 0, None,
                                         replayed=True)
                continue
            keys_in_batch.update(keys)
            vc_iri = self.iri(vcode)
            vc = NamedNode(vc_iri)
            sequence += 1
            self._timestamp = timestamp
            timestamp = self._next_timestamp()
            meta = mapping.metadata_quads(vc_iri, timestamp, timestamp)
            history = versions.version_quads(vc_iri, 1, sequence, timestamp, prov, public + meta, restricted,
                                             places.gemeenten(state))
            system = [system_quad(vc, "vcodeNummer", number), system_quad(vc, "versienummer", 1)]
            system += [system_quad(vc, f"volgende{spec.segment.capitalize()}Id", len(state[kind]) + 1)
                       for kind, spec in KINDS.items()]
            system += [Quad(key, NamedNode(VRX + "vereniging"), vc, _G_SYSTEM) for key in keys]
            quads += public + restricted + meta + history + system
            last = max(last, number)
            results[index] = Outcome(vcode=vcode, version=1, sequence=sequence, created=True)
            written.append((vcode, sequence, prov))
        try:
            for vcode, seq, prov in written:
                _before_commit(prov, vcode, seq)
            if quads:
                self.store.insert(quads)
                self.store.flush()  # Oxigraph keeps big transactions in memory until flushed: bounded RSS
        except BaseException:
            self._timestamp = before
            raise
        self._sequence, self._timestamp, self._last_vcode = sequence, timestamp, last
        self._notify_many([(vcode, seq) for vcode, seq, _ in written])

    def _check_duplicates(self, state: dict, confirmation: str | None) -> None:
        token = duplicates.confirmation_token(state, self.secret)
        if confirmation is not None:
            if confirmation != token:
                raise Invalid("bevestigingstoken", "Ongeldig bevestigingstoken",
                              "Het bevestigingstoken is niet geldig voor deze request.")
            return
        candidates = duplicates.find_candidates(self.store, state)
        if candidates:
            raise PossibleDuplicates(
                "mogelijke-dubbels", "Mogelijke dubbele verenigingen",
                "Er bestaan al actieve verenigingen met een gelijkaardige naam in dezelfde gemeente. Stuur "
                "dezelfde aanvraag opnieuw met de header 'VR-BevestigingsToken' om toch te registreren.",
                extra={"bevestigingsToken": token, "mogelijkeDuplicateVerenigingen": candidates})

    def _owner(self, state: dict) -> str | None:
        """The vereniging that already holds one of this state's unique keys (KBO number, own key)."""
        for key in unique_keys(state):
            found = self.owner_of(key)
            if found is not None:
                return found
        return None

    def owner_of(self, key: NamedNode) -> str | None:
        for quad in self.store.store.quads_for_pattern(key, NamedNode(VRX + "vereniging"), None, _G_SYSTEM):
            return quad.object.value.rsplit("/", 1)[-1]
        return None

    # -- idempotent POST retries --------------------------------------------------------------------
    @staticmethod
    def _idempotency(prov: versions.Provenance, key: str | None, payload: object) -> tuple[NamedNode, str] | None:
        if not key:
            return None
        digest = hashlib.sha256(f"{prov.initiator.ovo}\n{key}".encode()).hexdigest()
        body = hashlib.sha256(repr(payload).encode()).hexdigest()
        return NamedNode(f"urn:vr:idempotentie:{digest}"), body

    def _replay(self, idem: tuple[NamedNode, str] | None) -> Outcome | None:
        """The first outcome of a request retried with the same Idempotency-Key, or None."""
        if idem is None:
            return None
        node, body = idem
        found = {q.predicate.value: q.object.value
                 for q in self.store.store.quads_for_pattern(node, None, None, _G_SYSTEM)}
        if not found:
            return None
        if found.get(VRX + "verzoekHash") != body:
            raise KeyReused("idempotentie-sleutel", "Idempotency-Key hergebruikt",
                            "Deze Idempotency-Key werd al gebruikt voor een andere aanvraag.")
        vcode = found[VRX + "vereniging"].rsplit("/", 1)[-1]
        version = int(found.get(VRX + "versienummer") or self.version_of(vcode) or 1)
        item_id = int(found[VRX + "itemId"]) if VRX + "itemId" in found else None
        return Outcome(vcode, version, None, created=VRX + "versienummer" not in found, item_id=item_id,
                       replayed=True)

    @staticmethod
    def _idempotency_quads(idem: tuple[NamedNode, str], vc: NamedNode, version: int | None = None,
                           item_id: int | None = None) -> list[Quad]:
        node, body = idem
        quads = [Quad(node, NamedNode(VRX + "vereniging"), vc, _G_SYSTEM),
                 Quad(node, NamedNode(VRX + "verzoekHash"), Literal(body), _G_SYSTEM)]
        for predicate, value in (("versienummer", version), ("itemId", item_id)):
            if value is not None:
                quads.append(Quad(node, NamedNode(VRX + predicate), Literal(str(value)), _G_SYSTEM))
        return quads

    # -- changes to an existing vereniging ------------------------------------------------------
    def change(self, vcode: str, mutate: Callable[[dict], dict], prov: versions.Provenance,
               expected_version: int | None = None, *, idempotency_key: str | None = None,
               payload: object = None) -> Outcome:
        """Apply `mutate` (state → new state, may raise DomainError) as one new version.

        A mutation that changes nothing writes nothing (Outcome.changed is False). With an
        Idempotency-Key, a retry of the same request (same `payload`) returns the first outcome.
        """
        idem = self._idempotency(prov, idempotency_key, (vcode, payload))
        with self._record_locks[hash(vcode) % len(self._record_locks)]:
            replay = self._replay(idem)
            if replay is not None:
                return replay
            return self._change(vcode, mutate, prov, expected_version, idem)

    def _change(self, vcode: str, mutate: Callable[[dict], dict], prov: versions.Provenance,
                expected_version: int | None, idem: tuple[NamedNode, str] | None = None) -> Outcome:
        for _ in range(MAX_ATTEMPTS):
            current, version = self.load(vcode)
            if expected_version is not None and expected_version != version:
                raise stale(expected_version, version)
            new = mutate(copy.deepcopy(current))
            self._number_new_items(vcode, current, new)
            new = erkenningen.refresh(new, self.clock().date())  # every write stores today's erkenning statuses
            if new == current:
                return Outcome(vcode, version, None)
            rules.check(new)
            rules.check_transition(current, new)
            self._check_references(new, vcode)
            vc_iri = self.iri(vcode)
            public, restricted = mapping.state_to_quads(new, self.base, vcode)
            self._validate(public + restricted, vc_iri)
            with self.store.write_lock:
                if self.version_of(vcode) != version:
                    replay = self._replay(idem)  # another process may have run this very request
                    if replay is not None:
                        return replay
                    continue  # somebody else committed first: recompute on the new state
                return self._commit_change(vcode, version, current, new, public, restricted, prov, idem)
        raise Busy("te-druk", "Te veel gelijktijdige wijzigingen",
                   "Deze vereniging wordt op dit moment te vaak gewijzigd; probeer opnieuw.")

    def _commit_change(self, vcode: str, version: int, old_state: dict, new_state: dict, public: list[Quad],
                       restricted: list[Quad], prov: versions.Provenance,
                       idem: tuple[NamedNode, str] | None = None) -> Outcome:
        vc_iri = self.iri(vcode)
        vc = NamedNode(vc_iri)
        old = set(self.store.record_quads(vc_iri, RECORD_GRAPHS))
        created_at = next((q.object.value for q in old if q.predicate.value.endswith("/created")
                           and q.subject == vc), None)
        sequence = self._sequence + 1
        timestamp = self._next_timestamp()
        number = version + 1
        meta = mapping.metadata_quads(vc_iri, created_at or timestamp, timestamp)
        new = set(public + restricted + meta)
        history = versions.version_quads(vc_iri, number, sequence, timestamp, prov, public + meta, restricted,
                                         places.gemeenten(old_state) | places.gemeenten(new_state))
        system_old = [system_quad(vc, "versienummer", version)]
        system_new = [system_quad(vc, "versienummer", number)]
        # a bestuur's key added by a change (an import that adopts this vereniging) finds it from now on
        added_keys = set(unique_keys(new_state)) - set(unique_keys(old_state))
        system_new += [Quad(key, NamedNode(VRX + "vereniging"), vc, _G_SYSTEM) for key in sorted(added_keys, key=str)]
        ids = self._next_ids(vc)
        for kind, spec in KINDS.items():
            highest = max([item["id"] for item in new_state[kind]] + [ids[kind] - 1])
            if highest + 1 != ids[kind]:
                system_old.append(system_quad(vc, f"volgende{spec.segment.capitalize()}Id", ids[kind]))
                system_new.append(system_quad(vc, f"volgende{spec.segment.capitalize()}Id", highest + 1))
        _before_commit(prov, vcode, sequence)
        item_id = _added_item(old_state, new_state)
        if idem is not None:
            system_new += self._idempotency_quads(idem, vc, number, item_id)
        self.store.apply(delete=[*(old - new), *system_old], insert=[*(new - old), *history, *system_new])
        self._sequence, self._timestamp = sequence, timestamp
        self._notify(vcode, sequence)
        return Outcome(vcode, number, sequence, item_id=item_id)

    def remove(self, vcode: str, prov: versions.Provenance, expected_version: int | None = None,
               guard: Callable[[dict], object] | None = None) -> Outcome:
        """Soft delete: the data goes, a tombstone version stays, the V-code is never reused."""
        with self._record_locks[hash(vcode) % len(self._record_locks)], self.store.write_lock:
            state, version = self.load(vcode)
            if expected_version is not None and expected_version != version:
                raise stale(expected_version, version)
            if guard is not None:
                guard(state)
            vc_iri = self.iri(vcode)
            vc = NamedNode(vc_iri)
            old = self.store.record_quads(vc_iri, RECORD_GRAPHS)
            sequence = self._sequence + 1
            timestamp = self._next_timestamp()
            tombstone = versions.tombstone_quads(vc_iri, version + 1, sequence, timestamp, prov,
                                                 places.gemeenten(state))
            _before_commit(prov, vcode, sequence)
            self.store.apply(
                delete=[*old, system_quad(vc, "versienummer", version)],
                insert=[*tombstone, system_quad(vc, "versienummer", version + 1),
                        Quad(vc, NamedNode(VRX + "verwijderd"), Literal("true", datatype=NamedNode(XSD + "boolean")),
                             _G_SYSTEM)])
            self._sequence, self._timestamp = sequence, timestamp
            self._notify(vcode, sequence)
        return Outcome(vcode, version + 1, sequence)

    # -- helpers ------------------------------------------------------------------------------------
    def _notify_many(self, changes: list[tuple[str, int]]) -> None:
        """A batch of commits: listeners with a batch form (see `batch_forms`) get them at once."""
        if not changes:
            return
        for listener in self.listeners:
            many = self.batch_forms.get(listener)
            try:
                if many is not None:
                    many(changes)
                else:
                    for vcode, sequence in changes:
                        listener(vcode, sequence)
            except Exception:  # a derived index must never undo or fail a committed change
                log.exception("listener failed after sequence %s; it catches up from the versions", changes[-1][1])

    def _notify(self, vcode: str, sequence: int) -> None:
        for listener in self.listeners:
            try:
                listener(vcode, sequence)
            except Exception:  # a derived index must never undo or fail a committed change
                log.exception("listener failed after sequence %s (%s); it catches up from the versions", sequence,
                              vcode)

    def _number_new_items(self, vcode: str, current: dict, new: dict) -> None:
        """Give items a command added (they have no id) the next ids, in item order; ids are never reused.

        Items are kept in id order, so a command that only reorders them changes nothing.
        """
        for kind in KINDS:
            if any("id" not in item for item in new[kind]):
                next_id = max(self.next_item_id(vcode, kind, current),
                              max((item["id"] + 1 for item in new[kind] if "id" in item), default=1))
                for item in new[kind]:
                    if "id" not in item:
                        item["id"], next_id = next_id, next_id + 1
            new[kind].sort(key=lambda item: item["id"])

    def next_item_id(self, vcode: str, kind: str, state: dict) -> int:
        """Child ids are never reused: max(existing + 1, the counter kept for this vereniging)."""
        counter = self._next_ids(NamedNode(self.iri(vcode)))[kind]
        return max([item["id"] + 1 for item in state[kind]] + [counter])

    def _check_references(self, state: dict, vcode: str | None) -> None:
        """Lidmaatschappen must point to another existing, not removed vereniging."""
        errors = []
        for index, item in enumerate(state["lidmaatschappen"]):
            other = item["andereVereniging"]
            path = f"lidmaatschappen[{index}].andereVereniging"
            if other == vcode:
                errors.append((path, "zichzelf", "Een vereniging kan geen lid zijn van zichzelf."))
            elif self.version_of(other) is None or self.is_removed(other):
                errors.append((path, "onbekend", f"Vereniging '{other}' is niet gekend of werd verwijderd."))
        if errors:
            raise invalid([FieldError(*e) for e in errors])

    def _validate(self, record: list[Quad], vc_iri: str) -> None:
        problems = self.validator.check(record, vc_iri, mapping.referenced_facts(record))
        if problems:
            raise invalid(problems, "De vereniging voldoet niet aan de SHACL-vormen van het register.")


_G_SYSTEM = NamedNode(GRAPH_SYSTEM)


def _before_commit(prov: versions.Provenance, vcode: str, sequence: int) -> None:
    """The caller's last word before the transaction (its audit entry); raising keeps the store untouched."""
    if prov.before_commit is not None:
        prov.before_commit(vcode, sequence)


def _added_item(old: dict, new: dict) -> int | None:
    """The id of the sub-resource a change added (for Location and idempotent replays), if any."""
    for kind in KINDS:
        before = {item["id"] for item in old[kind]}
        added = [item["id"] for item in new[kind] if item["id"] not in before]
        if added:
            return added[0]
    return None


def unique_keys(state: dict) -> list[NamedNode]:
    """System-graph keys that identify a vereniging outside its V-code: KBO number, a bestuur's own keys."""
    keys = [NamedNode(f"urn:vr:kbo:{state['kboNummer']}")] if state.get("kboNummer") else []
    keys += [NamedNode(f"urn:vr:sleutel:{mapping.sleutel_segment(s)}") for s in state.get("sleutels", [])]
    return keys


__all__ = ["CommandHandler", "DomainError", "Outcome"]
