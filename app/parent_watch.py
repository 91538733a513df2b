"""Worker processes end with the process that started them, even when it is killed with kill -9."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading


def end_with_parent() -> None:
    """In a pool worker (its initializer): exit as soon as the parent process is gone. A worker waiting on
    the pool's shared queue would otherwise never see its end and stay behind, holding memory."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
