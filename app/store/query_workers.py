"""SPARQL queries in worker processes with a deadline.

pyoxigraph cannot cancel a running query, so a query runs in a separate process on a read-only
view of the store; when the deadline passes the process is killed and replaced, and the caller
gets an error — never a truncated answer, because results are fully serialised (and counted
against the row limit) before anything is sent. A worker reopens its read-only view only when
the register has committed something since it last opened it.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from dataclasses import dataclass

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
    result_format: str  # "json" | "xml" | "csv" | "tsv" for SELECT/ASK; an RdfFormat name for graphs
    graph_format: str
    max_rows: int
    generation: int


SOLUTION_FORMATS = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "csv": QueryResultsFormat.CSV,
                    "tsv": QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": pyoxigraph.RdfFormat.TURTLE, "nt": pyoxigraph.RdfFormat.N_TRIPLES,
                 "jsonld": pyoxigraph.RdfFormat.JSON_LD, "rdf": pyoxigraph.RdfFormat.RDF_XML}


def run(store: pyoxigraph.Store, job: QueryJob) -> tuple[str, bytes]:
    """Evaluate and fully serialise; returns (kind, body) with kind 'solutions' or 'graph'."""
    try:
        result = store.query(job.query, default_graph=[NamedNode(g) for g in job.default_graph],
                             named_graphs=[NamedNode(g) for g in job.named_graphs])
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
            again = store.query(job.query, default_graph=[NamedNode(g) for g in job.default_graph],
                                named_graphs=[NamedNode(g) for g in job.named_graphs])
            return "solutions", again.serialize(format=SOLUTION_FORMATS[job.result_format])
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


def _worker(path: str, connection) -> None:
    store, generation = None, -1
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            if store is None or job.generation != generation:
                store, generation = pyoxigraph.Store.read_only(path), job.generation
            connection.send(("ok", run(store, job)))
        except QueryFailed as exc:
            connection.send(("failed", (exc.status, exc.slug, exc.message)))
        except Exception as exc:  # keep the worker alive; report as a server-side failure
            connection.send(("failed", (500, "interne-fout", f"{type(exc).__name__}: {exc}")))


class _Worker:
    """One query process and its end of a pipe (a Pipe has no feeder thread, unlike a Queue)."""

    def __init__(self, context, path: str) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(path, child), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)


class QueryWorkers:
    """A fixed number of query processes; a query that overruns its deadline kills its worker."""

    def __init__(self, path: str, workers: int = 2, timeout: float = 10.0) -> None:
        self.path, self.timeout = path, timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        for _ in range(workers):
            self._idle.put(_Worker(self._context, path))

    def execute(self, job: QueryJob) -> tuple[str, bytes]:
        worker = self._idle.get()
        try:
            worker.connection.send(job)
            if not worker.connection.poll(self.timeout):
                raise TimeoutError
            status, payload = worker.connection.recv()
        except (TimeoutError, EOFError):
            worker.kill()
            worker = _Worker(self._context, self.path)
            raise QueryFailed(503, "query-timeout",
                              f"De query duurde langer dan {self.timeout:g} s en werd afgebroken.") from None
        finally:
            self._idle.put(worker)
        if status == "failed":
            raise QueryFailed(*payload)
        return payload

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.kill()
