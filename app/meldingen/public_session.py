"""An HTTP session that only talks to public addresses, checked on the connection itself.

Checking an inbox's name before a delivery is not enough: the name is resolved again when the
request connects, so a receiver's DNS could answer a public address to the check and a private one
to the connection (DNS rebinding). Here the address that was actually connected to is checked,
before one byte is sent; redirects are not followed at all.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
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


class _PublicAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def public_session() -> requests.Session:
    """A requests session whose every connection is checked (no proxy from the environment either:
    a proxy would be the address checked, not the inbox)."""
    session = requests.Session()
    session.trust_env = False
    for scheme in ("http://", "https://"):
        session.mount(scheme, _PublicAdapter())
    return session
