"""The write lease: the one serialising point for commits, across threads and processes.

Measured (reference/peers.md §8): the Oxigraph server applies two concurrent
`DELETE … INSERT … WHERE {guard}` updates with the same guard both, so a guard in the update is
not a compare-and-set there. Commits therefore run under a lease: a thread lock inside the
process plus an exclusive `flock` on a lock file that every process of the register on this
host opens (the file is named after the register's id, read from the store, so processes that
share a store share the lock whatever their data directory). Under the lease a writer reads the
counters and the guarded version, then sends ONE update; nobody else writes in between.
Writers on another host must go through the running register over HTTP (`--register`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLease:
    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = os.getpid()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            if self._path is None:
                yield
                return
            if self._pid != os.getpid():  # forked (gunicorn): a lock must be this process's own open file
                self._fd, self._pid = None, os.getpid()
            if self._fd is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
