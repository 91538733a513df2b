"""The embedded engine: an on-disk (or in-memory) pyoxigraph Store in this process.

The zero-set-up default. RocksDB lets one process open the directory, so the write lease is a
thread lock only. Hot reads (a record, bookkeeping facts, an owner lookup) are direct index
scans instead of SPARQL; everything else is the shared SPARQL in base.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, Quad, Store, Triple

from app.namespaces import GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC, PROV
from app.store import keys
from app.store.audience import Audience
from app.store.base import (
    Counters,
    NQuads,
    RegisterStore,
    counter_quads,
    counters_of,
    data_block,
    expand_inserts,
    keep_fact,
    walk,
)
from app.store.keys import system_quad
from app.store.lease import WriteLease
from app.store.recovery import Recovering

ASSOCIATED = PROV + "wasAssociatedWith"
# From this many quads on, an insert-only commit is written as an SST ingestion (see _write).
BULK_QUADS = 20_000
# Quads written through transactions after which the memtable is flushed (see _written); a SPARQL update
# (a meldingen position, a subscription, an erasure) counts as UPDATE_WEIGHT quads: it changes a few, but
# the values it replaces stay in the memtable as tombstones its next scan of the same subject steps over
# (a subscription's position update: 0.08 ms at first, 1.57 ms after 20,000; 0.24 ms flushed every 1,000).
FLUSH_QUADS = 100_000
UPDATE_WEIGHT = 100


_COUNTERS = {keys.SEQUENCE, keys.LAST_VCODE, keys.LAST_TIMESTAMP}


class StoreLocked(Exception):
    """Another process (a running `vr serve`) holds the embedded store."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"De opslag in {path} is in gebruik door een ander proces (draait 'vr serve'?). 'vr import' en 'vr export' "
            "kunnen via het draaiende register lopen (--register URL); elk commando kan werken terwijl het register "
            "draait als beide een gedeelde opslagserver gebruiken ('vr store-server', --store-url); anders: stop eerst "
            "dat proces.")
        self.path = path


