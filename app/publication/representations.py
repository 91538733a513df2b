"""Rendered representations kept per immutable version, so a read serves bytes.

A version never changes, so the Turtle, JSON-LD, N-Triples, RDF/XML and HTML of a given
(resource, version, format) are computed once and kept in a bounded LRU map (per process;
every process fills its own). Only public renderings are kept: a restricted read always
renders afresh, so nothing personal lingers in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app

DEFAULT_SIZE = 4096


class RenderCache:
    """A thread-safe LRU map from (resource, version, format) to rendered bytes."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_render(self, key: Hashable, render: Callable[[], bytes | str]) -> bytes:
        found = self.get(key)
        if found is None:
            body = render()
            found = body.encode("utf-8") if isinstance(body, str) else body
            self.put(key, found)
        return found


def cache() -> RenderCache:
    """This app's cache (one per Flask app, so tests with several registers never share one)."""
    return current_app.extensions.setdefault("vr-weergaven", RenderCache())
