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

The workers also parse and check each query (app/validation/sparql_query.py: SERVICE and updates
are refused on the algebra), so a hostile query costs a worker's time within its deadline, not a web
thread's. They run without network (a network namespace of their own, else a seccomp filter that
refuses every connect: app/store/sandbox.py) and at a lower CPU priority than the web threads, so
a storm of heavy queries cannot slow the other pages.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import os
import queue
import re
import resource
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import pyoxigraph
from pyoxigraph import NamedNode, QueryBoolean, QueryResultsFormat, QuerySolutions

from app.store.sandbox import isolate
from app.validation import sparql_query

log = logging.getLogger(__name__)


class QueryFailed(Exception):
    """A query that did not produce an answer; a Dutch problem+json for the caller, no internal details."""

    def __init__(self, status: int, slug: str, message: str, title: str = "Query mislukt",
                 retry_after: int | None = None, family: str | None = None) -> None:
        super().__init__(message)
        self.status, self.slug, self.message, self.title = status, slug, message, title
        self.retry_after = retry_after
        self.family = family  # a 406: the formats this query's results come in ("oplossingen" or "graaf")


def engine_refused(message: str) -> QueryFailed:
    """The query engine's syntax refusal in Dutch: where, and the usual cause when we know it (its own English
    list of expected tokens is not shown)."""
    where = re.search(r"error at (\d+):(\d+)", message)
    detail = "De query is geen geldige SPARQL voor de query-motor"
    detail += f" (regel {where[1]}, kolom {where[2]})." if where else "."
    if "variable that is unbound" in message:
        detail += (" Een variabele in SELECT die niet in GROUP BY staat, moet in een aggregaat (COUNT, SAMPLE, …); "
                   "een AS-naam mag geen variabele zijn die de query al gebruikt.")
    return QueryFailed(400, "sparql-syntax", detail, "Ongeldige SPARQL")


def not_acceptable(kind: str) -> QueryFailed:
    """No asked format fits this kind of query (e.g. Turtle for a SELECT): the answer lists the formats that do."""
    family = "oplossingen" if kind.startswith(("SELECT", "ASK")) else "graaf"
    return QueryFailed(406, "niet-aanvaardbaar", f"Geen gevraagd formaat past bij een {kind}-query.",
                       "Formaat niet beschikbaar", family=family)


@dataclass(frozen=True)
class QueryJob:
    query: str  # as the client sent it: parsed and checked in the worker (sparql_query.check)
    default_graph: tuple[str, ...]
    named_graphs: tuple[str, ...]
    result_format: str | None  # "json" | "xml" | "csv" | "tsv" for SELECT/ASK; None: not acceptable
    graph_format: str | None  # "ttl" | "nt" | "jsonld" | "rdf" for CONSTRUCT/DESCRIBE; None: not acceptable
    max_rows: int
    generation: int  # the register's sequence when the query arrived: the checkpoint must include it
    snapshot: str = ""  # set by QueryWorkers: the checkpoint directory to query
    check_only: bool = False  # only parse and check (for engines that evaluate elsewhere): → CheckedQuery
    canary_only: bool = False  # only the canary run (a query already known to hold no SERVICE): → CheckedQuery


SOLUTION_FORMATS = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "csv": QueryResultsFormat.CSV,
                    "tsv": QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": pyoxigraph.RdfFormat.TURTLE, "nt": pyoxigraph.RdfFormat.N_TRIPLES,
                 "jsonld": pyoxigraph.RdfFormat.JSON_LD, "rdf": pyoxigraph.RdfFormat.RDF_XML}
RETRY_AFTER = 2  # seconds a refused client waits before trying again


UNKNOWN_FUNCTION = re.compile(r"^The custom function (<[^>\s]{1,300}>) is not supported")


