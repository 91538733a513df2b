"""This process's own commits' meldingen, handed to delivery in memory instead of read back.

The outbox in the store stays the one truth; this only spares delivery a query per round for the
commits this process wrote itself. An entry is built while a commit is prepared (the outbox
contributor) and becomes usable only when the write path confirms that commit (the handler's
listener runs after the group was written); a commit that failed is never confirmed, and its entry
is overwritten or dropped when its sequence is written again. Commits of other processes, entries
already handed over (a new subscription that starts back in the outbox) and anything past the
bound are read from the store as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from app.meldingen.events import Event

LIMIT = 2_000  # confirmed commits kept for delivery; older ones are read from the store if still wanted


class Handoff:
    def __init__(self) -> None:
        self._built: dict[int, list[Event]] = {}
        self._confirmed: OrderedDict[int, list[Event]] = OrderedDict()
        self._lock = threading.Lock()
        self.taking = False  # set by the process's delivery while it delivers: else nothing is kept

    def built(self, sequence: int, events: list[Event]) -> None:
        """A commit with this sequence is being written with these events (none is a fact too)."""
        if not self.taking:
            return
        with self._lock:
            self._built[sequence] = events

    def confirm(self, sequence: int) -> None:
        """The commit with this sequence was written (in sequence order): its events may be handed over.
        Entries built for lower sequences belong to attempts that were never written."""
        with self._lock:
            events = self._built.pop(sequence, None)
            for stale in [s for s in self._built if s < sequence]:
                del self._built[stale]
            if events is None:
                return
            self._confirmed[sequence] = events
            while len(self._confirmed) > LIMIT:
                self._confirmed.popitem(last=False)

    def take(self, sequences: range) -> tuple[dict[int, list[Event]], list[int]]:
        """The confirmed events of these sequences (handed over once) and the sequences to read from the
        store; confirmed entries below the range are dropped (delivery has passed them)."""
        found: dict[int, list[Event]] = {}
        with self._lock:
            while self._confirmed and next(iter(self._confirmed)) < sequences.start:
                self._confirmed.popitem(last=False)
            for sequence in sequences:
                events = self._confirmed.pop(sequence, None)
                if events is not None:
                    found[sequence] = events
        return found, [s for s in sequences if s not in found]