class EmbeddedStore(RegisterStore):
    pipelined = True  # one process owns the store: the next group is built while this one is written

    def __init__(self, path: str | Path | None) -> None:
        super().__init__()
        if path is not None:
            Path(path).mkdir(parents=True, exist_ok=True)
        try:
            # A failed write (full disk) reopens the database before the next one: see recovery.py.
            self._engine: Recovering | None = Recovering(Path(path) if path is not None else None)
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreLocked(Path(path)) from exc
            raise
        self.path = Path(path) if path is not None else None
        self.lease = WriteLease(None)
        self._counter_quads: list[Quad] | None = None
        self._unflushed = 0  # quads written since the last flush
        self._flushing = threading.Lock()  # held while a background flush runs
        self._flusher: threading.Thread | None = None

    @property
    def _store(self) -> Store:
        """The live Store (never keep it in a variable: a reopen after a failed write replaces it)."""
        return self._engine.store

    def _select(self, query: str, default_graph: Sequence[str] | None = None,
                named_graphs: Sequence[str] | None = None) -> Iterable:
        kwargs = {}
        if default_graph is not None:
            kwargs["default_graph"] = [NamedNode(g) for g in default_graph]
        if named_graphs is not None:
            kwargs["named_graphs"] = [NamedNode(g) for g in named_graphs]
        return self._store.query(query, **kwargs)

    def _update(self, update: str) -> None:
        with self._engine.writing():
            self._store.update(update)
        self._written(UPDATE_WEIGHT)

    def claim(self, base: str) -> tuple[str, str]:
        """The one write besides _write that sets the counters (a new store's first ones)."""
        try:
            return super().claim(base)
        finally:
            self._counter_quads = None

    # -- the counters, known in memory ------------------------------------------------------------------
    def _held_counters(self) -> list[Quad]:
        """The counter quads in the store: scanned once, then known from this process's own writes.

        Every commit replaces the sequence and timestamp quads, and RocksDB keeps each removed quad
        as a tombstone that a scan of the register's facts must step over until a compaction drops it:
        read from the store, the counters cost 0.13 ms after 500 commits and 1.2 ms after 4,000
        (several times a write, and on every search), and a write's CPU grew with them. Only this
        process can write its store (RocksDB's lock), so what it wrote last is what the store holds. The
        first scan also finds the older counters a crash mid-ingestion leaves beside the new ones (see
        _write); they stay in the list until a write removes them."""
        held = self._counter_quads
        if held is None:
            held = [q for q in self._store.quads_for_pattern(keys.REGISTER, None, None, keys.G_SYSTEM)
                    if q.predicate in _COUNTERS]
            self._counter_quads = held
        return held

    def _known_counters(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for quad in self._held_counters():
            keep_fact(found, quad.predicate.value, quad.object.value)
        return found

    def counters(self) -> Counters:
        return counters_of(self._known_counters())

    def latest_sequence(self) -> int:
        return self.counters().sequence

    def _write(self, delete: list[Quad], insert: list[Quad | NQuads], before: tuple[int, int, str],
               after: tuple[int, int, str]) -> None:
        """A large insert-only commit (a batch of new verenigingen: an import) is ingested, not transacted.

        Oxigraph's bulk loader sorts the quads per index into SST files and RocksDB ingests all of
        them in one atomic step (all or nothing, like a transaction), at about half the CPU of a
        transaction of the same quads: a transaction writes every quad to 9 index column families,
        every term to id2str, the write-ahead log and the memtable, which is later flushed and
        compacted (measured in bench/bench_import.py). Records prepared as N-Quads text (NQuads, an
        import's new verenigingen) go to the loader as they are. The new counters go in with the data;
        the old ones stay (keep_fact reads the highest, as after a crash) until the next commit that is
        a transaction removes them: written to the memtable between two ingestions, their removal made
        RocksDB flush it before the next ingestion, a second small file in its first level each time,
        and each such pair merges that level with all of the register's data (bench_import, 10,000
        rows: 8.0 → 3.9 s of compaction; see importer._Pipeline). A smaller insert-only commit (new
        verenigingen: a group of registrations) goes the same way as one `Store.extend` transaction: no
        SPARQL text to build and parse, the very operation bench_writes calls raw. Every change that
        deletes is one SPARQL update as before.
        """
        stale = self._held_counters()
        try:
            changed, held = self._write_counted(stale, delete, insert, before, after)
        except BaseException:
            self._counter_quads = None  # written or not: the store says which
            raise
        self._counter_quads = held
        self._written(changed)

    def _written(self, changed: int) -> None:
        """Flush the memtable in the background once a commit brings it past FLUSH_QUADS changes.

        Oxigraph's RocksDB keeps every write in its memtable until asked to flush, and a transaction's
        cost grows with the memtable: `Store.extend` of one registration's 200 quads cost 2.8 ms CPU in
        an empty memtable and 6.2 ms after 4,000 registrations; flushed every 500 it stayed at ≈3 ms
        (bench/bench_growth.py prints both). Committed data is already in the write-ahead log, so the
        flush runs beside the next writes instead of holding them up."""
        self._unflushed += changed
        if self._unflushed < FLUSH_QUADS or not self._flushing.acquire(blocking=False):
            return
        self._unflushed = 0
        self._flusher = threading.Thread(target=self._flush_in_background, name="opslag-flush", daemon=True)
        self._flusher.start()

    def _flush_in_background(self) -> None:
        try:
            engine = self._engine
            if engine is not None:
                engine.flush()
        finally:
            self._flushing.release()

    def _write_counted(self, stale: list[Quad], delete: list[Quad], insert: list[Quad | NQuads],
                       before: tuple[int, int, str], after: tuple[int, int, str]) -> tuple[int, list[Quad]]:
        """The number of quads the commit put in the memtable, and the counter quads the store holds now."""
        new = counter_quads(after)
        if delete:
            extra = [q for q in stale if q not in counter_quads(before)]  # left by an ingestion or a crash
            super()._write([*delete, *extra], insert, before, after)
            return len(delete) + len(extra) + len(insert), new
        if counters_of(self._known_counters()).sequence != before[0]:
            # the guard of the SPARQL form; this process owns the store, so the counters moved under a
            # commit: never report it written
            raise RuntimeError(f"the register's sequence is no longer {before[0]}: commit refused")
        texts = [item for item in insert if isinstance(item, NQuads)]
        quads = [item for item in insert if not isinstance(item, NQuads)] + new
        size = len(quads) + sum(text.count("\n") for text in texts)
        if size >= BULK_QUADS:
            # one text (a batch of 5,000 rows: ~140 MB), not also an encoded and a concatenated copy
            data = "".join([*texts, pyoxigraph.serialize(quads, format=pyoxigraph.RdfFormat.N_QUADS).decode()])
            with self._engine.writing():
                self._store.bulk_load(data, pyoxigraph.RdfFormat.N_QUADS)
            return 0, [*(q for q in stale if q not in new), *new]
        with self._engine.writing():
            self._store.extend(expand_inserts([*texts, *quads]))
            self._store.update(f"DELETE DATA {{ {data_block(q for q in stale if q not in new)} }}")
        return size + len(stale), new

    def flush(self) -> None:
        """Write the memtable to disk. What was committed is already in the write-ahead log, so a
        failure here (full disk) is logged and repaired by the next write, never reported as a failed commit."""
        if self._engine is not None:
            self._engine.flush()

    def close(self) -> None:
        """Flush and release the directory (RocksDB's lock goes with the last reference)."""
        flusher = self._flusher
        if flusher is not None:  # a background flush ends first, and lets go of the store
            flusher.join()
        if self._engine is not None:
            self._engine.flush()
            if self.path is not None:
                self._engine = None
        super().close()

    def backup(self, path: str) -> None:
        """A checkpoint for the SPARQL workers (hard links; immutable)."""
        self._store.backup(path)

    def compact(self) -> None:
        """Rewrite the database files, so erased values also leave the disk."""
        self._store.optimize()

    def dump_nquads(self) -> bytes:
        import pyoxigraph

        return pyoxigraph.serialize(self._store, format=pyoxigraph.RdfFormat.N_QUADS)

    # -- hot reads as index scans ----------------------------------------------------------------------
    def _tree(self, root: str, graphs: Sequence[str]) -> list[Quad]:
        """A record or a version by index scans (auditing stays in the base class's readers)."""
        return walk(self._store.quads_for_pattern, root, graphs)

    def bookkeeping(self, subject: NamedNode) -> dict[str, str]:
        found: dict[str, str] = {}
        for q in self._store.quads_for_pattern(subject, None, None, keys.G_SYSTEM):
            keep_fact(found, q.predicate.value, q.object.value)
        return found

    def owner_of(self, key: NamedNode) -> str | None:
        for quad in self._store.quads_for_pattern(key, keys.OWNER, None, keys.G_SYSTEM):
            return quad.object.value
        return None

    def version_at(self, sequence: int) -> NamedNode | None:
        for quad in self._store.quads_for_pattern(keys.sequence_key(sequence), keys.VERSION_OF_SEQUENCE, None,
                                                  keys.G_SYSTEM):
            return quad.object
        return None

    def _members(self, versions: Sequence[str], graphs: Sequence[str]) -> dict[str, list[Triple]]:
        """Index scans per node (cheaper than the generic union query on the embedded engine)."""
        out = {}
        agents_graph = NamedNode(GRAPH_VERSIONS_PUBLIC)
        for version in versions:
            quads = walk(self._store.quads_for_pattern, version, graphs)
            triples = [Triple(q.subject, q.predicate, q.object) for q in quads]
            agents = {q.object for q in quads if q.predicate.value == ASSOCIATED}
            for agent in agents:
                triples += [Triple(q.subject, q.predicate, q.object)
                            for q in self._store.quads_for_pattern(agent, None, None, agents_graph)]
            if triples:
                out[version] = triples
        return out

    def describes(self, iri: str, audience: Audience) -> bool:
        subject = NamedNode(iri)
        return any(True for graph in audience.record_graphs + audience.version_graphs
                   for _ in self._store.quads_for_pattern(subject, None, None, NamedNode(graph)))

    def quads(self, subject=None, predicate=None, obj=None, graph: NamedNode | None = None) -> list[Quad]:
        return list(self._store.quads_for_pattern(subject, predicate, obj, graph))

    def public_triple_count(self) -> int:
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, NamedNode(GRAPH_PUBLIC)))

    # -- for the SPARQL workers in app/store/query_workers.py (embedded engine only) ----------------------
    @property
    def raw(self) -> Store:
        return self._store


__all__ = ["EmbeddedStore", "RegisterStore", "StoreLocked", "system_quad"]
