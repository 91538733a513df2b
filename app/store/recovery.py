"""Writes that survive a full disk: refused cleanly while it is full, working again once space is freed.

RocksDB stops accepting writes after one failed WAL append ("No space left on device") and keeps
failing even when space comes back (measured with pyoxigraph 0.5.13: flush, update and extend all
fail until the database is reopened). So a failed write marks the embedded store damaged; the next
write reopens it first — no restart. Reads keep working on the damaged store meanwhile (RocksDB
still serves them), and SPARQL answers from its last checkpoint (query_workers.Snapshots).
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyoxigraph import Store

from app.validation.errors import CommandRejected

log = logging.getLogger(__name__)


def unavailable() -> CommandRejected:
    return CommandRejected(503, "opslag-onbeschikbaar", "Opslag niet beschikbaar",
                           "De wijziging kon niet opgeslagen worden (is de schijf vol?); er werd niets gewijzigd. "
                           "Probeer later opnieuw.", headers={"Retry-After": "30"})


class Recovering:
    """Owns the Store of one directory: `writing()` around every write, `store` for reads."""

    def __init__(self, path: Path | None, opener: Callable[[str], Store] = Store) -> None:
        self.path, self.opener = path, opener
        self._store: Store | None = opener(str(path)) if path is not None else Store()
        self.damaged = False
        self._reopen_lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The live Store. While a reopen swaps it (the old one must be gone before the directory opens
        again), a reader waits for the new one instead of finding none."""
        found = self._store
        if found is None:
            with self._reopen_lock:
                found = self._store
        return found

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around one write to `self.store` (callers must not keep the Store in a variable: a reopen
        needs every reference to the old one gone)."""
        if self.damaged:
            self.reopen()
        try:
            yield
        except OSError:
            log.error("write to the store failed; it is reopened before the next write")
            if self.path is not None:
                self.damaged = True
            raise unavailable() from None

    def flush(self) -> None:
        try:
            self.store.flush()
        except (OSError, RuntimeError):  # RuntimeError: the read-only stand-in of a failed reopen
            log.error("flushing the store failed; it is reopened before the next write")
            self.damaged = self.path is not None

    def reopen(self) -> None:
        """Release the damaged database and open the directory again. RocksDB allows one opener per
        process, so this waits (briefly) until no reader holds the old object; if one still does, the
        write is refused and the next one tries again — the store is never left unopened."""
        with self._reopen_lock:
            if not self.damaged:
                return
            for _ in range(50):
                gc.collect()
                if sys.getrefcount(self.store) <= 2:  # only self.store (and getrefcount's argument)
                    break
                time.sleep(0.02)
            else:
                log.warning("store %s still in use; reopening it at the next write", self.path)
                raise unavailable()
            self._store = None  # the old database closes here
            try:
                self._store = self.opener(str(self.path))
            except OSError:  # still no space (opening writes an OPTIONS file): serve reads, retry later
                log.error("reopening the store %s failed; read-only until the next write", self.path)
                self._store = Store.read_only(str(self.path))
                raise unavailable() from None
            self.damaged = False
            log.warning("store %s reopened after a failed write", self.path)
