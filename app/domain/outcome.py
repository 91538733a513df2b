"""What a command's run returns (Outcome) and what commit contributors see (Committed)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import versions


@dataclass(frozen=True)
class Outcome:
    vcode: str
    version: int
    sequence: int | None  # None: nothing was written
    created: bool = False
    item_id: int | None = None
    replayed: bool = False
    repeats_a_write: bool = False  # an Idempotency-Key's retry: it answers as the first request, which wrote

    @property
    def changed(self) -> bool:
        return self.sequence is not None or self.repeats_a_write


@dataclass(frozen=True)
class Committed:
    """One change as it is committed, for contributors that add quads to the same transaction."""

    vcode: str
    version: int
    sequence: int
    timestamp: str
    old: dict | None  # None: a registration
    new: dict | None  # None: a removal
    prov: versions.Provenance
    gemeenten: frozenset[str]
