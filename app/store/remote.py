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
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph
import requests

from app.store.base import RegisterStore
from app.store.lease import WriteLease

RESULTS_JSON = "application/sparql-results+json"


class StoreUnavailable(Exception):
    """The store server did not answer, or refused a request we consider valid."""


class RemoteStore(RegisterStore):
    def __init__(self, url: str, timeout: float = 60) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.query_url = self.url + "/query"
        self.update_url = self.url + "/update"
        self.timeout = timeout
        self._local = threading.local()
        self.lease = WriteLease(_lock_path(hashlib.sha256(self.url.encode()).hexdigest()[:16]))

    def adopt(self, register_id: str) -> None:
        """Share the write lease with every process on this host that uses the same register."""
        self.lease.close()
        self.lease = WriteLease(_lock_path(register_id))

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None or getattr(self._local, "pid", None) != os.getpid():
            session = requests.Session()
            self._local.session, self._local.pid = session, os.getpid()
        return session

    def post_query(self, query: str, accept: str, default_graph: Sequence[str] | None = None,
                   named_graphs: Sequence[str] | None = None, timeout: float | None = None) -> requests.Response:
        """Send a query as the SPARQL 1.1 protocol prescribes (POST, application/sparql-query)."""
        params = [("default-graph-uri", g) for g in default_graph or ()] + \
            [("named-graph-uri", g) for g in named_graphs or ()]
        try:
            return self._session().post(self.query_url, params=params, data=query.encode("utf-8"),
                                        headers={"Content-Type": "application/sparql-query", "Accept": accept},
                                        timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"De opslagserver {self.url} antwoordt niet: {exc}") from exc

    def _select(self, query: str, default_graph: Sequence[str] | None = None,
                named_graphs: Sequence[str] | None = None) -> Iterable:
        response = self.post_query(query, RESULTS_JSON, default_graph, named_graphs)
        if response.status_code != 200:
            raise StoreUnavailable(f"De opslagserver weigerde een query ({response.status_code}): "
                                   f"{response.text[:300]}")
        return pyoxigraph.parse_query_results(response.content, format=pyoxigraph.QueryResultsFormat.JSON)

    def _update(self, update: str) -> None:
        try:
            response = self._session().post(self.update_url, data=update.encode("utf-8"),
                                             headers={"Content-Type": "application/sparql-update"},
                                             timeout=self.timeout)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"De opslagserver {self.url} antwoordt niet: {exc}") from exc
        if response.status_code not in (200, 204):
            raise StoreUnavailable(f"De opslagserver weigerde een wijziging ({response.status_code}): "
                                   f"{response.text[:300]}")


def _lock_path(name: str) -> Path:
    override = os.environ.get("VR_WRITE_LOCK")
    return Path(override) if override else Path(tempfile.gettempdir()) / f"vr-schrijfslot-{name}.lock"