def unsupported(engine_message: str) -> QueryFailed:
    """A query the engine will not evaluate: the client's fault (400), worded in Dutch. Only the IRI of an
    unknown function is taken from the engine's message (it is the client's own text)."""
    function = UNKNOWN_FUNCTION.match(engine_message)
    detail = (f"De functie {function.group(1)} wordt niet ondersteund; gebruik de functies van SPARQL 1.1 of "
              "een XSD-omzetting (xsd:integer(…), …)." if function else
              "De query-motor kan deze query niet uitvoeren; vereenvoudig de query.")
    return QueryFailed(400, "sparql-niet-ondersteund", detail, "Niet ondersteund")


def busy() -> QueryFailed:
    return QueryFailed(503, "sparql-bezet", "Alle SPARQL-verwerkers zijn bezet; probeer binnen enkele seconden "
                                            "opnieuw.", "SPARQL-eindpunt bezet", RETRY_AFTER)


def _evaluate(store: pyoxigraph.Store, text: str, job: QueryJob):
    return store.query(text, default_graph=[NamedNode(g) for g in job.default_graph],
                       named_graphs=[NamedNode(g) for g in job.named_graphs])


def _check(query: str) -> sparql_query.CheckedQuery:
    try:
        return sparql_query.check(query)
    except sparql_query.QueryRefused as exc:
        raise refused(exc) from None


# The stack of the canary thread. The Oxigraph server's parser and evaluator recurse once per element of a
# chain (a '+', a collection item, a triple pattern, a BIND, a SELECT expression) and the server aborts when its
# stack overflows. pyoxigraph recurses the same way; with 2 MiB it overflows at half or less of the chain that
# aborts `oxigraph serve` (measured: '1+1+…' 2,000 terms vs 2,000; a collection 500 items vs 1,000; triple
# patterns 500 vs 2,000; BINDs 1,000 vs 2,000), so a query the canary survives cannot abort the server that way.
CANARY_STACK = 2 * 1024 * 1024
_CANARY_DATA = pyoxigraph.Quad(NamedNode("urn:vr:kanarie"), NamedNode("urn:vr:kanarie"), NamedNode("urn:vr:kanarie"))


def _canary(text: str) -> None:
    """Run the query on a store of one triple in a thread with a small stack (CANARY_STACK): parsing, planning
    and evaluating it as the store server would. A chain too long for that stack aborts this process (a stack
    overflow cannot be caught), which the pool reports as a query too complex, instead of the store server.
    One such thread lives as long as the checker process: a new 2 MiB thread per query cost up to 2 ms."""
    done = threading.Event()
    _canary_queue().put((text, done))
    done.wait()


@cache
def _canary_queue() -> queue.SimpleQueue:
    jobs: queue.SimpleQueue = queue.SimpleQueue()

    def serve() -> None:
        store = pyoxigraph.Store()
        store.add(_CANARY_DATA)
        while True:
            text, done = jobs.get()
            try:
                result = store.query(text, use_default_graph_as_union=True)
                if not isinstance(result, QueryBoolean):
                    for _ in itertools.islice(result, 100):
                        pass
            except Exception:  # noqa: S110  (what the engine refuses, the store server refuses too, and says why)
                pass
            finally:
                done.set()

    previous = threading.stack_size(CANARY_STACK)
    try:
        threading.Thread(target=serve, name="kanarie", daemon=True).start()
    finally:
        threading.stack_size(previous)
    return jobs


def refused(refusal: sparql_query.QueryRefused) -> QueryFailed:
    """The endpoint's answer to a query the check refuses."""
    return QueryFailed(refusal.status, refusal.slug, refusal.detail, refusal.title)


