"""The running register: settings, store, write path and keys, shared by web app and CLI."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import rdflib
from pyoxigraph import Literal, NamedNode, Quad

from app.auth.keys import KeyRing
from app.config import Settings
from app.domain.codelists import codelist_graph
from app.domain.commands import CommandHandler
from app.index.search_index import SearchIndex
from app.namespaces import GRAPH_CODELISTS
from app.store.oxigraph_store import RegisterStore
from app.store.query_workers import InProcessQueries, QueryWorkers, Snapshots
from app.validation.shacl import ShaclPool

_workers_lock = threading.Lock()


@dataclass
class Register:
    settings: Settings
    store: RegisterStore
    handler: CommandHandler
    keys: KeyRing
    index: SearchIndex | None = None
    _query_workers: QueryWorkers | InProcessQueries | None = None

    @classmethod
    def open(cls, settings: Settings) -> Register:
        store = RegisterStore(None if settings.in_memory else settings.store_dir)
        handler = CommandHandler(store, settings.base, ShaclPool(settings.shacl_workers), settings.secret())
        register = cls(settings, store, handler, KeyRing(settings.keys_path))
        register.publish_codelists()
        index_path = None if settings.in_memory else settings.data_dir / "zoekindex.sqlite3"
        register.index = SearchIndex(index_path, store, settings.base)
        register.index.catch_up(handler.latest_sequence)
        handler.listeners.append(register.index.changed)
        handler.batch_forms[register.index.changed] = register.index.changed_many
        return register

    def query_workers(self) -> QueryWorkers | InProcessQueries:
        """Processes for SPARQL, started on first use (they query checkpoints of the store)."""
        with _workers_lock:
            if self._query_workers is None and self.settings.in_memory:
                self._query_workers = InProcessQueries(self.store.store, self.settings.sparql_timeout)
            if self._query_workers is None:
                snapshots = Snapshots(lambda path: self.store.store.backup(path),
                                      self.settings.data_dir / "sparql-checkpoints",
                                      self.settings.sparql_max_lag)
                self._query_workers = QueryWorkers(snapshots, self.settings.sparql_workers,
                                                   self.settings.sparql_timeout, self.settings.sparql_waiting)
            return self._query_workers

    def close(self) -> None:
        self.index.close()  # saves the facet bitmaps, so the next start loads instead of rebuilding
        self.handler.validator.close()
        if self._query_workers is not None:
            self._query_workers.close()
        self.store.flush()

    def publish_codelists(self) -> None:
        """Keep the code-list graph equal to ontology/ so SPARQL and dereferencing see the labels."""
        graph = NamedNode(GRAPH_CODELISTS)
        quads = [Quad(term(s), term(p), term(o), graph) for s, p, o in codelist_graph()]
        current = self.store.graph_quads(GRAPH_CODELISTS)
        if set(current) != set(quads):
            self.store.replace_graph(GRAPH_CODELISTS, quads)


def term(node: rdflib.term.Node) -> NamedNode | Literal:
    """rdflib → pyoxigraph, for the reference data parsed with rdflib (no blank nodes there)."""
    if isinstance(node, rdflib.Literal):
        if node.language:
            return Literal(str(node), language=node.language)
        if node.datatype:
            return Literal(str(node), datatype=NamedNode(str(node.datatype)))
        return Literal(str(node))
    if isinstance(node, rdflib.URIRef):
        return NamedNode(str(node))
    raise ValueError(f"reference data may not contain blank nodes: {node!r}")
