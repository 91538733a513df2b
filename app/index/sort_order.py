"""One sort order of the search index as ordered key-range buckets of record numbers (roaring bitmaps).

A page of a large result used to be found by walking SQLite's sorted index until enough members of the
result had passed, which reads most of the table when the result sits at the far end of the order
(a search for "fiets" sorted Z–A), or by sorting the whole result. Here the order is cut into buckets
of about `target` records each (bucket i holds the keys from boundary i-1 up to boundary i), so a page
costs one bitmap intersection count per bucket up to the page, plus sorting the result's members of the
one or two buckets the page falls in. Records without a value are kept apart: they come last in either
direction, by record number.

The buckets are this process's own: each process places records by its own boundaries (from the keys,
never from another process), so they cannot disagree with each other. The key is the one SQLite sorts
by: NOCASE folds ASCII letters only, and UTF-8 byte order is Python's code point order.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable

from pyroaring import BitMap

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
SMALL = 2048  # a result this small is sorted whole: cheaper than counting through the buckets
TARGET = 1024  # records per bucket: about 1000 buckets at a million records

KeyReader = Callable[[Iterable[int]], list[tuple[int, str | None]]]  # record numbers → (number, raw value)


def nocase(value: str) -> str:
    return value.translate(ASCII_LOWER)


def same(value: str) -> str:
    return value


class SortOrder:
    def __init__(self, key: Callable[[str], str], read: KeyReader) -> None:
        self.key, self.read, self.target = key, read, TARGET
        self.boundaries: list[str] = []  # sorted lower bounds of buckets 1..n
        self.buckets: list[BitMap] = [BitMap()]
        self.missing = BitMap()

    # -- keeping in step ------------------------------------------------------------------------------
    def rebuild(self, rows: list[tuple[int, str | None]]) -> None:
        """Cut the order into buckets afresh from every (record number, value)."""
        present = sorted((self.key(value), number) for number, value in rows if value)
        self.missing = BitMap(number for number, value in rows if not value)
        self.boundaries, self.buckets = [], []
        start = 0
        while start < len(present):
            end = min(start + self.target, len(present))
            while end < len(present) and present[end][0] == present[end - 1][0]:
                end += 1  # equal keys share a bucket
            self.buckets.append(BitMap(number for _, number in present[start:end]))
            if start:
                self.boundaries.append(present[start][0])
            start = end
        self.buckets = self.buckets or [BitMap()]

    def add(self, number: int, value: str | None) -> None:
        if not value:
            self.missing.add(number)
            return
        at = self._position(value)
        bucket = self.buckets[at]
        bucket.add(number)
        if len(bucket) >= 2 * self.target and len(bucket) % self.target == 0:
            self._split(at)

    def discard(self, number: int, value: str | None = None) -> None:
        """Take a record out of the order. `value`, what it was added with, names its bucket at once; without
        it, or when the record is not there, every bucket is looked at (~1,000 at a million records)."""
        if number in self.missing:
            self.missing.discard(number)
            return
        if value:
            bucket = self.buckets[self._position(value)]
            if number in bucket:
                bucket.discard(number)
                return
        for bucket in self.buckets:
            bucket.discard(number)

    def discard_all(self, numbers: BitMap) -> None:
        self.missing -= numbers
        for bucket in self.buckets:
            bucket -= numbers

    def _position(self, value: str) -> int:
        """The bucket a value belongs in (bucket i holds the keys from boundary i-1 up to boundary i)."""
        return bisect.bisect_right(self.boundaries, self.key(value))

    def _split(self, at: int) -> None:
        """Cut an overgrown bucket into buckets of about `target` (equal keys stay together)."""
        keyed = sorted((self.key(value), number) for number, value in self.read(self.buckets[at]) if value)
        pieces: list[list[int]] = [[]]
        bounds: list[str] = []
        for position, (key, number) in enumerate(keyed):
            if len(pieces[-1]) >= self.target and key != keyed[position - 1][0]:
                pieces.append([])
                bounds.append(key)
            pieces[-1].append(number)
        self.buckets[at:at + 1] = [BitMap(piece) for piece in pieces]
        self.boundaries[at:at] = bounds

    # -- paging ---------------------------------------------------------------------------------------
    def page(self, found: BitMap, offset: int, limit: int, descending: bool) -> list[int]:
        """Record numbers of found[offset:offset + limit] in this order, records without a value last."""
        if len(found) <= min(SMALL, self.target * 2):
            return self._sorted(found, descending)[offset:offset + limit]
        chosen, skipped, wanted = BitMap(), 0, offset + limit
        for bucket in reversed(self.buckets) if descending else self.buckets:
            count = found.intersection_cardinality(bucket)
            if skipped + len(chosen) + count <= offset:
                skipped += count
                continue
            if count:
                chosen |= found & bucket
            if skipped + len(chosen) >= wanted:
                return self._sorted(chosen, descending)[offset - skipped:wanted - skipped]
        page = self._sorted(chosen, descending)[offset - skipped:wanted - skipped]
        rest = found & self.missing  # records without a value, by record number
        start = max(0, offset - skipped - len(chosen))
        positions = range(len(rest) - 1 - start, -1, -1) if descending else range(start, len(rest))
        return page + [rest[i] for i in positions[:limit - len(page)]]

    def _sorted(self, numbers: BitMap, descending: bool) -> list[int]:
        if not numbers:
            return []
        rows = self.read(numbers)
        present = sorted(((self.key(value), number) for number, value in rows if value), reverse=descending)
        missing = sorted((number for number, value in rows if not value), reverse=descending)
        return [number for _, number in present] + missing

    # -- saving ---------------------------------------------------------------------------------------
    def saved(self) -> list[tuple[str, bytes]]:
        """(name, data) rows that `load` reads back: the boundaries, then the buckets in order."""
        return [("grenzen", json.dumps(self.boundaries).encode()), ("zonder", self.missing.serialize())] + \
            [(f"{i:08d}", bucket.serialize()) for i, bucket in enumerate(self.buckets)]

    def load(self, rows: dict[str, bytes]) -> bool:
        if "grenzen" not in rows:
            return False
        self.boundaries = json.loads(rows["grenzen"])
        self.missing = BitMap.deserialize(rows["zonder"])
        self.buckets = [BitMap.deserialize(rows[name]) for name in sorted(rows) if name[0].isdigit()]
        return len(self.buckets) == len(self.boundaries) + 1
