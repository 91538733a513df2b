"""SPARQL queries in worker processes with a deadline, on checkpoints of the store.

pyoxigraph cannot cancel a running query, so a query runs in a separate process; when the
deadline passes the process is killed and replaced, and the caller gets an error — never a
truncated answer, because results are fully serialised (and counted against the row limit)
before anything is sent.

Workers never open the live RocksDB directory. Measured with pyoxigraph 0.5.13: a read-only
open of a directory that a writer is using replays the writer's whole WAL (≈ 23 µs per quad, so
seconds after a few thousand registrations — the endpoint ended in timeouts), and it races with
compaction ("No such file … .sst" on about half the opens under steady writes). Instead the
parent makes a checkpoint (`Store.backup`: flushes the memtable and hard-links the SST files,
≈ 0.1 s) whenever the register committed something since the last one, and workers open that
checkpoint read-only (≈ 40 ms). Checkpoints are immutable, so no race; concurrent queries share
one checkpoint; old ones are removed once no worker has them open.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions


class QueryFailed(Exception):
    def __init__(self, status: int, slug: str, message: str) -> None:
        super().__init__(message)
        self.status, self.slug, self.message = status, slug, message


@dataclass(frozen=True)
class QueryJob:
    query: str
    default_graph: tuple[str, ...]
    named_graphs: tuple[str, ...]
    result_format: str  # "json" | "xml" | "csv" | "tsv" for SELECT/ASK
    graph_format: str  # "ttl" | "nt" | "jsonld" | "rdf" for CONSTRUCT/DESCRIBE
    max_rows: int
    generation: int  # the register's sequence when the query arrived: the checkpoint must include it
    snapshot: str = ""  # set by QueryWorkers: the checkpoint directory to query


SOLUTION_FORMATS = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "csv": QueryResultsFormat.CSV,
                    "tsv": QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": pyoxigraph.RdfFormat.TURTLE, "nt": pyoxigraph.RdfFormat.N_TRIPLES,
                 "jsonld": pyoxigraph.RdfFormat.JSON_LD, "rdf": pyoxigraph.RdfFormat.RDF_XML}


def _evaluate(store: pyoxigraph.Store, job: QueryJob):
    return store.query(job.query, default_graph=[NamedNode(g) for g in job.default_graph],
                       named_graphs=[NamedNode(g) for g in job.named_graphs])


def run(store: pyoxigraph.Store, job: QueryJob) -> tuple[str, bytes]:
    """Evaluate and fully serialise; returns (kind, body) with kind 'solutions' or 'graph'."""
    try:
        result = _evaluate(store, job)
    except SyntaxError as exc:
        raise QueryFailed(400, "sparql-syntax", f"De query is geen geldige SPARQL: {exc}") from None
    except OSError as exc:  # evaluation errors, e.g. SERVICE that slipped through
        raise QueryFailed(400, "sparql-fout", f"De query kon niet uitgevoerd worden: {exc}") from None
    if isinstance(result, QueryBoolean):
        return "solutions", result.serialize(format=SOLUTION_FORMATS[job.result_format])
    if isinstance(result, QuerySolutions):
        variables = result.variables
        rows = []
        for row in result:
            rows.append(row)
            if len(rows) > job.max_rows:
                raise QueryFailed(422, "te-veel-resultaten",
                                  f"De query geeft meer dan {job.max_rows} rijen; gebruik LIMIT/OFFSET.")
        if any(isinstance(term, pyoxigraph.BlankNode) for row in rows for term in row if term is not None):
            # VALUES cannot carry blank nodes; the row count is known to be fine, so evaluate again.
            return "solutions", _evaluate(store, job).serialize(format=SOLUTION_FORMATS[job.result_format])
        return "solutions", _solutions(variables, rows, job.result_format)
    triples = []
    for triple in result:
        triples.append(triple)
        if len(triples) > job.max_rows:
            raise QueryFailed(422, "te-veel-resultaten",
                              f"De query geeft meer dan {job.max_rows} triples; beperk de query.")
    return "graph", pyoxigraph.serialize(triples, format=GRAPH_FORMATS[job.graph_format])


def _solutions(variables, rows, fmt: str) -> bytes:
    """Serialise already materialised rows through a tiny in-memory store query."""
    store = pyoxigraph.Store()
    names = [v.value for v in variables]
    if not rows:
        query = f"SELECT {' '.join('?' + n for n in names) or '*'} WHERE {{ FILTER(false) }}"
        return store.query(query).serialize(format=SOLUTION_FORMATS[fmt])
    values = " ".join(
        "(" + " ".join(str(row[name]) if row[name] is not None else "UNDEF" for name in names) + ")" for row in rows)
    variables_text = " ".join("?" + name for name in names)
    query = f"SELECT {variables_text} WHERE {{ VALUES ({variables_text}) {{ {values} }} }}"
    return store.query(query).serialize(format=SOLUTION_FORMATS[fmt])


def _worker(connection) -> None:
    store, opened = None, ""
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            if store is None or job.snapshot != opened:
                store = None  # release the old checkpoint's files first
                store, opened = pyoxigraph.Store.read_only(job.snapshot), job.snapshot
            connection.send(("ok", run(store, job)))
        except QueryFailed as exc:
            connection.send(("failed", (exc.status, exc.slug, exc.message)))
        except Exception as exc:  # keep the worker alive; report as a server-side failure
            connection.send(("failed", (500, "interne-fout", f"{type(exc).__name__}: {exc}")))


class _Worker:
    """One query process and its end of a pipe (a Pipe has no feeder thread, unlike a Queue)."""

    def __init__(self, context) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.snapshot = ""  # the checkpoint this process has open

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)


class Snapshots:
    """Immutable checkpoints of the live store, one per register generation that was queried."""

    def __init__(self, store: pyoxigraph.Store, root: Path, max_lag: float = 0.0) -> None:
        self.store, self.root, self.max_lag = store, root, max_lag
        shutil.rmtree(root, ignore_errors=True)  # leftovers of an earlier run
        root.mkdir(parents=True)
        self._lock = threading.Lock()
        self._names = itertools.count(1)
        self._generation: int | None = None
        self._current = ""
        self._made = 0.0
        self._leases: Counter[str] = Counter()

    def acquire(self, generation: int) -> str:
        """A checkpoint that contains `generation`, leased until release(); made now unless one exists
        (or the current one is younger than max_lag seconds)."""
        with self._lock:  # concurrent queries after a write wait for, and share, one checkpoint
            fresh_enough = self._current and (self._generation == generation
                                              or time.monotonic() - self._made < self.max_lag)
            if not fresh_enough:
                path = self.root / f"{generation}-{next(self._names)}"
                self.store.backup(str(path))
                self._current, self._generation, self._made = str(path), generation, time.monotonic()
            self._leases[self._current] += 1
            return self._current

    def release(self, path: str) -> None:
        with self._lock:
            self._leases[path] -= 1

    def prune(self, in_use: set[str]) -> None:
        """Remove every checkpoint except the current one and those a worker has open."""
        with self._lock:
            keep = in_use | {self._current} | {path for path, n in self._leases.items() if n > 0}
            self._leases = Counter({path: n for path, n in self._leases.items() if n > 0})
            for path in self.root.iterdir():
                if str(path) not in keep:
                    shutil.rmtree(path, ignore_errors=True)


class QueryWorkers:
    """A fixed number of query processes; a query that overruns its deadline kills its worker."""

    def __init__(self, snapshots: Snapshots, workers: int = 2, timeout: float = 10.0) -> None:
        self.snapshots, self.timeout = snapshots, timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        for _ in range(workers):
            self._add(_Worker(self._context))

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            self._all.add(worker)
        self._idle.put(worker)

    def execute(self, job: QueryJob) -> tuple[str, bytes]:
        snapshot = self.snapshots.acquire(job.generation)
        try:
            return self._execute(replace(job, snapshot=snapshot))
        finally:
            self.snapshots.release(snapshot)

    def _execute(self, job: QueryJob) -> tuple[str, bytes]:
        snapshot = job.snapshot
        worker = self._idle.get()
        stale = worker.snapshot not in ("", snapshot)
        worker.snapshot = snapshot
        try:
            worker.connection.send(job)
            if not worker.connection.poll(self.timeout):
                raise TimeoutError
            status, payload = worker.connection.recv()
        except (TimeoutError, EOFError, OSError):
            worker.kill()
            with self._lock:
                self._all.discard(worker)
            self._add(_Worker(self._context))
            self._prune()
            raise QueryFailed(503, "query-timeout",
                              f"De query duurde langer dan {self.timeout:g} s en werd afgebroken.") from None
        self._idle.put(worker)
        if stale:
            self._prune()
        if status == "failed":
            raise QueryFailed(*payload)
        return payload

    def _prune(self) -> None:
        with self._lock:
            in_use = {w.snapshot for w in self._all if w.snapshot}
        self.snapshots.prune(in_use)

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.kill()
        shutil.rmtree(self.snapshots.root, ignore_errors=True)


class InProcessQueries:
    """For an in-memory store (tests, demos), which no other process can open: queries run in the
    calling thread. The deadline is checked after the fact — still an error status, never a
    truncated body — but a runaway query cannot be stopped here; deployments use QueryWorkers."""

    def __init__(self, store: pyoxigraph.Store, timeout: float = 10.0) -> None:
        self.store, self.timeout = store, timeout

    def execute(self, job: QueryJob) -> tuple[str, bytes]:
        started = time.monotonic()
        outcome = run(self.store, job)
        if time.monotonic() - started > self.timeout:
            raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s.")
        return outcome

    def close(self) -> None:
        pass
