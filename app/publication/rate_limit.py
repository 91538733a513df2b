"""Per-client SPARQL rate limit, shared by every process of one register.

`vr serve --workers N` runs N processes; a limit kept in each process's memory would give a client
N times its budget. The moving windows therefore live in a small SQLite file in the data directory
(a `limits` storage registered as ``sqlite://``), which every process of the register opens. The
counts are disposable: written without fsync, and when the file cannot be used (a full disk) a
query is let through rather than refused — the deadline and admission limits still hold.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from pathlib import Path

from limits import parse_many, storage, strategies
from limits.storage import MovingWindowSupport, Storage

from app.setup_lock import setting_up

log = logging.getLogger(__name__)


class SQLiteStorage(Storage, MovingWindowSupport):
    """Moving-window entries as rows (key, moment, expires); one short write transaction per hit."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.removeprefix("sqlite://")
        self._lock = threading.Lock()
        self._pid = -1
        self._db: sqlite3.Connection | None = None

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """One connection per process (a connection must not cross a fork), used under a lock."""
        if self._db is None or self._pid != os.getpid():
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            try:
                with setting_up(Path(self.path)):
                    db.execute("PRAGMA journal_mode=WAL")
                    db.execute("PRAGMA synchronous=OFF")
                    db.execute("CREATE TABLE IF NOT EXISTS hits "
                               "(key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL)")
                    db.execute("CREATE INDEX IF NOT EXISTS hits_key ON hits (key, at)")
                    db.execute("CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires)")
            except BaseException:
                db.close()
                raise
            self._db, self._pid = db, os.getpid()
        return self._db

    def _drop(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")  # count and insert as one step across processes
            try:
                db.execute("DELETE FROM hits WHERE expires < ?", (now,))
                (count,) = db.execute("SELECT COUNT(*) FROM hits WHERE key = ? AND at > ?",
                                      (key, now - expiry)).fetchone()
                allowed = count + amount <= limit
                if allowed:
                    db.executemany("INSERT INTO hits VALUES (?, ?, ?)", [(key, now, now + expiry)] * amount)
                db.execute("COMMIT")
            except BaseException:
                self._drop()  # closing rolls back; the next hit opens afresh (e.g. once disk space is back)
                raise
        return allowed

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the moment the oldest of the window's last `limit` entries was taken, how many are in the window)."""
        now = time.time()
        with self._lock:
            rows = self._connection().execute(
                "SELECT at FROM hits WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?",
                (key, now - expiry, limit)).fetchall()
        return (rows[-1][0], len(rows)) if rows else (now, 0)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("only the moving-window strategy is used")

    def get(self, key: str) -> int:
        with self._lock:
            (count,) = self._connection().execute("SELECT COUNT(*) FROM hits WHERE key = ? AND expires >= ?",
                                                  (key, time.time())).fetchone()
        return count

    def get_expiry(self, key: str) -> float:
        with self._lock:
            (latest,) = self._connection().execute("SELECT MAX(expires) FROM hits WHERE key = ?", (key,)).fetchone()
        return latest or time.time()

    def check(self) -> bool:
        try:
            with self._lock:
                self._connection().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with self._lock:
            return self._connection().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        with self._lock:
            self._connection().execute("DELETE FROM hits WHERE key = ?", (key,))


class RateLimit:
    """Queries per client in moving windows (VR_SPARQL_RATE_LIMIT, e.g. "300/minute;30/second").

    `path` None keeps the windows in this process's memory (an in-memory register has one process).
    """

    def __init__(self, spec: str, path: Path | None) -> None:
        self.items = parse_many(spec) if spec.strip() else []
        kept = SQLiteStorage(f"sqlite://{path}") if path is not None else storage.MemoryStorage()
        self.limiter = strategies.MovingWindowRateLimiter(kept)

    def retry_after(self, client: str) -> int | None:
        """None when the client may go ahead (and counts this query), else seconds to wait."""
        try:
            for item in self.items:
                if not self.limiter.hit(item, "sparql", client):
                    reset = self.limiter.get_window_stats(item, "sparql", client).reset_time
                    return max(1, math.ceil(reset - time.time()))
        except (sqlite3.Error, OSError) as exc:  # a full disk: fairness gives way, the deadline still holds
            log.warning("SPARQL-limiet niet bij te houden (%s): query toegelaten", exc)
        return None
