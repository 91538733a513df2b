"""The delivery client against real local servers: kept-alive connections, inboxes that close them,
long answers, and no byte to a private address (also not a TLS handshake)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from app.meldingen.public_session import PrivateAddress, PublicClient


class Inbox:
    """Answers every POST with 204 and notes the client port per request (one port = one connection) and
    its `webhook-id`; `hang_up` closes the connection after answering without saying so, `long_answer`
    sends 1 MB, `pause` waits before answering, `secret` has every signature verified."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.ids: list[str] = []
        self.hang_up = False
        self.long_answer = False
        self.pause = 0.0
        self.secret: str | None = None
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                sent = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(inbox.pause)
                if inbox.secret is not None:
                    Webhook(inbox.secret).verify(sent, dict(self.headers.items()))
                inbox.ports.append(self.client_address[1])
                inbox.ids.append(self.headers.get("webhook-id"))
                body = b"x" * 1_000_000 if inbox.long_answer else b""
                self.send_response(200 if body else 204)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = inbox.hang_up

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/inbox"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox(monkeypatch):
    monkeypatch.setenv("VR_MELDINGEN_LOKAAL", "1")
    server = Inbox()
    yield server
    server.close()


def test_meldingen_to_one_inbox_share_one_kept_alive_connection(inbox):
    client = PublicClient()
    assert [client.post(inbox.url, b"{}", {}, 5) for _ in range(5)] == [204] * 5
    assert len(inbox.ports) == 5 and len(set(inbox.ports)) == 1
    client.close()


def test_an_inbox_that_closed_the_connection_gets_the_next_melding_on_a_new_one(inbox):
    """A receiver may close an idle kept-alive connection at any time: the next POST is not lost on it."""
    client = PublicClient()
    inbox.hang_up = True
    assert [client.post(inbox.url, b"{}", {}, 5) for _ in range(3)] == [204] * 3
    assert len(set(inbox.ports)) == 3


def test_a_long_answer_is_not_read_to_the_end_and_its_connection_not_reused(inbox):
    client = PublicClient()
    inbox.long_answer = True
    assert client.post(inbox.url, b"{}", {}, 5) == 200
    inbox.long_answer = False
    assert client.post(inbox.url, b"{}", {}, 5) == 204
    assert len(set(inbox.ports)) == 2


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_private_address_gets_no_byte_not_even_a_tls_handshake(scheme, monkeypatch):
    monkeypatch.delenv("VR_MELDINGEN_LOKAAL", raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PrivateAddress):
            PublicClient().post(f"{scheme}://127.0.0.1:{port}/inbox", b"{}", {}, 5)
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(5)
            assert connection.recv(1024) == b""  # closed by the client before it sent anything