def run(store: pyoxigraph.Store, job: QueryJob) -> tuple[str, bytes]:
    """Check, evaluate and fully serialise; returns (format key, body)."""
    checked = _check(job.query)
    fmt = job.result_format if checked.kind in ("SELECT", "ASK") else job.graph_format
    if fmt is None:
        raise not_acceptable(checked.kind)
    try:
        result = _evaluate(store, checked.text, job)
    except SyntaxError as exc:
        raise engine_refused(str(exc)) from None
    except OSError:
        raise QueryFailed(400, "sparql-fout", "De query kon niet uitgevoerd worden.") from None
    except RuntimeError as exc:  # the engine refuses what it cannot evaluate, e.g. an unknown function
        raise unsupported(str(exc)) from None
    if isinstance(result, QueryBoolean):
        return fmt, result.serialize(format=SOLUTION_FORMATS[fmt])
    if isinstance(result, QuerySolutions):
        variables = result.variables
        rows = []
        for row in result:
            rows.append(row)
            if len(rows) > job.max_rows:
                raise QueryFailed(422, "te-veel-resultaten",
                                  f"De query geeft meer dan {job.max_rows} rijen; gebruik LIMIT/OFFSET.")
        if any(isinstance(term, (pyoxigraph.BlankNode, pyoxigraph.Triple)) for row in rows for term in row
               if term is not None):
            # VALUES carries neither blank nodes nor triple terms; the row count is known to be fine,
            # so evaluate again and let the engine serialise its own answer.
            return fmt, _evaluate(store, checked.text, job).serialize(format=SOLUTION_FORMATS[fmt])
        return fmt, _solutions(variables, rows, fmt)
    triples = []
    for triple in result:
        triples.append(triple)
        if len(triples) > job.max_rows:
            raise QueryFailed(422, "te-veel-resultaten",
                              f"De query geeft meer dan {job.max_rows} triples; beperk de query.")
    return fmt, pyoxigraph.serialize(triples, format=GRAPH_FORMATS[fmt])


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
    # a solution without variables ('SELECT * WHERE { FILTER(true) }') is one empty row: 'SELECT *', not 'SELECT '
    query = f"SELECT {variables_text or '*'} WHERE {{ VALUES ({variables_text}) {{ {values} }} }}"
    return store.query(query).serialize(format=SOLUTION_FORMATS[fmt])


CHECKER_MEMORY = 2 << 30  # address space of a process that only checks queries (its canary runs them on one triple)


def _worker(connection, offline: bool, memory: int | None = None) -> None:
    """Process entry: off the network, lower CPU priority than the web threads, a thread with a big
    stack for the (recursive) query parser. `memory`: a limit on the process's address space (a checker:
    a query that doubles a string forty times fails there, not in the store server)."""
    if memory is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if offline and not isolate():
        log.warning("SPARQL worker could not leave the network (no namespaces, no seccomp); SERVICE is refused "
                    "by parsing only")
    os.nice(10)
    threading.stack_size(512 * 1024 * 1024)
    thread = threading.Thread(target=_serve, args=(connection,))
    thread.start()
    thread.join()


def _serve(connection) -> None:
    store, opened = None, ""
    while True:
        try:
            job = connection.recv()
        except EOFError:
            job = None
        if job is None:
            # pyoxigraph results may only be freed by the thread that made them: collect cycles here,
            # not in the main thread at exit
            store = None
            gc.collect()
            return
        try:
            if job.canary_only:
                _canary(job.query)
                connection.send(("ok", sparql_query.CheckedQuery("", job.query)))
                continue
            if job.check_only:
                checked = _check(job.query)
                _canary(checked.text)
                connection.send(("ok", checked))
                continue
            if store is None or job.snapshot != opened:
                store = None  # release the old checkpoint's files first
                store, opened = pyoxigraph.Store.read_only(job.snapshot), job.snapshot
            connection.send(("ok", run(store, job)))
        except QueryFailed as exc:
            connection.send(("failed", (exc.status, exc.slug, exc.message, exc.title, None, exc.family)))
        except Exception:  # keep the worker alive; the details stay in the server log
            log.exception("SPARQL worker failed on a query")
            connection.send(("failed", (500, "interne-fout", "De query kon niet uitgevoerd worden door een "
                                                             "interne fout.", "Interne fout")))


class _Worker:
    """One query process and its end of a pipe (a Pipe has no feeder thread, unlike a Queue)."""

    def __init__(self, context, offline: bool, memory: int | None = None) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, offline, memory), daemon=True)
        self.process.start()
        child.close()
        self.snapshot = ""  # the checkpoint this process has open

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)


