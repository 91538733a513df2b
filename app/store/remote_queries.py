"""SPARQL on the remote engine: a thin proxy to the store server's query endpoint.

The dataset is pinned by us: `default-graph-uri` / `named-graph-uri` come from the QueryJob
(the public or restricted graph list chosen by the endpoint), never from the client. The answer
is buffered and fully parsed before we reply, so a server that cancels a query after sending
its status line (Oxigraph streams a 200 with a truncated body, reference/peers.md §1.3) becomes
an error status here, never a truncated 200; rows are counted against the limit on the way.
SERVICE is refused before a job is made (`checks_queries` is False here): the endpoint forwards a
query unparsed only when its text cannot spell SERVICE (app/validation/sparql_query.unparsed), any
other after its offline checking workers parsed and checked it, as the escape-expanded text. The
store server's query endpoint runs no updates. The server's own bytes are returned after parsing.

A query we give up on at the deadline keeps running on the store server until the server's own
timeout (`oxigraph serve --timeout-s`) ends it: no protocol cancels it. So a query holds its place
until the store server has answered, not until we stop waiting: at most `running` public queries
ever run on the store server at once, over all the register's processes on this host (lock files:
lease.Slots), and a storm of heavy queries cannot pile up there.
"""

from __future__ import annotations

import threading
import time

import pyoxigraph
from pyoxigraph import QueryBoolean

from app.store.query_workers import (
    GRAPH_FORMATS,
    RETRY_AFTER,
    SOLUTION_FORMATS,
    UNKNOWN_FUNCTION,
    QueryFailed,
    QueryJob,
    engine_refused,
    not_acceptable,
    unsupported,
)
from app.store.remote import RemoteStore, StoreLate, StoreUnavailable

SOLUTIONS_JSON = "application/sparql-results+json"
# What we ask the store server for: results it can count and that a cut-off body cannot pass as whole.
# Solutions in JSON or XML (a truncated body is no longer well-formed); CSV and TSV are made here from
# JSON, since a TSV cut at a line end would still parse. Graphs in the client's own syntax: every one
# of them is parsed here, and the text the server appends when it cancels a stream is no RDF.
SOLUTION_MEDIA = {"json": SOLUTIONS_JSON, "xml": "application/sparql-results+xml"}
GRAPH_MEDIA = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
               "rdf": "application/rdf+xml"}
ASKED_SOLUTIONS = {"json": "json", "xml": "xml", "csv": "json", "tsv": "json", None: "json"}


