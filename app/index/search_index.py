"""The search index: a derived SQLite (FTS5) copy of the public state of every vereniging, plus bitmaps.

Oxigraph has no full-text index and sorting or counting 100k records in SPARQL takes seconds, so
searches and facet counts run here. The index is never a source of truth: the write path calls
`changed` after each commit (in sequence order), and `catch_up` replays every change since the last
indexed sequence from the register's own sequence index, so a crash between a commit and the index
update heals itself on the next start. Only the public graph is read.

SQLite keeps the rows (persisted, with the last indexed sequence); facet filters and counts use one
roaring bitmap of record numbers (the V-code's digits) per facet value, rebuilt in memory on open,
so a facet count over a million records is a few set intersections instead of a GROUP BY.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode
from pyroaring import BitMap

from app.domain import mapping, places
from app.domain.versions import sequence_key
from app.namespaces import GRAPH_PUBLIC, GRAPH_SYSTEM, VRX
from app.store.oxigraph_store import RegisterStore

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS vereniging (
  id INTEGER PRIMARY KEY, vcode TEXT, naam TEXT, korte_naam TEXT, beschrijving TEXT, type TEXT, status TEXT,
  startdatum TEXT, maand TEXT, postcodes TEXT, gemeenten TEXT, activiteiten TEXT
);
CREATE INDEX IF NOT EXISTS vereniging_naam ON vereniging (naam COLLATE NOCASE, id);
CREATE INDEX IF NOT EXISTS vereniging_start ON vereniging (startdatum, id);
CREATE TABLE IF NOT EXISTS facet (id INTEGER, soort TEXT, waarde TEXT);
CREATE INDEX IF NOT EXISTS facet_id ON facet (id);
CREATE VIRTUAL TABLE IF NOT EXISTS tekst USING fts5(naam, korte_naam, beschrijving, contact, plaats,
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
"""
FACETS = ("hoofdactiviteit", "gemeente", "postcode", "provincie", "type", "status")
COUNTED = ("hoofdactiviteit", "gemeente", "provincie", "type", "status")  # facets whose counts are returned
# sort key → (column of an index, descending)
SORTS = {"naam": ("naam COLLATE NOCASE", False), "-naam": ("naam COLLATE NOCASE", True), "vCode": ("id", False),
         "-vCode": ("id", True), "startdatum": ("startdatum", False), "-startdatum": ("startdatum", True)}
COLUMNS = "vcode, naam, korte_naam, beschrijving, type, status, gemeenten, postcodes, activiteiten"
KEYS = ("vCode", "naam", "korteNaam", "korteBeschrijving", "verenigingstype", "status", "gemeenten", "postcodes",
        "hoofdactiviteiten")


@dataclass
class Query:
    text: str = ""
    filters: dict[str, list[str]] | None = None  # no status filter: only Actief
    sort: str = "naam"
    offset: int = 0
    limit: int = 20


def record_number(vcode: str) -> int:
    return int(vcode[1:])


