"""SPARQL on the remote engine: a thin proxy to the store server's query endpoint.

The dataset is pinned by us: `default-graph-uri` / `named-graph-uri` come from the QueryJob
(the public or restricted graph list chosen by the endpoint), never from the client. The answer
is buffered and fully parsed before we reply, so a server that cancels a query after sending
its status line (Oxigraph streams a 200 with a truncated body, reference/peers.md §1.3) becomes
an error status here, never a truncated 200; rows are counted against the limit on the way.
SERVICE and updates are refused before a job is made: the endpoint has every query parsed and
checked by its offline checking workers first (`checks_queries` is False here) and forwards the
checked, escape-expanded text.
"""

from __future__ import annotations

import time

import pyoxigraph
from pyoxigraph import QueryBoolean, QueryResultsFormat, RdfFormat

from app.store.query_workers import GRAPH_FORMATS, RETRY_AFTER, SOLUTION_FORMATS, QueryFailed, QueryJob
from app.store.remote import RemoteStore, StoreUnavailable

SOLUTIONS_JSON = "application/sparql-results+json"
TRIPLES = "application/n-triples"


class RemoteQueries:
    """Same interface as QueryWorkers: execute(job, started) → (format key, body)."""

    checks_queries = False  # the endpoint checks (and refuses SERVICE) before forwarding
    needs_generation = False  # no checkpoints: every query reads the live store server

    def __init__(self, store: RemoteStore, timeout: float = 10.0) -> None:
        self.store, self.timeout = store, timeout

    def execute(self, job: QueryJob, started: float | None = None) -> tuple[str, bytes]:
        started = started if started is not None else time.monotonic()
        left = self.timeout - (time.monotonic() - started)
        if left <= 0:
            raise QueryFailed(503, "query-timeout", f"De query duurde langer dan {self.timeout:g} s en werd "
                              "afgebroken.", "Query te traag", RETRY_AFTER)
        try:
            response = self.store.post_query(job.query, f"{SOLUTIONS_JSON}, {TRIPLES};q=0.9", job.default_graph,
                                             job.named_graphs, timeout=left)
        except StoreUnavailable:
            if time.monotonic() - started >= self.timeout * 0.9:
                raise QueryFailed(503, "query-timeout",
                                  f"De query duurde langer dan {self.timeout:g} s en werd afgebroken.") from None
            raise QueryFailed(503, "opslag-onbereikbaar", "De opslagserver antwoordt niet.") from None
        if response.status_code == 400:
            raise QueryFailed(400, "sparql-syntax", "De query is geen geldige SPARQL voor de query-motor.",
                              "Ongeldige SPARQL")
        if response.status_code != 200:
            raise QueryFailed(503, "query-mislukt", f"De opslagserver kon de query niet uitvoeren "
                                                    f"({response.status_code}).")
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        try:
            if media == TRIPLES:  # the server answers CONSTRUCT/DESCRIBE with triples, the rest with results
                return _chosen(job.graph_format), self._graph(response.content, job)
            return _chosen(job.result_format), self._solutions(response.content, job)
        except SyntaxError:  # a body cut off by the server's own timeout
            raise QueryFailed(503, "query-timeout",
                              f"De query duurde langer dan {self.timeout:g} s en werd afgebroken.") from None

    @staticmethod
    def _solutions(body: bytes, job: QueryJob) -> bytes:
        parsed = pyoxigraph.parse_query_results(body, format=QueryResultsFormat.JSON)
        if not isinstance(parsed, QueryBoolean):
            count = 0
            for _ in parsed:
                count += 1
                if count > job.max_rows:
                    raise QueryFailed(422, "te-veel-resultaten",
                                      f"De query geeft meer dan {job.max_rows} rijen; gebruik LIMIT/OFFSET.")
            if _chosen(job.result_format) == "json":
                return body
            parsed = pyoxigraph.parse_query_results(body, format=QueryResultsFormat.JSON)
        return parsed.serialize(format=SOLUTION_FORMATS[_chosen(job.result_format)])

    @staticmethod
    def _graph(body: bytes, job: QueryJob) -> bytes:
        triples = list(pyoxigraph.parse(body, format=RdfFormat.N_TRIPLES))
        if len(triples) > job.max_rows:
            raise QueryFailed(422, "te-veel-resultaten",
                              f"De query geeft meer dan {job.max_rows} triples; beperk de query.")
        return pyoxigraph.serialize(triples, format=GRAPH_FORMATS[_chosen(job.graph_format)])

    def close(self) -> None:
        pass

    def refresh(self) -> None:
        """Nothing to renew: every query reads the live store server (no checkpoints)."""


def _chosen(fmt: str | None) -> str:
    if fmt is None:
        raise QueryFailed(406, "niet-aanvaardbaar", "Geen gevraagd formaat past bij deze query.",
                          "Formaat niet beschikbaar")
    return fmt

