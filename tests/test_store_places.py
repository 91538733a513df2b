"""Places for work on the store server counted over all the register's processes (lease.Slots): the SPARQL
limit of `--workers 4` is 2 queries on the store server, not 2 a process."""

from __future__ import annotations

import subprocess
import sys
import time

from app.store.lease import Slots


def test_places_are_shared_by_threads_and_processes(tmp_path):
    prefix = tmp_path / "vr-schrijfslot-x.sparql"
    places = Slots(prefix, 2)
    first, second = places.acquire(0.1), places.acquire(0.1)
    assert first is not None and second is not None
    started = time.monotonic()
    assert places.acquire(0.2) is None and time.monotonic() - started >= 0.2  # waits, then gives up
    # another process of the register sees the same two places taken
    other = [sys.executable, "-c", f"from app.store.lease import Slots; import pathlib; "
             f"print(Slots(pathlib.Path({str(prefix)!r}), 2).acquire(0.1) is not None)"]
    assert subprocess.run(other, capture_output=True, text=True, check=True).stdout.strip() == "False"
    places.release(first)
    assert subprocess.run(other, capture_output=True, text=True, check=True).stdout.strip() == "True"
    assert places.acquire(0.1) is not None  # the other process ended: its place is free again
