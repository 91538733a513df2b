"""Storage: the only package that knows which engine holds the register.

`open_store(settings)` gives the embedded pyoxigraph engine (default) or, with VR_STORE_URL /
--store-url, a remote SPARQL 1.1 store. Both implement base.RegisterStore.
"""

from __future__ import annotations

from app.store.audience import PUBLIC, Audience, for_principal
from app.store.base import Allocation, BaseMismatch, Change, Refused, RegisterStore, StoreUnavailable


def open_store(settings) -> RegisterStore:
    if settings.store_url:
        from app.store.remote import RemoteStore

        return RemoteStore(settings.store_url)
    from app.store.oxigraph_store import EmbeddedStore

    return EmbeddedStore(None if settings.in_memory else settings.store_dir)


__all__ = ["PUBLIC", "Allocation", "Audience", "BaseMismatch", "Change", "Refused", "RegisterStore", "StoreUnavailable",
           "for_principal", "open_store"]
