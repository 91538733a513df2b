"""What the remote engine does with a store server's answer it cannot use: a 503 for the caller, never a 500."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.store import StoreUnavailable
from app.store.remote import RemoteStore

CUT_OFF = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://a.test/x"}},{"s":'


class _CutOff(BaseHTTPRequestHandler):
    """A SPARQL server that stops in the middle of its answer, as `oxigraph serve` does at its time limit."""

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(CUT_OFF)

    def log_message(self, *args):
        pass


def test_a_result_cut_off_by_the_store_server_is_store_unavailable():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CutOff)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(StoreUnavailable, match="onvolledig"):
            store._select("SELECT ?s WHERE { ?s ?p ?o }")
    finally:
        server.shutdown()
