"""An HTTP client that only talks to public addresses, checked on the connection itself.

Checking an inbox's name before a delivery is not enough: the name is resolved again when the
request connects, so a receiver's DNS could answer a public address to the check and a private one
to the connection (DNS rebinding). Here the address that was actually connected to is checked,
before one byte is sent; redirects are not followed at all.
"""

from __future__ import annotations

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.meldingen.subscriptions import is_private_address, local_allowed


class PrivateAddress(Exception):
    """The connection reached an address that is not public; it was closed before sending."""


class _PublicOnly:
    def _new_conn(self):  # noqa: ANN202 - urllib3's own signature
        sock = super()._new_conn()
        if not local_allowed() and is_private_address(sock.getpeername()[0]):
            sock.close()
            raise PrivateAddress(sock)
        return sock


class _HTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _HTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class PublicClient:
    """POSTs to inboxes over kept-alive connections (urllib3: a melding costs the register ≈0.15 ms of CPU
    here, a requests session ≈0.3), every new connection checked; no redirects, no retries (delivery has
    its own backoff), no proxy from the environment (a proxy would be the address checked, not the inbox)."""

    def __init__(self) -> None:
        self.pool = urllib3.PoolManager(num_pools=64, maxsize=8, retries=False)
        self.pool.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """The receiver's status; PrivateAddress, or a urllib3 error when it could not be sent."""
        response = self.pool.request("POST", url, body=body, headers=headers, timeout=timeout, redirect=False,
                                     preload_content=True)
        return response.status
