"""The remote engine: a SPARQL 1.1 store over HTTP (Query + Update protocols).

Reference engine: the Oxigraph server (`oxigraph serve`), endpoints `{url}/query` and
`{url}/update` (Fuseki's `http://host:3030/ds` has the same two). Only standard SPARQL 1.1 is
sent. Assumptions noted in the README: one update request is applied as one transaction, and
the store does NOT serialise concurrent conditional updates — the write lease does that.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph
import urllib3

from app.store.base import RegisterStore, StoreLate, StoreUnavailable
from app.store.lease import WriteLease

RESULTS_JSON = "application/sparql-results+json"


@dataclass(frozen=True)
class Reply:
    """The store server's whole answer (read before we look at it: never a half-read body)."""

    status_code: int
    content: bytes
    media_type: str

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class RemoteStore(RegisterStore):
    def __init__(self, url: str, timeout: float = 60) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.query_url = self.url + "/query"
        self.update_url = self.url + "/update"
        prefix = urlsplit(self.url).path
        self._query_path, self._update_path = prefix + "/query", prefix + "/update"
        self.timeout = timeout
        self._pool: urllib3.HTTPConnectionPool | None = None
        self._pool_pid = 0
        self.lease = WriteLease(_lock_path(hashlib.sha256(self.url.encode()).hexdigest()[:16]))

    def adopt(self, register_id: str) -> None:
        """Share the write lease with every process on this host that uses the same register."""
        self.lease.close()
        self.lease = WriteLease(_lock_path(register_id))

    def _connections(self) -> urllib3.HTTPConnectionPool:
        """Keep-alive connections to the store server, shared by this process's threads (made anew
        after a fork). urllib3 directly, not requests: requests costs ~0.8 ms more per call (proxy
        environment lookups, hooks), which is most of a small query's time. No retries: an update
        is sent exactly once."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = urllib3.connection_from_url(self.url, maxsize=16, block=False, retries=False)
            self._pool_pid = os.getpid()
        return self._pool

    def _send(self, method: str, path: str, body: str | None, content_type: str | None, accept: str | None,
              timeout: float | None, deadline: float | None = None) -> Reply:
        """One request, its answer read whole; with a `deadline` (time.monotonic()) StoreLate once it passes,
        also while a long answer is still coming in (a read timeout alone holds per read, not in all)."""
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        limit = timeout or self.timeout
        try:
            answer = self._connections().urlopen(method, path, body=body.encode("utf-8") if body is not None else None,
                                                 headers=headers, timeout=urllib3.Timeout(connect=limit, read=limit),
                                                 preload_content=deadline is None)
            content = answer.data if deadline is None else _read_by(answer, deadline)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise StoreLate(f"De opslagserver {self.url} antwoordde niet binnen {limit:g} s.") from exc
        except urllib3.exceptions.HTTPError as exc:
            refused = urllib3.exceptions.NewConnectionError
            no_connection = isinstance(exc, refused) or isinstance(getattr(exc, "reason", None), refused)
            why = "geen verbinding mogelijk" if no_connection else "verbinding verbroken"
            raise StoreUnavailable(f"De opslagserver {self.url} antwoordt niet ({why}).") from exc
        media = (answer.headers.get("Content-Type") or "").split(";")[0].strip()
        return Reply(answer.status, content, media)

    def post_query(self, query: str, accept: str, default_graph: Sequence[str] | None = None,
                   named_graphs: Sequence[str] | None = None, timeout: float | None = None) -> Reply:
        """Send a query as the SPARQL 1.1 protocol prescribes (POST, application/sparql-query)."""
        params = [("default-graph-uri", g) for g in default_graph or ()] + \
            [("named-graph-uri", g) for g in named_graphs or ()]
        path = self._query_path + (("?" + urlencode(params)) if params else "")
        deadline = time.monotonic() + timeout if timeout is not None else None
        return self._send("POST", path, query, "application/sparql-query", accept, timeout, deadline)

    def _select(self, query: str, default_graph: Sequence[str] | None = None,
                named_graphs: Sequence[str] | None = None) -> Iterable:
        response = self.post_query(query, RESULTS_JSON, default_graph, named_graphs)
        if response.status_code != 200:
            raise StoreUnavailable(f"De opslagserver weigerde een query ({response.status_code}): "
                                   f"{response.text[:300]}")
        try:  # read whole here: a body the server cut off (its own time limit) is a store that did not answer
            results = pyoxigraph.parse_query_results(response.content, format=pyoxigraph.QueryResultsFormat.JSON)
            return list(results) if isinstance(results, pyoxigraph.QuerySolutions) else results
        except (SyntaxError, ValueError) as exc:
            raise StoreUnavailable(f"De opslagserver gaf een onvolledig antwoord ({exc}); waarschijnlijk liep de "
                                   "query tegen haar tijdslimiet.") from None

    def _update(self, update: str) -> None:
        response = self._send("POST", self._update_path, update, "application/sparql-update", None, None)
        if response.status_code not in (200, 204):
            raise StoreUnavailable(f"De opslagserver weigerde een wijziging ({response.status_code}): "
                                   f"{response.text[:300]}")


def _read_by(answer: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
    """The whole body, or StoreLate when the deadline passes first (the connection is then dropped)."""
    chunks = []
    try:
        for chunk in answer.stream(1 << 16):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                answer.close()
                raise StoreLate("De opslagserver antwoordde niet op tijd.")
    finally:
        answer.release_conn()
    return b"".join(chunks)


def _lock_path(name: str) -> Path:
    override = os.environ.get("VR_WRITE_LOCK")
    return Path(override) if override else Path(tempfile.gettempdir()) / f"vr-schrijfslot-{name}.lock"
