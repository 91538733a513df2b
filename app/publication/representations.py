"""Rendered representations kept per immutable version, so a read serves bytes.

A version never changes, so the Turtle, JSON-LD, N-Triples, RDF/XML and HTML of a given
(resource, version, format) are computed once and kept in a bounded LRU map (per process;
every process fills its own). Only public renderings are kept: a restricted read always
renders afresh, so nothing personal lingers in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from flask import current_app

DEFAULT_SIZE = 4096


class RenderCache:
    """A thread-safe LRU map from (resource, version, format) to rendered bytes (or a per-version value)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
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


class PageFiles:
    """Rendered full LDES pages as files under the data directory: shared by every process,
    kept across restarts, and served as bytes (a full page never changes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / (hashlib.sha256(key.encode()).hexdigest() + ".bin")

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def get_or_render(self, key: str, render: Callable[[], bytes]) -> bytes:
        found = self.get(key)
        if found is None:
            found = render()
            self.put(key, found)
        return found

    def put(self, key: str, value: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(key)
        with tempfile.NamedTemporaryFile(dir=self.folder, delete=False) as handle:
            handle.write(value)
        os.replace(handle.name, target)  # readers see the whole page or none


def page_store() -> PageFiles | RenderCache:
    """Where full public pages are kept: files for an on-disk register, a small LRU in memory otherwise."""
    register = current_app.extensions["vr"]
    if register.settings.in_memory:
        return current_app.extensions.setdefault("vr-paginas", RenderCache(64))
    return current_app.extensions.setdefault("vr-paginas", PageFiles(register.settings.data_dir / "ldes-paginas"))
