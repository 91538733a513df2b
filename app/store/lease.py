"""The write lease: the one serialising point for commits, across threads and processes.

Measured (reference/peers.md §8): the Oxigraph server applies two concurrent
`DELETE … INSERT … WHERE {guard}` updates with the same guard both, so a guard in the update is
not a compare-and-set there. Commits therefore run under a lease: a thread lock inside the
process plus an exclusive `flock` on a lock file that every process of the register on this
host opens (the file is named after the register's id, read from the store, so processes that
share a store share the lock whatever their data directory). Under the lease a writer reads the
counters and the guarded version, then sends ONE update; nobody else writes in between. (The
embedded engine's group commit lets the next group be checked and built while one is written, under
the lease without its store `stage`; writing still needs the stage: see RegisterStore._lead.)
Writers on another host must go through the running register over HTTP (`--register`).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLease:
    def __init__(self, path: Path | None, *, with_after: bool = True) -> None:
        self._thread_lock = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = os.getpid()
        # The store stage, inside the write lease: whoever holds the lease holds it too, except the leader of
        # a pipelined group commit (embedded engine, base.py), which keeps only this while its group is
        # written, so the next group is checked and built meanwhile. Taken after the file lock.
        self.stage = threading.Lock()
        # The lease for what follows a commit (the search index): a writer takes it BEFORE it lets go of
        # the write lease, so that work runs in commit order, while the next commit is already writing.
        self.after: WriteLease | None = None
        if with_after:
            self.after = self.named("na")

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    @contextmanager
    def all_held(self) -> Iterator[None]:
        """Both leases (write, then after): nobody commits and no after-commit work runs meanwhile."""
        with self.held():
            if self.after is None:
                yield
                return
            with self.after.held():
                yield

    def acquire(self, stage: bool = True, wait: bool = True) -> bool:
        """The lease; with stage=False without the store stage (the pipelined group commit takes that later).
        With wait=False, False at once when somebody else holds it."""
        if not self._thread_lock.acquire(blocking=wait):
            return False
        try:
            if self._path is not None:
                if self._pid != os.getpid():  # forked (gunicorn): a lock must be this process's own open file
                    self._fd, self._pid = None, os.getpid()
                if self._fd is None:
                    self._path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._thread_lock.release()
                    return False
            if stage:
                self.stage.acquire()
            return True
        except BaseException:
            if self._path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._thread_lock.release()
            raise

    def release(self, stage: bool = True) -> None:
        try:
            if stage:
                self.stage.release()
            if self._path is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def named(self, name: str) -> WriteLease:
        """Another lease of the same register (beside its lock file: shared by the same processes), for work
        that must not run twice at once, e.g. 'import'. Without a lock file, a lease within this process."""
        return WriteLease(self._beside(name), with_after=False)

    def slots(self, name: str, count: int) -> Slots:
        """`count` places for work beside this lease, shared by the same processes (e.g. 'sparql')."""
        return Slots(self._beside(name), count)

    def _beside(self, name: str) -> Path | None:
        """The lock file `<this lock file>.<name>`: what shares this lease's file shares it too."""
        return self._path.with_name(f"{self._path.name}.{name}") if self._path else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.after is not None:
            self.after.close()


class Slots:
    """At most `count` holders at once, over every process of the register on this host: each place is a lock
    file (`<prefix>.<n>`); a holder keeps its own open file locked, so threads and processes count alike.
    Without a prefix, a semaphore of this process."""

    def __init__(self, prefix: Path | None, count: int) -> None:
        self._prefix, self._count = prefix, count
        self._local = threading.BoundedSemaphore(count) if prefix is None else None

    def acquire(self, timeout: float) -> int | None:
        """A token for release(), or None when no place came free within `timeout` seconds."""
        if self._local is not None:
            return -1 if self._local.acquire(timeout=timeout) else None
        deadline = time.monotonic() + timeout
        self._prefix.parent.mkdir(parents=True, exist_ok=True)
        while True:
            for place in range(self._count):
                fd = os.open(f"{self._prefix}.{place}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def release(self, token: int) -> None:
        if token == -1:
            self._local.release()
        else:
            os.close(token)  # closing the file lets go of its lock