class RemoteQueries:
    """Same interface as QueryWorkers: execute(job, started) → (format key, body)."""

    checks_queries = False  # the endpoint checks (and refuses SERVICE) before forwarding
    needs_generation = False  # no checkpoints: every query reads the live store server

    def __init__(self, store: RemoteStore, timeout: float = 10.0, running: int = 2,
                 server_timeout: float = 30.0) -> None:
        self.store, self.timeout, self.server_timeout = store, timeout, server_timeout
        self._places = store.lease.slots("sparql", running)  # one budget over all the register's processes
        self._late: set[threading.Timer] = set()  # places of queries we gave up on, until the server ends them
        self._late_lock = threading.Lock()

    def execute(self, job: QueryJob, started: float | None = None) -> tuple[str, bytes]:
        """The store server's own bytes when it answered in the client's format (counted and checked
        whole first), else re-serialised from what it sent."""
        started = started if started is not None else time.monotonic()
        left = self.timeout - (time.monotonic() - started)
        if left <= 0:
            raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s en werd "
                              "afgebroken.", "Query te traag", RETRY_AFTER)
        solutions = ASKED_SOLUTIONS[job.result_format]
        graphs = job.graph_format or "nt"
        accept = f"{SOLUTION_MEDIA[solutions]}, {GRAPH_MEDIA[graphs]};q=0.9"
        response = self._on_the_server(job, accept, started)
        if response.status_code == 400:
            raise engine_refused(response.content[:2000].decode("utf-8", "replace"))
        if response.status_code == 500 and UNKNOWN_FUNCTION.match(response.content[:400].decode("utf-8", "replace")):
            raise unsupported(response.content[:400].decode("utf-8", "replace"))  # Oxigraph's refusal, as embedded
        if response.status_code != 200:
            raise QueryFailed(503, "query-mislukt", f"De opslagserver kon de query niet uitvoeren "
                                                    f"({response.status_code}).")
        try:
            if response.media_type == GRAPH_MEDIA[graphs]:  # CONSTRUCT/DESCRIBE; the rest answers with results
                return _chosen(job.graph_format, "CONSTRUCT- of DESCRIBE"), self._graph(response.content, graphs, job)
            return _chosen(job.result_format, "SELECT- of ASK"), self._solutions(response.content, solutions, job)
        except SyntaxError:  # a body cut off by the server's own timeout
            raise QueryFailed(503, "query-timeout",
                              f"De query duurde langer dan {self.timeout:g} s en werd afgebroken.") from None

    def _on_the_server(self, job: QueryJob, accept: str, started: float):
        """The store server's reply, within our deadline; the query keeps its place until the server is done.

        Asked from the request's own thread (a hand-over to a pool thread cost more than the store server's
        whole answer to a small query), with what is left of the deadline as the read timeout. A query we
        stop waiting for keeps its place until the server's own timeout has ended it."""
        place = self._places.acquire(max(0.0, self.timeout - (time.monotonic() - started)))
        if place is None:
            raise QueryFailed(503, "query-timeout", f"De query wachtte {self.timeout:g} s op de opslagserver, die "
                              "nog aan eerdere queries werkt; probeer binnen enkele seconden opnieuw.",
                              "Query te traag", RETRY_AFTER)  # the deadline covers the wait
        left = self.timeout - (time.monotonic() - started)
        try:
            if left <= 0:
                raise StoreLate("")
            reply = self.store.post_query(job.query, accept, job.default_graph, job.named_graphs, timeout=left)
        except StoreLate:
            self._release_later(place)
            raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s en werd "
                              "afgebroken.", "Query te traag", RETRY_AFTER) from None
        except StoreUnavailable:
            self._places.release(place)
            raise QueryFailed(503, "opslag-onbereikbaar", "De opslagserver antwoordt niet.") from None
        except BaseException:
            self._places.release(place)
            raise
        self._places.release(place)
        return reply

    def _release_later(self, place: int) -> None:
        """Give the place back once the store server's timeout has surely ended the query."""
        def release() -> None:
            with self._late_lock:
                self._late.discard(timer)
            self._places.release(place)

        timer = threading.Timer(self.server_timeout + 5, release)
        timer.daemon = True
        with self._late_lock:
            self._late.add(timer)
        timer.start()

    @staticmethod
    def _solutions(body: bytes, asked: str, job: QueryJob) -> bytes:
        parsed = pyoxigraph.parse_query_results(body, format=SOLUTION_FORMATS[asked])
        if not isinstance(parsed, QueryBoolean):
            count = 0
            for _ in parsed:
                count += 1
                if count > job.max_rows:
                    raise QueryFailed(422, "te-veel-resultaten",
                                      f"De query geeft meer dan {job.max_rows} rijen; gebruik LIMIT/OFFSET.")
        wanted = _chosen(job.result_format, "SELECT- of ASK")
        if wanted == asked:
            return body
        parsed = pyoxigraph.parse_query_results(body, format=SOLUTION_FORMATS[asked])
        return parsed.serialize(format=SOLUTION_FORMATS[wanted])

    @staticmethod
    def _graph(body: bytes, asked: str, job: QueryJob) -> bytes:
        count = 0
        for _ in pyoxigraph.parse(body, format=GRAPH_FORMATS[asked]):
            count += 1
            if count > job.max_rows:
                raise QueryFailed(422, "te-veel-resultaten",
                                  f"De query geeft meer dan {job.max_rows} triples; beperk de query.")
        return body

    def close(self) -> None:
        """Give back the places of queries we gave up on (this process ends; so do its lock files)."""
        with self._late_lock:
            late, self._late = list(self._late), set()
        for timer in late:
            timer.cancel()
            timer.function()

    def refresh(self) -> None:
        """Nothing to renew: every query reads the live store server (no checkpoints)."""


def _chosen(fmt: str | None, kind: str) -> str:
    if fmt is None:
        raise not_acceptable(kind)
    return fmt

