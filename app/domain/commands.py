"""The one write path: every change to a vereniging goes through CommandHandler.

parse (by the caller, see parse.py) → domain rules → RDF state → SHACL on that record →
ONE Oxigraph transaction writing the new public state, the restricted state, the version
record with its provenance and the bookkeeping together. Any rejection raises a DomainError
before the transaction, so a refused command leaves the store untouched.

Validation runs outside the write lease (in worker processes when configured), so concurrent
requests validate in parallel. A change is computed optimistically from the version it read
and committed only if that is still the current version (the store checks that guard under its
write lease, across processes); otherwise it is recomputed on the new state (or refused with 412
when the client pinned the version with If-Match). Sequence numbers, timestamps and V-codes are
allocated by the store inside the commit, so several processes can share one register.

The runner composes small parts: records.py reads the current record, validation_gate.py runs
rules/references/SHACL, duplicate_gate.py asks for the confirmation token, idempotency.py
replays retries; this module builds and commits the transaction and notifies listeners.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pyoxigraph import Literal, NamedNode, Quad

from app.domain import batch_check, erkenningen, idempotency, mapping, places, rules, versions
from app.domain.batch_check import Prechecked
from app.domain.clock import now as clock_now
from app.domain.clock import today as brussels_day
from app.domain.duplicate_gate import check_duplicates
from app.domain.errors import Busy, DomainError, FieldError, VersionMismatch, invalid
from app.domain.idempotency import Idem
from app.domain.outcome import Committed, Outcome
from app.domain.parse import KINDS
from app.domain.prebuilt import Prebuilt, PublicState
from app.domain.records import FIRST_VCODE_NUMBER, Records, next_ids, unique_keys
from app.domain.validation_gate import PLACEHOLDER_VCODE, SHACL_DETAIL, ValidationGate
from app.domain.vcode import format_vcode
from app.namespaces import GRAPH_SYSTEM, VRX, XSD
from app.store import Allocation, Change, Refused, RegisterStore, keys
from app.store.base import NQuads
from app.store.keys import system_quad
from app.validation.shacl import ShaclPool

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 50


def stale(expected: int, actual: int) -> VersionMismatch:
    return VersionMismatch("voorwaarde-niet-voldaan", "Voorwaarde niet voldaan",
                           f"De gevraagde vereniging heeft niet de verwachte sequentiewaarde (verwacht {expected}, "
                           f"huidig {actual}).", extra={"huidigeVersie": actual})


@dataclass
class CheckedBatch:
    """Registrations checked together (CommandHandler.check_commands), waiting for their commit: the
    outcome so far per command (a refusal or replay; None while waiting) and the accepted ones as
    (position, state, provenance, built): built is the record as text (prebuilt.Prebuilt) or, when the
    placeholder V-code occurs in its data, (placeholder V-code, public quads, restricted quads)."""

    results: list
    valid: list[tuple]


Loaded = tuple[dict, int, list[Quad], dict[str, str]]  # Records.load_record: state, version, quads, bookkeeping


@dataclass
class PreparedChange:
    """A checked change of one vereniging, ready to commit (CommandHandler._prepare_change)."""
    vcode: str
    version: int
    change: Change
    item_id: int | None

    def outcome(self, at: Allocation) -> Outcome:
        return Outcome(self.vcode, self.version + 1, at.sequence, item_id=self.item_id)


class CommandHandler:
    """Runs commands: gates first, then one commit; the read/check methods delegate to records and gate."""

    def __init__(self, store: RegisterStore, base: str, validator: ShaclPool | None = None,
                 secret: bytes = b"", clock: Callable[[], datetime] = clock_now) -> None:
        self.store = store
        self.base = base.rstrip("/")
        self.records = Records(store, self.base)
        self.gate = ValidationGate(self.records, validator or ShaclPool(0))
        self.secret = secret
        self.clock = clock
        # Changes to one vereniging queue up instead of racing and recomputing; striped so the
        # number of locks stays fixed however many verenigingen there are.
        self._record_locks = [threading.Lock() for _ in range(64)]
        # Called as listener(vcode, sequence) right after each commit, still under the write lease,
        # so derived indexes see changes in sequence order. They must not write to the store.
        self.listeners: list[Callable[[str, int], None]] = []
        # Called while a commit is built (under the write lease); the quads they return are written
        # in the same transaction as the change (the meldingen outbox). Cheap, and no store access.
        self.contributors: list[Callable[[Committed], list[Quad]]] = []
        # listener → its form for a batch of commits [(vcode, sequence), …] (one index transaction per batch)
        self.batch_forms: dict[Callable, Callable[[list[tuple[str, int]]], None]] = {}
        # Commits of the current group (store.commit writes concurrent changes as one update): the
        # listeners get them together once the group is written, still under the write lease.
        self._pending: list[tuple[str, int]] = []
        self._pending_public: dict[str, list[Quad]] = {}  # V-code → public quads it wrote (the index's input)
        self._pending_lock = threading.Lock()  # appended under the write lease, flushed under the after lease
        store.written.append(self._flush_pending)

    @property
    def validator(self) -> ShaclPool:
        return self.gate.validator

    # -- reading the current state (records.py) and checking without writing (validation_gate.py) --
    @property
    def latest_sequence(self) -> int:
        """The sequence of the last committed change (the LDES pages are cut from 1…this)."""
        return self.records.latest_sequence

    def is_empty(self) -> bool:
        return self.records.is_empty()

    def iri(self, vcode: str) -> str:
        return self.records.iri(vcode)

    def version_of(self, vcode: str) -> int | None:
        return self.records.version_of(vcode)

    def is_removed(self, vcode: str) -> bool:
        return self.records.is_removed(vcode)

    def load(self, vcode: str) -> tuple[dict, int]:
        return self.records.load(vcode)

    def owner_of(self, key: NamedNode) -> str | None:
        return self.records.owner_of(key)

    def next_item_id(self, vcode: str, kind: str, state: dict) -> int:
        return self.records.next_item_id(vcode, kind, state)

    def check(self, state: dict) -> None:
        self.gate.check(state)

    def check_batch(self, states: list[dict], engine: str = "turbo") -> list[list[FieldError]]:
        return self.gate.check_batch(states, engine)

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
        return self.commit_batch(self.check_commands(commands, actor, reason=reason, engine=engine,
                                                     before_commit=before_commit))

    def run_changes(self, commands: list, actor: versions.Initiator, *, reason: str | None = None,
                    before_commit: Callable[[str, int], None] | None = None,
                    loaded: list[Loaded | None] | None = None) -> list[Outcome | DomainError]:
        """Run many named commands on existing verenigingen in one commit (change_batch): an import's updates.
        `loaded`: per command, its record as the caller already read it (Records.load_record), or None."""
        return self.change_batch([(command.vcode, lambda state, command=command: command.apply(state, actor),
                                   versions.Provenance(command.activity, actor, reason, before_commit=before_commit))
                                  for command in commands], loaded)

    def check_commands(self, commands: list, actor: versions.Initiator, *, reason: str | None = None,
                       engine: str = "turbo", before_commit: Callable[[str, int], None] | None = None,
                       prechecked: list[Prechecked] | None = None) -> CheckedBatch:
        """run_batch's first half, everything before the commit (rules, references, SHACL over the batch):
        an importer runs it for batch k+1 while commit_batch writes batch k. `prechecked` is what
        batch_check.precheck found for these commands' states (an import worker process ran it)."""
        provs = [versions.Provenance(command.activity, actor, reason, before_commit=before_commit)
                 for command in commands]
        if prechecked is None:
            prechecked = batch_check.precheck([(command.apply(None, actor), command.confirmation, prov)
                                               for command, prov in zip(commands, provs, strict=True)],
                                              self.base, self.secret, engine, self.validator.check_batch)
        return self._check_registrations(list(zip(provs, (c.confirmation for c in commands), strict=True)),
                                         prechecked)

    # -- registration -----------------------------------------------------------------------------
    def register(self, state: dict, prov: versions.Provenance, *, confirmation: str | None = None,
                 idempotency_key: str | None = None) -> Outcome:
        """Register a new vereniging from a parsed state (parse.parse_registration / parse_kbo_registration)."""
        rules.check(state)
        self.gate.check_references(state, None)
        idem = idempotency.request_key(prov, idempotency_key, state)
        if idem is not None:
            replay = idempotency.replay(self.records, idem)
            if replay is not None:
                return replay
        existing = self.records.owner(state)
        if existing is not None:
            return Outcome(existing, self.version_of(existing) or 1, None, replayed=True)
        if not state.get("kboNummer"):
            check_duplicates(self.store, self.secret, state, confirmation)
        for kind in KINDS:
            for index, item in enumerate(state[kind], start=1):
                item["id"] = index
        public, restricted = mapping.state_to_quads(state, self.base, PLACEHOLDER_VCODE)
        self.gate.validate(public + restricted, self.iri(PLACEHOLDER_VCODE))
        change, made = self._registration(state, prov, idem, built=(PLACEHOLDER_VCODE, public, restricted),
                                          public_records=self._pending_public)
        try:
            at = self.store.commit(change)
        except Refused as refused:
            if refused.reason == "herhaling" and idem is not None:
                return idempotency.replay(self.records, idem)
            owner = str(refused.value).rsplit("/", 1)[-1]
            return Outcome(owner, self.version_of(owner) or 1, None, replayed=True)
        return Outcome(vcode=made[-1], version=1, sequence=at.sequence, created=True)

    # -- batches (imports): same checks per record, SHACL over the batch, ONE transaction -----------
    def register_batch(self, items: list[tuple[dict, versions.Provenance, str | None]],
                       engine: str = "turbo") -> list[Outcome | DomainError]:
        """Register many verenigingen: each is checked exactly as register() checks it, SHACL runs over
        the whole batch at once, and every accepted one is written in ONE store transaction (state,
        version member, provenance and keys together), so a crash leaves all of the batch or none."""
        prechecked = batch_check.precheck([(state, confirmation, prov) for state, prov, confirmation in items],
                                          self.base, self.secret, engine, self.validator.check_batch)
        return self.commit_batch(self._check_registrations([(prov, confirmation) for _, prov, confirmation in items],
                                                           prechecked))

    def _check_registrations(self, items: list[tuple[versions.Provenance, str | None]],
                             prechecked: list[Prechecked]) -> CheckedBatch:
        """The store's checks of a prechecked batch, in register()'s order: rules (prechecked), references,
        an owner of the keys (a replay), the duplicate gate, then SHACL's verdict (prechecked)."""
        results: list[Outcome | DomainError | None] = [None] * len(items)
        valid = []
        for index, ((prov, confirmation), entry) in enumerate(zip(items, prechecked, strict=True)):
            state = entry.state
            try:
                if entry.refusal is not None:
                    raise entry.refusal
                self.gate.check_references(state, None)
                existing = self.records.owner(state)
                if existing is not None:
                    results[index] = Outcome(existing, self.version_of(existing) or 1, None, replayed=True)
                    continue
                if not state.get("kboNummer"):
                    check_duplicates(self.store, self.secret, state, confirmation, token_ok=entry.token_ok)
                if entry.problems:
                    raise invalid(entry.problems, SHACL_DETAIL)
            except DomainError as exc:
                results[index] = exc
                continue
            valid.append((index, state, prov, entry.built))
        return CheckedBatch(results, valid)

    def commit_batch(self, checked: CheckedBatch) -> list[Outcome | DomainError]:
        """run_batch's second half: the accepted registrations of a checked batch in ONE commit."""
        results, valid = checked.results, checked.valid
        public_records: dict[str, list[Quad]] = {}  # what each record wrote to the public graph, for the index
        changes = [self._registration(state, prov, notify=False, built=built, public_records=public_records)
                   for _, state, prov, built in valid]

        def written(outcomes: list) -> None:  # under the write lease: the index sees the batch in order
            self._notify_many([(made[-1], at.sequence) for (_, made), at in zip(changes, outcomes, strict=True)
                               if isinstance(at, Allocation)], public_records)

        outcomes = self.store.commit_many([change for change, _ in changes], written) if changes else []
        for (index, *_), (_, made), outcome in zip(valid, changes, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                results[index] = outcome
            elif isinstance(outcome, Refused):
                owner = str(outcome.value).rsplit("/", 1)[-1]
                results[index] = Outcome(owner, self.version_of(owner) or 1 if owner else 0, None, replayed=True)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results[index] = Outcome(vcode=made[-1], version=1, sequence=outcome.sequence, created=True)
        return results  # type: ignore[return-value]

    def _registration(self, state: dict, prov: versions.Provenance, idem: Idem | None = None,
                      notify: bool = True, built: tuple[str, list[Quad], list[Quad]] | Prebuilt | None = None,
                      public_records: dict[str, list[Quad]] | None = None) -> tuple[Change, list[str]]:
        """The commit of a new vereniging; the store hands out its V-code (appended to the list).

        `built` is (placeholder V-code, public, restricted) when the quads were already made for SHACL,
        or their text (prebuilt.py): moved to the real V-code instead of built again. `public_records`
        receives the record's public quads by V-code (the search index reads them instead of the store)."""
        keys_held = unique_keys(state)
        made: list[str] = []

        def build(at: Allocation) -> tuple[list[Quad], list[Quad | NQuads]]:
            vcode = format_vcode(at.vcode_number)
            made.append(vcode)
            vc_iri = self.iri(vcode)
            vc = NamedNode(vc_iri)
            written: list[Quad | NQuads]
            if isinstance(built, Prebuilt) and built.fits(prov):  # made as text when checked: only moved here
                written = [NQuads(built.moved(vcode, at.sequence, at.timestamp))]
                if public_records is not None:
                    public_records[vcode] = PublicState(built.public_state, at.timestamp)
            else:
                if isinstance(built, tuple):
                    public, restricted = (mapping.with_vcode(quads, self.base, built[0], vcode) for quads in built[1:])
                else:
                    public, restricted = mapping.state_to_quads(state, self.base, vcode)
                public = public + mapping.metadata_quads(vc_iri, at.timestamp, at.timestamp)
                if public_records is not None:
                    public_records[vcode] = public
                written = [*public, *restricted, *versions.version_quads(vc_iri, 1, at.sequence, at.timestamp, prov,
                                                                         public, restricted, places.concerned(state))]
            system = [system_quad(vc, keys.VCODE_NUMBER, at.vcode_number), system_quad(vc, keys.VERSION_NUMBER, 1)]
            system += [system_quad(vc, keys.next_id_predicate(spec.segment), len(state[kind]) + 1)
                       for kind, spec in KINDS.items()]
            system += [Quad(key, keys.OWNER, vc, _G_SYSTEM) for key in keys_held]
            system += idempotency.quads(idem, vc) if idem is not None else []
            _before_commit(prov, vcode, at.sequence)  # the audit entry, just before the transaction
            committed = Committed(vcode, 1, at.sequence, at.timestamp, None, state, prov,
                                  frozenset(places.gemeenten(state)))
            return [], [*written, *system, *self._contributions(committed)]

        on_commit = (lambda at: self._committed(made[-1], at.sequence)) if notify else None
        change = Change(build, self.clock(), unique_keys=keys_held, idempotency=idem[0] if idem else None,
                        min_vcode_number=FIRST_VCODE_NUMBER, on_commit=on_commit)
        return change, made

    # -- changes to an existing vereniging ------------------------------------------------------
    def change(self, vcode: str, mutate: Callable[[dict], dict], prov: versions.Provenance,
               expected_version: int | None = None, *, idempotency_key: str | None = None,
               payload: object = None) -> Outcome:
        """Apply `mutate` (state → new state, may raise DomainError) as one new version.

        A mutation that changes nothing writes nothing (Outcome.changed is False). With an
        Idempotency-Key, a retry of the same request (same `payload`) returns the first outcome.
        """
        idem = idempotency.request_key(prov, idempotency_key, (vcode, payload))
        with self._record_locks[hash(vcode) % len(self._record_locks)]:
            replay = idempotency.replay(self.records, idem)
            if replay is not None:
                return replay
            return self._change(vcode, mutate, prov, expected_version, idem)

    def _change(self, vcode: str, mutate: Callable[[dict], dict], prov: versions.Provenance,
                expected_version: int | None, idem: Idem | None = None) -> Outcome:
        for attempt in range(MAX_ATTEMPTS):
            prepared = self._prepare_change(vcode, mutate, prov, expected_version, idem)
            if isinstance(prepared, Outcome):
                return prepared
            try:
                at = self.store.commit(prepared.change)
            except Refused as refused:
                replay = idempotency.replay(self.records, idem)  # another process may have run this very request
                if replay is not None:
                    return replay
                if expected_version is not None:
                    raise stale(expected_version, refused.value or prepared.version) from None
                # Somebody else (maybe another process) committed first: recompute on the new state,
                # after a short random pause so competing processes do not keep colliding.
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                continue
            return prepared.outcome(at)
        raise Busy("te-druk", "Te veel gelijktijdige wijzigingen",
                   "Deze vereniging wordt op dit moment te vaak gewijzigd; probeer opnieuw.")

    def _prepare_change(self, vcode: str, mutate: Callable[[dict], dict], prov: versions.Provenance,
                        expected_version: int | None, idem: Idem | None = None,
                        loaded: Loaded | None = None) -> Outcome | PreparedChange:
        """One attempt's checks of a change on the current state (rules, references, SHACL): the commit to
        write, or the Outcome of a change that changes nothing. `loaded`: the record as already read; when it
        is no longer current, the commit's guard refuses it."""
        current, version, old_quads, facts = loaded or self.records.load_record(vcode)
        if expected_version is not None and expected_version != version:
            raise stale(expected_version, version)
        new = mutate(copy.deepcopy(current))
        self._number_new_items(vcode, current, new)
        new = erkenningen.refresh(new, brussels_day(self.clock()))  # every write stores today's erkenning statuses
        if new == current:
            return Outcome(vcode, version, None)
        rules.check(new, before=current)
        rules.check_transition(current, new)
        self.gate.check_references(new, vcode)
        public, restricted = mapping.state_to_quads(new, self.base, vcode)
        self.gate.validate(public + restricted, self.iri(vcode))
        build = self._change_builder(vcode, version, current, new, public, restricted, old_quads, facts, prov, idem)
        change = Change(build, self.clock(), subject=self.iri(vcode), expected_version=version,
                        idempotency=idem[0] if idem else None, on_commit=self._notify_later(vcode))
        return PreparedChange(vcode, version, change, _added_item(current, new))

    def change_batch(self, changes: list[tuple[str, Callable[[dict], dict], versions.Provenance]],
                     loaded: list[Loaded | None] | None = None) -> list[Outcome | DomainError]:
        """Many changes to existing verenigingen (an import's updates and adoptions) in ONE commit.

        Each is checked exactly as change() checks it. One whose guard no longer holds when the batch is
        written (another writer changed that vereniging meanwhile, or an earlier change of the same batch
        did) is left out of it and then runs on its own through change(), on the state it finds then."""
        results: list[Outcome | DomainError | None] = [None] * len(changes)
        ready: list[tuple[int, PreparedChange]] = []
        for index, (vcode, mutate, prov) in enumerate(changes):
            try:
                prepared = self._prepare_change(vcode, mutate, prov, None, loaded=loaded[index] if loaded else None)
            except DomainError as exc:
                results[index] = exc
                continue
            if isinstance(prepared, Outcome):
                results[index] = prepared
            else:
                ready.append((index, prepared))
        outcomes = self.store.commit_many([prepared.change for _, prepared in ready]) if ready else []
        for (index, prepared), outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, Allocation):
                results[index] = prepared.outcome(outcome)
                continue
            if not isinstance(outcome, (Refused, DomainError)):
                raise outcome
            vcode, mutate, prov = changes[index]
            try:
                results[index] = outcome if isinstance(outcome, DomainError) else self.change(vcode, mutate, prov)
            except DomainError as exc:
                results[index] = exc
        return results  # type: ignore[return-value]

    def _change_builder(self, vcode: str, version: int, old_state: dict, new_state: dict, public: list[Quad],
                        restricted: list[Quad], old_quads: list[Quad], facts: dict[str, str],
                        prov: versions.Provenance, idem: Idem | None = None
                        ) -> Callable[[Allocation], tuple[list[Quad], list[Quad]]]:
        vc_iri = self.iri(vcode)
        vc = NamedNode(vc_iri)
        old = set(old_quads)
        created_at = next((q.object.value for q in old if q.predicate.value.endswith("/created")
                           and q.subject == vc), None)
        number = version + 1
        system_old = [system_quad(vc, keys.VERSION_NUMBER, version)]
        system_new = [system_quad(vc, keys.VERSION_NUMBER, number)]
        # a bestuur's key added by a change (an import that adopts this vereniging) finds it from now on
        added_keys = set(unique_keys(new_state)) - set(unique_keys(old_state))
        system_new += [Quad(key, keys.OWNER, vc, _G_SYSTEM) for key in sorted(added_keys, key=str)]
        ids = next_ids(facts)
        for kind, spec in KINDS.items():
            highest = max([item["id"] for item in new_state[kind]] + [ids[kind] - 1])
            if highest + 1 != ids[kind]:
                system_old.append(system_quad(vc, keys.next_id_predicate(spec.segment), ids[kind]))
                system_new.append(system_quad(vc, keys.next_id_predicate(spec.segment), highest + 1))

        def build(at: Allocation) -> tuple[list[Quad], list[Quad]]:
            meta = mapping.metadata_quads(vc_iri, created_at or at.timestamp, at.timestamp)
            self._pending_public[vcode] = public + meta  # the search index reads these, not the store
            new = set(public + restricted + meta)
            history = versions.version_quads(vc_iri, number, at.sequence, at.timestamp, prov, public + meta,
                                             restricted, places.concerned(old_state) | places.concerned(new_state))
            _before_commit(prov, vcode, at.sequence)  # the audit entry, just before the transaction
            committed = Committed(vcode, number, at.sequence, at.timestamp, old_state, new_state, prov,
                                  frozenset(places.gemeenten(old_state) | places.gemeenten(new_state)))
            return [*(old - new), *system_old], [*(new - old), *history, *system_new, *idem_quads,
                                                 *self._contributions(committed)]

        item_id = _added_item(old_state, new_state)
        idem_quads = idempotency.quads(idem, vc, number, item_id) if idem is not None else []
        return build

    def remove(self, vcode: str, prov: versions.Provenance, expected_version: int | None = None,
               guard: Callable[[dict], object] | None = None) -> Outcome:
        """Soft delete: the data goes, a tombstone version stays, the V-code is never reused."""
        vc_iri = self.iri(vcode)
        vc = NamedNode(vc_iri)
        removed = Quad(vc, NamedNode(VRX + keys.REMOVED), Literal("true", datatype=NamedNode(XSD + "boolean")),
                       _G_SYSTEM)
        with self._record_locks[hash(vcode) % len(self._record_locks)]:
            for _ in range(MAX_ATTEMPTS):
                state, version, old, _ = self.records.load_record(vcode)
                if expected_version is not None and expected_version != version:
                    raise stale(expected_version, version)
                if guard is not None:
                    guard(state)

                def build(at: Allocation, state=state, version=version, old=old) -> tuple[list[Quad], list[Quad]]:
                    tombstone = versions.tombstone_quads(vc_iri, version + 1, at.sequence, at.timestamp, prov,
                                                         places.concerned(state))
                    _before_commit(prov, vcode, at.sequence)  # the audit entry, just before the transaction
                    committed = Committed(vcode, version + 1, at.sequence, at.timestamp, state, None, prov,
                                          frozenset(places.gemeenten(state)))
                    return ([*old, system_quad(vc, keys.VERSION_NUMBER, version)],
                            [*tombstone, system_quad(vc, keys.VERSION_NUMBER, version + 1), removed,
                             *self._contributions(committed)])

                try:
                    at = self.store.commit(Change(build, self.clock(), subject=vc_iri, expected_version=version,
                                                  on_commit=self._notify_later(vcode)))
                except Refused as refused:
                    if expected_version is not None or refused.value is None:
                        raise stale(expected_version or version, refused.value or version) from None
                    continue
                return Outcome(vcode, version + 1, at.sequence)
        raise Busy("te-druk", "Te veel gelijktijdige wijzigingen",
                   "Deze vereniging wordt op dit moment te vaak gewijzigd; probeer opnieuw.")

    # -- helpers ------------------------------------------------------------------------------------
    def _contributions(self, committed: Committed) -> list[Quad]:
        return [quad for contribute in self.contributors for quad in contribute(committed)]

    def _notify_many(self, changes: list[tuple[str, int]], public_records: dict[str, list[Quad]] | None = None
                     ) -> None:
        """A batch of commits: listeners with a batch form (see `batch_forms`) get them at once, with the
        public quads of each record when the batch wrote them (`public_records`, so they need not read them)."""
        if not changes:
            return
        for listener in self.listeners:
            many = self.batch_forms.get(listener)
            try:
                if many is not None and public_records is not None:
                    many(changes, public_records)
                elif many is not None:
                    many(changes)
                else:
                    for vcode, sequence in changes:
                        listener(vcode, sequence)
            except Exception:  # a derived index must never undo or fail a committed change
                log.exception("listener failed after sequence %s; it catches up from the versions", changes[-1][1])

    def _notify_later(self, vcode: str) -> Callable[[Allocation], None]:
        """A change's on_commit: its listeners run when the whole group is written (_flush_pending)."""
        return lambda at: self._committed(vcode, at.sequence)

    def _committed(self, vcode: str, sequence: int) -> None:
        with self._pending_lock:
            self._pending.append((vcode, sequence))

    def _flush_pending(self) -> None:
        # The dict itself stays (builds hold it): the flushed records' entries are taken out of it.
        with self._pending_lock:
            pending, self._pending = self._pending, []
            public = {vcode: self._pending_public.pop(vcode) for vcode, _ in pending if vcode in self._pending_public}
        self._notify_many(pending, public)

    def _number_new_items(self, vcode: str, current: dict, new: dict) -> None:
        """Give items a command added (they have no id) the next ids, in item order; ids are never reused.

        Items are kept in id order, so a command that only reorders them changes nothing.
        """
        for kind in KINDS:
            if any("id" not in item for item in new[kind]):
                next_id = max(self.records.next_item_id(vcode, kind, current),
                              max((item["id"] + 1 for item in new[kind] if "id" in item), default=1))
                for item in new[kind]:
                    if "id" not in item:
                        item["id"], next_id = next_id, next_id + 1
            new[kind].sort(key=lambda item: item["id"])

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


__all__ = ["CommandHandler", "Committed", "DomainError", "Outcome", "unique_keys"]
