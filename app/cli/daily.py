"""Work `vr serve` does by itself once a day (retention, erkenning statuses), in a daemon thread.

A failing round is logged and tried again the next day; `thread.stop.set()` ends the loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def every_day(name: str, task: Callable[[], None], interval: float = 86400.0, first: float = 60.0
              ) -> threading.Thread:
    """Run `task` after `first` seconds and then every `interval` seconds until `thread.stop` is set."""
    stop = threading.Event()

    def loop() -> None:
        wait = first
        while not stop.wait(wait):
            wait = interval
            try:
                task()
            except Exception:  # noqa: BLE001 - tried again tomorrow; the log says why
                log.exception("dagelijkse taak '%s' mislukt", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
