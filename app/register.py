"""The running register: settings, store, write path and keys, shared by web app and CLI."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import rdflib
from pyoxigraph import Literal, NamedNode, Quad

from app.auth import audit
from app.auth.keys import KeyRing
from app.config import SettingInvalid, Settings
from app.domain.codelists import codelist_graph
from app.domain.commands import CommandHandler
from app.index.search_index import SearchIndex
from app.meldingen import outbox
from app.meldingen.handoff import Handoff
from app.namespaces import GRAPH_CODELISTS
from app.store import BaseMismatch, RegisterStore, open_store
from app.store.query_workers import InProcessQueries, QueryWorkers, Snapshots
from app.store.remote_queries import RemoteQueries
from app.validation.shacl import ShaclPool

log = logging.getLogger(__name__)

_workers_lock = threading.Lock()


@dataclass
class Register:
    settings: Settings
    store: RegisterStore
    handler: CommandHandler
    keys: KeyRing
    index: SearchIndex | None = None
    meldingen: Handoff = field(default_factory=Handoff)  # this process's commits' meldingen, for delivery
    _query_workers: QueryWorkers | InProcessQueries | RemoteQueries | None = None
    # organisation IRI → the name it was first recorded with (see auth.access.as_recorded)
    agent_labels: dict[str, str] = field(default_factory=dict)
    # organisation IRI → the register's sequence when it had no name yet (a name comes only with a commit)
    unnamed_agents: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings) -> Register:
        store = open_store(settings)
        try:
            settings.base_url = resolve_base(store, settings)
        except BaseMismatch:
            store.close()
            raise
        handler = CommandHandler(store, settings.base, ShaclPool(settings.shacl_workers), settings.secret())
        register = cls(settings, store, handler, KeyRing(settings.keys_path))
        register.publish_codelists()
        index_path = None if settings.in_memory else settings.data_dir / "zoekindex.sqlite3"
        register.index = SearchIndex(index_path, store, settings.base)
        with store.lease.all_held():  # processes starting together catch up one after the other
            register.index.catch_up(handler.latest_sequence)
        handler.listeners.append(register.index.changed)
        handler.contributors.append(outbox.contributor(settings.base, register.meldingen))  # meldingen, in each commit
        handler.batch_forms[register.index.changed] = register.index.changed_many
        store.sealing.append(audit.one_fsync)  # a group commit's audit entries: one fsync, before its transaction
        return register

    def query_workers(self) -> QueryWorkers | InProcessQueries | RemoteQueries:
        """Processes for SPARQL, started on first use (they query checkpoints of the store).

        On the remote engine the store server evaluates queries: a thin proxy, no workers.
        """
        with _workers_lock:
            if self._query_workers is None and self.settings.store_url:
                self._query_workers = RemoteQueries(self.store, self.settings.sparql_timeout,
                                                    self.settings.sparql_workers, self.settings.store_query_timeout)
            if self._query_workers is None and self.settings.in_memory:
                self._query_workers = InProcessQueries(self.store.raw, self.settings.sparql_timeout)
            if self._query_workers is None:
                snapshots = Snapshots(lambda path: self.store.backup(path),
                                      self.settings.data_dir / "sparql-checkpoints",
                                      self.settings.sparql_max_lag)
                self._query_workers = QueryWorkers(snapshots, self.settings.sparql_workers,
                                                   self.settings.sparql_timeout, self.settings.sparql_waiting)
            return self._query_workers

    def warm_sparql(self) -> None:
        """Start the SPARQL workers and make their first checkpoint now (vr serve, at start): a disk that fills
        up before the first query would otherwise leave /sparql without any checkpoint to answer from."""
        workers = self.query_workers()
        snapshots = getattr(workers, "snapshots", None)
        if isinstance(workers, QueryWorkers) and snapshots is not None:
            try:
                snapshots.release(snapshots.acquire(self.handler.latest_sequence))
            except Exception:  # the first query tries again (and says why)
                log.warning("no SPARQL checkpoint at start", exc_info=True)

    def close(self) -> None:
        self.index.close()  # saves the facet bitmaps, so the next start loads instead of rebuilding
        self.handler.validator.close()
        if self._query_workers is not None:
            self._query_workers.close()
        self.store.close()

    def publish_codelists(self) -> None:
        """Keep the code-list graph equal to ontology/ so SPARQL and dereferencing see the labels."""
        graph = NamedNode(GRAPH_CODELISTS)
        quads = [Quad(term(s), term(p), term(o), graph) for s, p, o in codelist_graph()]
        current = self.store.graph_quads(GRAPH_CODELISTS)
        if set(current) != set(quads):
            self.store.replace_graph(GRAPH_CODELISTS, quads)


class NoRegister(Exception):
    """A command that only reads was pointed at a place that holds no register."""


@contextmanager
def existing_store(settings: Settings) -> Iterator[RegisterStore]:
    """The store of an existing register, for commands that only read it (export), with settings.base_url
    set to its base. Nothing is created: no data directory, secret, search index or code-list graph."""
    where = settings.store_url or settings.store_dir
    if not settings.store_url and not (settings.store_dir / "CURRENT").exists():
        raise NoRegister(f"In {where} staat geen register; geef --data-dir of --store-url van het register, of "
                         "--register met het adres van het draaiende register.")
    store = open_store(settings)
    try:
        if store.identity() is None:
            raise NoRegister(f"De store op {where} bevat (nog) geen register.")
        settings.base_url = resolve_base(store, settings)
        yield store
    finally:
        store.close()


def resolve_base(store: RegisterStore, settings: Settings) -> str:
    """The register's base IRI lives in the store: written at creation, read by every process.

    A base given explicitly (--base-url, VR_BASE_URL) that differs from the stored one is refused,
    so no command can write records the running register cannot find.
    """
    identity = store.identity()
    if identity is None:
        check_base(settings.base)
        identity = store.claim(settings.base)
        log.warning("Nieuw register: basis-IRI %s vastgelegd (elke IRI begint ermee; geef bij een eerste start "
                    "--base-url of VR_BASE_URL met het adres waarop het register gepubliceerd wordt)", settings.base)
    stored, register_id = identity
    if hasattr(store, "adopt") and register_id:
        store.adopt(register_id)
    if settings.base_url and _same_base(settings.base_url) != _same_base(stored):
        raise BaseMismatch(stored, settings.base_url.rstrip("/"))
    return stored


def check_base(url: str) -> None:
    """A base IRI the register can publish under: http(s), a host, no spaces, query or fragment (SettingInvalid
    before anything is written: a wrong base is written into every IRI for good)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or \
            any(char.isspace() or char in '<>"{}|\\^`' for char in url.strip()):
        raise SettingInvalid(f"De basis-URL '{url}' kan geen basis-IRI zijn: gebruik http:// of https:// met een "
                             "hostnaam, zonder spaties, '?' of '#' (bv. https://verenigingen.example.org).")


def _same_base(url: str) -> str:
    """A base IRI as compared: scheme and host are case-insensitive (RFC 3986), a trailing slash says nothing."""
    parts = urlsplit(url.strip().rstrip("/"))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


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