class SearchIndex:
    def __init__(self, path: Path | None, store: RegisterStore | None, base: str) -> None:
        self.store, self.base = store, base
        self._lock = threading.RLock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            for table in ("meta", "vereniging", "facet", "tekst"):  # older layout: rebuilt by catch_up
                self.db.execute(f"DROP TABLE IF EXISTS {table}")
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.db.executescript(SCHEMA)
        self.bitmaps: dict[str, dict[str, BitMap]] = {}  # facet → value → record numbers
        self.all = BitMap()
        self._load_bitmaps()

    def _load_bitmaps(self) -> None:
        rows: dict[str, dict[str, list[int]]] = {}
        for number, kind, value in self.db.execute("SELECT id, soort, waarde FROM facet"):
            rows.setdefault(kind, {}).setdefault(value, []).append(number)
        self.bitmaps = {kind: {value: BitMap(numbers) for value, numbers in values.items()}
                        for kind, values in rows.items()}
        self.all = BitMap(number for (number,) in self.db.execute("SELECT id FROM vereniging"))

    # -- keeping in step ------------------------------------------------------------------------------
    @property
    def last_sequence(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'sequentie'").fetchone()
        return int(row[0]) if row else 0

    def changed(self, vcode: str, sequence: int) -> None:
        """Listener for the write path: index the change, or catch up if one was missed."""
        with self._lock:
            if sequence != self.last_sequence + 1:
                self._catch_up(sequence)
                return
            self._index(vcode)
            self._set_sequence(sequence)
            self.db.commit()

    def catch_up(self, latest: int) -> int:
        """Index every vereniging changed after the last indexed sequence, up to `latest`."""
        with self._lock:
            return self._catch_up(latest)

    def _catch_up(self, latest: int) -> int:
        vcodes = set()
        for sequence in range(self.last_sequence + 1, latest + 1):
            for quad in self.store.store.quads_for_pattern(sequence_key(sequence), NamedNode(VRX + "versie"), None,
                                                           NamedNode(GRAPH_SYSTEM)):
                vcodes.add(quad.object.value.split("/id/vereniging/", 1)[1][:8])
        for vcode in sorted(vcodes):
            self._index(vcode)
        self._set_sequence(max(latest, self.last_sequence))
        self.db.commit()
        return len(vcodes)

    def _set_sequence(self, sequence: int) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES ('sequentie', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(sequence),))

    def _index(self, vcode: str) -> None:
        iri = mapping.vereniging_iri(self.base, vcode)
        self._forget(record_number(vcode))
        quads = self.store.record_quads(iri, [GRAPH_PUBLIC])
        if not quads:
            return  # removed
        state = mapping.quads_to_state(quads, iri)
        created = next((q.object.value for q in quads if q.subject.value == iri
                        and q.predicate.value.endswith("/created")), "")
        self.add(vcode, state, created[:7])

    def _forget(self, number: int) -> None:
        for kind, value in self.db.execute("SELECT soort, waarde FROM facet WHERE id = ?", (number,)).fetchall():
            self.bitmaps.get(kind, {}).get(value, BitMap()).discard(number)
        self.all.discard(number)
        for table in ("vereniging", "facet"):
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", (number,))
        self.db.execute("DELETE FROM tekst WHERE rowid = ?", (number,))

    def add(self, vcode: str, state: dict, month: str) -> None:
        """Index one public state (also used by the benchmark to fill a large index quickly; commit after)."""
        number = record_number(vcode)
        codes = places.gemeenten(state)
        addresses = [loc["adres"] for loc in state["locaties"] if loc.get("adres")]
        names = sorted({a["gemeente"] for a in addresses})
        postcodes = sorted({a["postcode"] for a in addresses})
        contact = " ".join(c["waarde"] for c in state["contactgegevens"])
        self.db.execute(
            "INSERT INTO vereniging VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (number, vcode, state["naam"], state["korteNaam"], state["korteBeschrijving"], state["verenigingstype"],
             state["status"], state["startdatum"], month, " ".join(postcodes), " | ".join(names),
             " ".join(state["hoofdactiviteiten"])))
        facets = {("hoofdactiviteit", a) for a in state["hoofdactiviteiten"]} | {("gemeente", c) for c in codes} \
            | {("postcode", p) for p in postcodes} | {("provincie", c[:4]) for c in codes} \
            | {("type", state["verenigingstype"]), ("status", state["status"])}
        self.db.executemany("INSERT INTO facet VALUES (?, ?, ?)", [(number, kind, value) for kind, value in facets])
        for kind, value in facets:
            self.bitmaps.setdefault(kind, {}).setdefault(value, BitMap()).add(number)
        self.all.add(number)
        self.db.execute("INSERT INTO tekst (rowid, naam, korte_naam, beschrijving, contact, plaats) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (number, state["naam"], state["korteNaam"] or "", state["korteBeschrijving"] or "", contact,
                         " ".join(names + postcodes)))

    def commit(self) -> None:
        with self._lock:
            self.db.commit()

    # -- searching ------------------------------------------------------------------------------------
    def search(self, query: Query) -> dict:
        filters = {k: v for k, v in (query.filters or {}).items() if k in FACETS and v}
        filters.setdefault("status", ["Actief"])
        with self._lock:
            base = self._text(query.text)
            chosen = {kind: self._union(kind, values) for kind, values in filters.items()}
            found = self._intersect(base, chosen.values())
            numbers = self._page(found, query.sort, query.offset, query.limit)
            rows = self._rows(numbers)
            facets = {}
            for kind in COUNTED:
                scope = self._intersect(base, [b for k, b in chosen.items() if k != kind])  # without its own filter
                facets[kind] = _counts(scope, self.bitmaps.get(kind, {}))
        return {"totaal": len(found), "offset": query.offset, "limit": query.limit,
                "verenigingen": [dict(zip(KEYS, row, strict=True)) for row in rows],
                "facetten": {kind: [{"waarde": value, "aantal": count} for value, count in counts]
                             for kind, counts in facets.items()}}

    def _text(self, text: str) -> BitMap:
        words = re.findall(r"\w+", text or "", re.UNICODE)
        if not words:
            return self.all
        match = " ".join(f'"{word}"*' for word in words)
        return BitMap(number for (number,) in self.db.execute("SELECT rowid FROM tekst WHERE tekst MATCH ?",
                                                              (match,)))

    def _union(self, kind: str, values: list[str]) -> BitMap:
        known = self.bitmaps.get(kind, {})
        return BitMap.union(BitMap(), *(known.get(value, BitMap()) for value in values))

    @staticmethod
    def _intersect(base: BitMap, others) -> BitMap:
        result = base
        for other in sorted(others, key=len):
            result = result & other
        return result

    def _page(self, found: BitMap, sort: str, offset: int, limit: int) -> list[int]:
        """Record numbers of one page: small sets are sorted by SQLite, large ones read off a sorted index."""
        column, descending = SORTS.get(sort, SORTS["naam"])
        if not found or offset >= len(found):
            return []
        if column == "id":
            end = len(found) - 1
            positions = range(end - offset, max(end - offset - limit, -1), -1) if descending else \
                range(offset, min(offset + limit, len(found)))
            return [found[i] for i in positions]
        order = f"{column} {'DESC' if descending else 'ASC'}, id {'DESC' if descending else 'ASC'}"
        # Reading the sorted index costs about (offset + limit) * density⁻¹ rows; sorting the set costs its size.
        if (offset + limit) * len(self.all) / len(found) > len(found):
            ids = ",".join(map(str, found))
            return [n for (n,) in self.db.execute(
                f"SELECT id FROM vereniging WHERE id IN (SELECT value FROM json_each(?)) ORDER BY {order} "
                "LIMIT ? OFFSET ?", (f"[{ids}]", limit, offset))]
        page, skipped = [], 0
        for (number,) in self.db.execute(f"SELECT id FROM vereniging ORDER BY {order}"):
            if number in found:
                if skipped < offset:
                    skipped += 1
                    continue
                page.append(number)
                if len(page) == limit:
                    break
        return page

    def _rows(self, numbers: list[int]) -> list[tuple]:
        if not numbers:
            return []
        found = {row[0]: row[1:] for row in self.db.execute(
            f"SELECT id, {COLUMNS} FROM vereniging WHERE id IN ({', '.join('?' * len(numbers))})", numbers)}
        return [found[n] for n in numbers]

    # -- statistics -----------------------------------------------------------------------------------
    def facet_counts(self, kind: str, status: str | None = "Actief") -> list[tuple[str, int]]:
        """(value, count) for one facet, most first; only verenigingen with `status` unless None."""
        with self._lock:
            scope = self.all if status is None else self.bitmaps.get("status", {}).get(status, BitMap())
            return _counts(scope, self.bitmaps.get(kind, {}))

    def new_per_month(self) -> list[tuple[str, int]]:
        """Registrations per month (yyyy-MM of dcterms:created), removed verenigingen excluded."""
        with self._lock:
            return self.db.execute("SELECT maand, COUNT(*) FROM vereniging WHERE maand != '' GROUP BY maand "
                                   "ORDER BY maand").fetchall()

    def close(self) -> None:
        with self._lock:
            self.db.close()


def _counts(scope: BitMap, values: dict[str, BitMap]) -> list[tuple[str, int]]:
    """How many records of `scope` have each value, most first, zeros left out."""
    counts = [(value, scope.intersection_cardinality(bitmap)) for value, bitmap in values.items()]
    return sorted(((v, n) for v, n in counts if n), key=lambda item: (-item[1], item[0]))
