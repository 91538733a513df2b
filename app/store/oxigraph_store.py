"""The embedded engine: an on-disk (or in-memory) pyoxigraph Store in this process.

The zero-set-up default. RocksDB lets one process open the directory, so the write lease is a
thread lock only. Hot reads (a record, bookkeeping facts, an owner lookup) are direct index
scans instead of SPARQL; everything else is the shared SPARQL in base.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pyoxigraph import NamedNode, Quad, Store, Triple

from app.namespaces import GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC, PROV, VRX
from app.store import keys
from app.store.audience import Audience
from app.store.base import RegisterStore, walk
from app.store.keys import system_quad
from app.store.lease import WriteLease
from app.store.recovery import Recovering

ASSOCIATED = PROV + "wasAssociatedWith"


class StoreLocked(Exception):
    """Another process (a running `vr serve`) holds the embedded store."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"De opslag in {path} is in gebruik door een ander proces (draait 'vr serve'?). Laat dit commando via het "
            "draaiende register lopen ('vr import' of 'vr export' met --register URL), laat register en commando een "
            "gedeelde opslagserver gebruiken ('vr store-server', --store-url), of stop eerst dat proces.")
        self.path = path


class EmbeddedStore(RegisterStore):
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

    def flush(self) -> None:
        """Write the memtable to disk. What was committed is already in the write-ahead log, so a
        failure here (full disk) is logged and repaired by the next write, never reported as a failed commit."""
        if self._engine is not None:
            self._engine.flush()

    def close(self) -> None:
        """Flush and release the directory (RocksDB's lock goes with the last reference)."""
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
    def record(self, root: str, audience: Audience) -> list[Quad]:
        return walk(self._store.quads_for_pattern, root, audience.record_graphs)

    def version_tree(self, version: str, audience: Audience) -> list[Quad]:
        return walk(self._store.quads_for_pattern, version, audience.version_graphs)

    def bookkeeping(self, subject: NamedNode) -> dict[str, str]:
        return {q.predicate.value.removeprefix(VRX): q.object.value
                for q in self._store.quads_for_pattern(subject, None, None, keys.G_SYSTEM)}

    def owner_of(self, key: NamedNode) -> str | None:
        for quad in self._store.quads_for_pattern(key, keys.OWNER, None, keys.G_SYSTEM):
            return quad.object.value
        return None

    def version_at(self, sequence: int) -> NamedNode | None:
        for quad in self._store.quads_for_pattern(keys.sequence_key(sequence), keys.VERSION_OF_SEQUENCE, None,
                                                  keys.G_SYSTEM):
            return quad.object
        return None

    def members(self, versions: Sequence[str], audience: Audience) -> dict[str, list[Triple]]:
        """Index scans per node (cheaper than the generic union query on the embedded engine)."""
        out = {}
        agents_graph = NamedNode(GRAPH_VERSIONS_PUBLIC)
        for version in versions:
            quads = walk(self._store.quads_for_pattern, version, audience.version_graphs)
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
