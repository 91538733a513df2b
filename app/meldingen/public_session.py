"""An HTTP client that only talks to public addresses, checked on the connection itself.

Checking an inbox's name before a delivery is not enough: the name is resolved again when the
request connects, so a receiver's DNS could answer a public address to the check and a private one
to the connection (DNS rebinding). Here the address that was actually connected to is checked,
before one byte is sent (for https: before the TLS handshake); redirects are not followed at all.

Built on the standard library's http.client with a small pool of kept-alive connections: a melding
costs the register ≈0.08 ms of CPU here, urllib3 ≈0.19 and a requests session ≈0.3 (measured on one
machine, POST of one melding to a local receiver). It runs in the sender process (sender.py), apart from
the register's writes.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections import OrderedDict
from urllib.parse import urlsplit

from app.meldingen.subscriptions import is_private_address, local_allowed

MAX_IDLE = 64  # kept-alive connections over all inboxes; the least recently used one is closed first
MAX_ANSWER = 64 * 1024  # an inbox's answer body read to reuse the connection; a longer one closes it


class PrivateAddress(Exception):
    """The connection reached an address that is not public; it was closed before sending."""


def _checked_connection(address: tuple[str, int], timeout: float | None, source_address=None) -> socket.socket:  # noqa: ANN001 - http.client's call
    sock = socket.create_connection(address, timeout, source_address)
    if not local_allowed() and is_private_address(sock.getpeername()[0]):
        sock.close()
        raise PrivateAddress(address[0])
    return sock


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, context=ssl.create_default_context(), **kwargs)
        self._create_connection = _checked_connection


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection the inbox closed (readable means EOF or junk: not reusable)."""
    if connection.sock is None:
        return True
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


class PublicClient:
    """POSTs to inboxes over kept-alive connections, every new connection checked; no redirects, no
    retries (delivery has its own backoff), no proxy from the environment (a proxy would be the address
    checked, not the inbox). Safe to share between delivery threads: a connection is used by one at a time."""

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple[str, str, int], list[http.client.HTTPConnection]] = OrderedDict()
        self._held = 0  # idle connections over all origins
        self._lock = threading.Lock()

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """The receiver's status; PrivateAddress, or an OSError / http.client.HTTPException when it could
        not be sent (a ValueError for a URL that cannot be requested).

        A kept-alive connection that the inbox closed just before this request fails it at once; the
        request is then sent once more on a new connection (as HTTP clients do on a reused connection:
        every melding carries its `webhook-id`, so a receiver recognises one it did get after all)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"no http(s) URL: {url!r}")
        origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._idle_connection(origin, timeout)
        if connection is not None:
            try:
                return self._exchange(origin, connection, path, body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                pass  # closed by the inbox in the meantime: once more on a new connection
        kind = _HTTPSConnection if origin[0] == "https" else _HTTPConnection
        return self._exchange(origin, kind(origin[1], origin[2], timeout=timeout), path, body, headers)

    def _exchange(self, origin: tuple[str, str, int], connection: http.client.HTTPConnection, path: str,
                  body: bytes, headers: dict[str, str]) -> int:
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER)
        except BaseException:
            connection.close()
            raise
        if response.isclosed() and not response.will_close:
            self._give_back(origin, connection)
        else:
            connection.close()
        return response.status

    def _idle_connection(self, origin: tuple[str, str, int], timeout: float) -> http.client.HTTPConnection | None:
        """An idle connection to this origin that still looks open, if there is one."""
        with self._lock:
            idle = self._idle.get(origin, [])
            while idle:
                connection = idle.pop()
                self._held -= 1
                if not _dropped(connection):
                    connection.timeout = timeout
                    connection.sock.settimeout(timeout)
                    return connection
                connection.close()
        return None

    def _give_back(self, origin: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(connection)
            self._idle.move_to_end(origin)
            self._held += 1
            while self._held > MAX_IDLE:
                oldest, held = next(iter(self._idle.items()))
                if held:
                    held.pop(0).close()
                    self._held -= 1
                if not held:
                    del self._idle[oldest]

    def close(self) -> None:
        with self._lock:
            for held in self._idle.values():
                for connection in held:
                    connection.close()
            self._idle.clear()
            self._held = 0