class Snapshots:
    """Immutable checkpoints of the live store, one per register generation that was queried."""

    def __init__(self, store: pyoxigraph.Store | Callable[[str], None], root: Path, max_lag: float = 0.0) -> None:
        """`store`: the store, or a function that writes a checkpoint of it to a path — better, as it
        holds no reference to one Store object (the store can be reopened after a full disk)."""
        self.backup: Callable[[str], None] = store.backup if hasattr(store, "backup") else store
        self.root, self.max_lag = root, max_lag
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
                try:
                    self.backup(str(path))
                except OSError as exc:  # e.g. a full disk: answer from the last checkpoint rather than not at all
                    shutil.rmtree(path, ignore_errors=True)
                    if not self._current:
                        log.warning("no SPARQL checkpoint can be made in %s (%s); /sparql answers 503 until one "
                                    "can", self.root, exc)
                        raise QueryFailed(503, "sparql-onbeschikbaar", "Het SPARQL-eindpunt is tijdelijk niet "
                                          "beschikbaar; probeer later opnieuw.", "Tijdelijk niet beschikbaar",
                                          30) from None
                    log.warning("no new SPARQL checkpoint for generation %s; serving the previous one", generation,
                                exc_info=True)
                    self._leases[self._current] += 1
                    return self._current
                self._current, self._generation, self._made = str(path), generation, time.monotonic()
            self._leases[self._current] += 1
            return self._current

    def invalidate(self) -> None:
        """The next query gets a new checkpoint (after an erasure: no query may see erased data)."""
        with self._lock:
            self._current, self._generation = "", None

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
    """A fixed number of query processes and a short waiting line; nothing waits without a deadline.

    A query is admitted only while fewer than workers + waiting queries are in: beyond that it is
    refused at once (503 + Retry-After), so SPARQL never holds more web threads than that and cannot
    starve the other surfaces. Its deadline covers the wait for a worker as well as the evaluation;
    a query that overruns it kills its worker (replaced at once). A worker that dies by itself is
    reported as such, not as a timeout.
    """

    # The endpoint need not check queries first: these workers check each query before evaluating it.
    checks_queries = True

    def __init__(self, snapshots: Snapshots | None, workers: int = 2, timeout: float = 10.0,
                 waiting: int | None = None, offline: bool = True) -> None:
        """Without snapshots the pool only checks queries (QueryWorkers.check), for engines that
        evaluate elsewhere (the remote store server)."""
        self.snapshots, self.timeout, self.offline = snapshots, timeout, offline
        self._checked: dict[str, sparql_query.CheckedQuery] = {}  # accepted queries (refusals raise, never kept)
        self._canaried: dict[str, sparql_query.CheckedQuery] = {}  # texts the canary ran without parse (kind "")
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._admitted = threading.BoundedSemaphore(workers + (workers if waiting is None else waiting))
        # a pool that only checks (the remote engine) runs each query's canary on one triple: little memory
        self.memory = CHECKER_MEMORY if snapshots is None else None
        for _ in range(workers):
            self._add(_Worker(self._context, offline, self.memory))

    def _add(self, worker: _Worker) -> None:
        with self._lock:
            self._all.add(worker)
        self._idle.put(worker)

    def execute(self, job: QueryJob, started: float | None = None) -> tuple[str, bytes]:
        """(format key, body); the deadline is `timeout` after `started` (time.monotonic() when the
        request arrived), so the time spent waiting counts too."""
        deadline = (started if started is not None else time.monotonic()) + self.timeout
        if not self._admitted.acquire(blocking=False):
            raise busy()
        try:
            if self.snapshots is None or job.check_only or job.canary_only:
                return self._execute(job if job.canary_only else replace(job, check_only=True), deadline)
            snapshot = self.snapshots.acquire(job.generation)
            try:
                return self._execute(replace(job, snapshot=snapshot), deadline)
            finally:
                self.snapshots.release(snapshot)
        finally:
            self._admitted.release()

    def check(self, query: str, started: float | None = None, canary_only: bool = False
              ) -> sparql_query.CheckedQuery:
        """The query's form and the (escape-expanded) text to forward, checked in a worker within the
        deadline, and run there by the canary (_canary); QueryFailed when refused. `canary_only`: the text
        is known to need no parse (sparql_query.unparsed), only the canary's run."""
        known = self._canaried if canary_only else self._checked
        checked = known.get(query)
        if checked is not None:  # the check is a function of the text alone: a repeated query skips the worker
            return checked
        job = QueryJob(query, (), (), None, None, 0, 0, check_only=not canary_only, canary_only=canary_only)
        checked = self.execute(job, started)
        with self._lock:
            if len(known) >= 1024:
                known.pop(next(iter(known)))
            known[query] = checked
        return checked  # type: ignore[return-value]

    def _execute(self, job: QueryJob, deadline: float):
        try:
            worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:  # waited for a worker until the deadline
            raise QueryFailed(503, "query-timeout", f"Er kwam binnen {self.timeout:g} s geen SPARQL-verwerker vrij; "
                              "probeer binnen enkele seconden opnieuw.", "Query te traag", RETRY_AFTER) from None
        stale = worker.snapshot not in ("", job.snapshot)
        worker.snapshot = job.snapshot
        try:
            worker.connection.send(job)
            if not worker.connection.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker)
                raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s en werd "
                                  "afgebroken.", "Query te traag", RETRY_AFTER)
            status, payload = worker.connection.recv()
        except (EOFError, OSError):
            log.error("SPARQL worker %s stopped unexpectedly (exit code %s)", worker.process.pid,
                      worker.process.exitcode)
            self._replace(worker)
            if job.check_only or job.canary_only:  # the canary's stack overflowed: it never reaches the server
                raise QueryFailed(400, "sparql-te-complex", "De query is te complex: een keten van te veel "
                                  "elementen (triple patterns, lijstelementen, BINDs, expressies of operatoren); "
                                  "vereenvoudig de query of splits ze op.", "Query te complex") from None
            raise QueryFailed(500, "query-gecrasht", "De query-verwerker stopte onverwacht; de query werd niet "
                              "afgewerkt.", "Query-verwerker gestopt") from None
        self._idle.put(worker)
        if stale:
            self._prune()
        if status == "failed":
            raise QueryFailed(*payload)
        return payload

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        self._add(_Worker(self._context, self.offline, self.memory))
        self._prune()

    def refresh(self) -> None:
        """After an erasure: new checkpoints from now on, idle workers restarted (they had old ones
        open) and old checkpoints removed as soon as no query uses them."""
        if self.snapshots is None:
            return
        self.snapshots.invalidate()
        idle = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for worker in idle:
            self._replace(worker)

    def _prune(self) -> None:
        if self.snapshots is None:
            return
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
        if self.snapshots is not None:
            shutil.rmtree(self.snapshots.root, ignore_errors=True)


class InProcessQueries:
    """For an in-memory store (tests, demos), which no other process can open: queries run in the
    calling thread, one at a time. The deadline is checked after the fact — still an error status,
    never a truncated body — but a runaway query cannot be stopped here and nothing takes this
    thread off the network; deployments use QueryWorkers."""

    checks_queries = True  # run() checks each query

    def __init__(self, store: pyoxigraph.Store, timeout: float = 10.0) -> None:
        self.store, self.timeout = store, timeout
        self._one = threading.Lock()

    def execute(self, job: QueryJob, started: float | None = None) -> tuple[str, bytes]:
        deadline = (started if started is not None else time.monotonic()) + self.timeout
        if not self._one.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise busy()
        try:
            outcome = run(self.store, job)
        finally:
            self._one.release()
        if time.monotonic() > deadline:
            raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s.",
                              "Query te traag", RETRY_AFTER)
        return outcome

    def close(self) -> None:
        pass
