"""The search index: a derived SQLite (FTS5) copy of the public state of every vereniging, plus bitmaps.

Oxigraph has no full-text index and sorting or counting 100k records in SPARQL takes seconds, so
searches and facet counts run here. The index is never a source of truth: the write path calls
`changed` after each commit (in sequence order), and `catch_up` replays every change since the last
indexed sequence from the register's own sequence index, so a crash between a commit and the index
update heals itself on the next start. Only the public graph is read.

SQLite keeps the rows (persisted, with the last indexed sequence); facet filters and counts use one
roaring bitmap of record numbers (the V-code's digits) per facet value, so a facet count over a
million records is a few set intersections instead of a GROUP BY. The bitmaps are saved (serialised)
on close with the sequence they reflect, so a normal start loads them instead of rebuilding; only a
start after an unclean stop rebuilds them from the facet rows. Pages of a sorted result come from
key-range buckets of each sort order (sort_order.py), saved with them.

The free text covers what a person means: the fields the description of a vereniging marks `search`
(names, descriptions, contact values, activity codes with their labels, postcode and gemeente) and the
deelgemeente and province of each postcode (full_text.py). A search that finds nothing is retried
once with each unknown word replaced by the closest indexed word (vocabulary.py: rapidfuzz, Levenshtein
distance 1–2), which the portal shows as "Bedoelde u …?".
"""

from __future__ import annotations

import array
import json
import logging
import re
import sqlite3
import sys
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from pyroaring import BitMap

from app.domain import mapping, places
from app.domain.model import MODEL
from app.domain.prebuilt import PublicState
from app.domain.vcode import parse_vcode
from app.index import full_text
from app.index.full_text import PROVINCES  # noqa: F401 (the portal's province labels)
from app.index.sort_order import SortOrder, nocase, same
from app.index.vocabulary import Vocabulary, fold, words_of
from app.setup_lock import setting_up
from app.store import RegisterStore
from app.store.audience import PUBLIC

log = logging.getLogger(__name__)

SCHEMA = """
-- full text: names, descriptions, places, contact values, activities and KBO numbers (app/index/full_text.py)
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS vereniging (
  id INTEGER PRIMARY KEY, vcode TEXT, naam TEXT, korte_naam TEXT, beschrijving TEXT, type TEXT, status TEXT,
  startdatum TEXT, maand TEXT, postcodes TEXT, gemeenten TEXT, activiteiten TEXT
);
DROP INDEX IF EXISTS vereniging_naam;  -- sorting uses the buckets of app/index/sort_order.py
DROP INDEX IF EXISTS vereniging_start;
CREATE TABLE IF NOT EXISTS facet (id INTEGER, soort TEXT, waarde TEXT);
CREATE TABLE IF NOT EXISTS wijziging (volgnummer INTEGER, id INTEGER);
CREATE INDEX IF NOT EXISTS wijziging_volgnummer ON wijziging (volgnummer);
CREATE INDEX IF NOT EXISTS facet_id ON facet (id);
CREATE VIRTUAL TABLE IF NOT EXISTS tekst USING fts5({},
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE VIRTUAL TABLE IF NOT EXISTS woorden USING fts5vocab(tekst, 'row');
CREATE TABLE IF NOT EXISTS bitmap (soort TEXT, waarde TEXT, data BLOB, PRIMARY KEY (soort, waarde));
""".format(", ".join(full_text.COLUMNS))  # the full-text columns come from the description of a vereniging
# Any change of the layout (e.g. a field made searchable in the description) drops the index at the next start
# and catch_up rebuilds it from the register.
SCHEMA_VERSION = zlib.crc32(SCHEMA.encode()) & 0x7FFFFFFF
WORDS = "#woorden"  # the bitmap row that holds the saved word list
ORDER = "#volgorde:"  # bitmap rows of a sort order (app/index/sort_order.py), by column
TABLES = ("meta", "vereniging", "facet", "woorden", "tekst", "bitmap", "wijziging")
FACETS = ("hoofdactiviteit", "gemeente", "postcode", "provincie", "type", "status")
COUNTED = ("hoofdactiviteit", "gemeente", "provincie", "type", "status")  # facets whose counts are returned
# sort key → (column, descending); "id" is the record number, the order of every bitmap
SORTS = {"naam": ("naam", False), "-naam": ("naam", True), "vCode": ("id", False), "-vCode": ("id", True),
         "startdatum": ("startdatum", False), "-startdatum": ("startdatum", True)}
ORDERED = {"naam": nocase, "startdatum": same}  # sorted columns (by SQLite's collation) → their key
COLUMNS = "vcode, naam, korte_naam, beschrijving, type, status, gemeenten, postcodes, activiteiten, startdatum"
KEYS = ("vCode", "naam", "korteNaam", "korteBeschrijving", "verenigingstype", "status", "gemeenten", "postcodes",
        "hoofdactiviteiten", "startdatum")


@dataclass
class Query:
    text: str = ""
    filters: dict[str, list[str]] | None = None  # no status filter: only Actief
    sort: str = "naam"
    offset: int = 0
    limit: int = 20


COMPOUND_COLUMNS = [c for c in full_text.COLUMNS if c in ("naam", "korte_naam", "beschrijving", "activiteit")]
# Words that join the words a person means ('hobby en spel', 'Hobby & Spel' is the label): left out of a query
# that has other words.
_GLUE = {"en", "of", "de", "het", "een", "van", "der", "den", "voor", "in", "op", "te", "met"}
# How people shorten what the register spells out: 'St-Niklaas' is Sint-Niklaas, 'O.L.V.' Onze-Lieve-Vrouw.
_SPOKEN = {"st": "sint", "ste": "sinte", "kon": "koninklijke", "olv": "onze lieve vrouw"}
_POSTCODE_PREFIX = re.compile(r"\bBE?\s*-\s*(\d{4})\b", re.I)  # B-2300 is postcode 2300


def record_number(vcode: str) -> int:
    return int(vcode[1:])


class SearchIndex:
    def __init__(self, path: Path | None, store: RegisterStore | None, base: str) -> None:
        self.store, self.base = store, base
        self._lock = threading.RLock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, timeout=30)
        with setting_up(path):
            if path is not None:
                # Several processes (vr serve --workers N) share this file: WAL lets them read while one writes.
                self.db.execute("PRAGMA journal_mode=WAL")
                # No fsync per commit (only at checkpoints): the index is derived, and after a power loss
                # the start-up catch-up re-indexes whatever the lost commits held (its sequence went too).
                self.db.execute("PRAGMA synchronous=NORMAL")
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                for table in TABLES:  # older layout: rebuilt by catch_up
                    self.db.execute(f"DROP TABLE IF EXISTS {table}")
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.executescript(SCHEMA)
        # typo suggestions: indexed words (sorted) and their document counts; saved with the bitmaps
        self._vocabulary: Vocabulary | None = None
        self._closed = False
        self._edits = 0  # changes to the bitmaps in this process (keys the start page's facet counts)
        self._start_facets: tuple[tuple, dict] = ((), {})
        self.bitmaps: dict[str, dict[str, BitMap]] = {}  # facet → value → record numbers
        self.all = BitMap()
        self.orders = {column: SortOrder(key, self._reader(column)) for column, key in ORDERED.items()}
        self._applied = self.last_sequence  # the sequence the in-memory bitmaps reflect
        self.bitmaps_loaded = self._load_saved_bitmaps()
        if not self.bitmaps_loaded:  # a new index, or a start after an unclean stop
            self._rebuild_bitmaps()
            self._words()  # read once; from now on `add` keeps it up to date and `close` saves it

    def _load_saved_bitmaps(self) -> bool:
        """The bitmaps saved on the last clean close, if they reflect the current rows."""
        saved = self.db.execute("SELECT value FROM meta WHERE key = 'bitmaps'").fetchone()
        if saved is None or int(saved[0]) != self.last_sequence:
            return False
        orders: dict[str, dict[str, bytes]] = {column: {} for column in self.orders}
        for kind, value, data in self.db.execute("SELECT soort, waarde, data FROM bitmap"):
            if kind == WORDS:
                self._vocabulary = Vocabulary(json.loads(data))
            elif kind == "*":
                self.all = BitMap.deserialize(data)
            elif kind.startswith(ORDER):
                orders.setdefault(kind[len(ORDER):], {})[value] = data
            else:
                self.bitmaps.setdefault(kind, {})[value] = BitMap.deserialize(data)
        return all(order.load(orders[column]) for column, order in self.orders.items())

    def _save_bitmaps(self) -> None:
        self.db.execute("DELETE FROM bitmap")
        self.db.executemany("INSERT INTO bitmap VALUES (?, ?, ?)", [("*", "", self.all.serialize())] + [
            (kind, value, bitmap.serialize()) for kind, values in self.bitmaps.items()
            for value, bitmap in values.items() if bitmap] + [
            (ORDER + column, name, data) for column, order in self.orders.items() for name, data in order.saved()])
        if self._vocabulary is not None:
            self.db.execute("INSERT INTO bitmap VALUES (?, '', ?)", (WORDS, json.dumps(self._vocabulary.frequency)))
        self.db.execute("INSERT INTO meta (key, value) VALUES ('bitmaps', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(self._applied),))
        self.db.commit()

    def _rebuild_bitmaps(self) -> None:
        self.db.execute("DELETE FROM meta WHERE key = 'bitmaps'")  # saved ones are stale until the next close
        self._edits += 1
        self.db.commit()
        rows: dict[str, dict[str, list[int]]] = {}
        for number, kind, value in self.db.execute("SELECT id, soort, waarde FROM facet"):
            rows.setdefault(kind, {}).setdefault(value, []).append(number)
        self.bitmaps = {kind: {value: BitMap(numbers) for value, numbers in values.items()}
                        for kind, values in rows.items()}
        rows = self.db.execute(f"SELECT id, {', '.join(self.orders)} FROM vereniging").fetchall()
        self.all = BitMap(row[0] for row in rows)
        for position, order in enumerate(self.orders.values(), start=1):
            order.rebuild([(row[0], row[position]) for row in rows])

    def _reader(self, column: str):
        """(record number, value of `column`) for some record numbers, read from the rows."""
        def read(numbers) -> list[tuple[int, str | None]]:
            return self.db.execute(f"SELECT id, {column} FROM vereniging WHERE id IN (SELECT value FROM json_each(?))",
                                   ("[" + ",".join(map(str, numbers)) + "]",)).fetchall()
        return read

    # -- keeping in step ------------------------------------------------------------------------------
    @property
    def last_sequence(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'sequentie'").fetchone()
        return int(row[0]) if row else 0

    def changed(self, vcode: str, sequence: int) -> None:
        """Listener for the write path: index the change, or catch up if one was missed."""
        with self._lock:
            self._refresh()
            if sequence != self.last_sequence + 1:
                self._catch_up(sequence)
                return
            self._index(vcode)
            self._set_sequence(sequence, [record_number(vcode)])
            self.db.commit()

    def changed_many(self, changes: list[tuple[str, int]], public_records: dict[str, list] | None = None) -> None:
        """A batch of commits (imports), indexed in one transaction; `public_records` (V-code → the quads
        the batch wrote to the public graph, or the record's public state) spares reading them back."""
        with self._lock:
            self._refresh()
            if changes[0][1] != self.last_sequence + 1:
                self._catch_up(changes[-1][1])
                return
            for vcode, _ in changes:
                self._index(vcode, (public_records or {}).get(vcode))
            self._set_sequence(changes[-1][1], [record_number(vcode) for vcode, _ in changes])
            self.db.commit()

    def keep_up(self) -> None:
        """Before answering: index what other processes committed (e.g. `vr import --store-url` while
        the register serves). One counter read; the catch-up itself runs under the store's write and
        after-commit leases (leases before index lock, the order the write path uses)."""
        if self.store is None or self.store.latest_sequence() <= self.last_sequence:
            return
        with self.store.lease.all_held():
            self.catch_up(self.store.latest_sequence())

    def catch_up(self, latest: int) -> int:
        """Index every vereniging changed after the last indexed sequence, up to `latest`."""
        with self._lock:
            return self._catch_up(latest)

    def _catch_up(self, latest: int) -> int:
        vcodes = {iri.rsplit("/", 1)[-1] for iri in self.store.changed_records(self.last_sequence, latest)}
        self._refresh()
        for vcode in sorted(vcodes):
            self._index(vcode)
        self._set_sequence(max(latest, self.last_sequence), [record_number(v) for v in vcodes])
        self.db.commit()
        return len(vcodes)

    def _set_sequence(self, sequence: int, changed: list[int]) -> None:
        """Record the indexed sequence, and which records changed, for the other processes' bitmaps."""
        self.db.execute("INSERT INTO meta (key, value) VALUES ('sequentie', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(sequence),))
        self.db.executemany("INSERT INTO wijziging VALUES (?, ?)", [(sequence, number) for number in changed])
        if sequence % 1000 == 0:  # a process further behind than this reloads its bitmaps
            self.db.execute("DELETE FROM wijziging WHERE volgnummer < ?", (sequence - 2000,))
        self._applied = sequence

    def _refresh(self) -> None:
        """Bring this process's bitmaps up to what other processes indexed since it last looked."""
        current = self.last_sequence
        if current == self._applied:
            return
        numbers = [n for (n,) in self.db.execute("SELECT DISTINCT id FROM wijziging WHERE volgnummer > ?",
                                                 (self._applied,))]
        if len(numbers) > 1000 or current - self._applied > 1000:
            self._rebuild_bitmaps()
        else:
            gone = BitMap(numbers)  # one difference per bitmap, not one discard per bitmap and record
            for values in self.bitmaps.values():
                for bitmap in values.values():
                    bitmap -= gone
            self.all -= gone
            for order in self.orders.values():
                order.discard_all(gone)
            marks = ", ".join("?" * len(numbers))
            for number, kind, value in self.db.execute(f"SELECT id, soort, waarde FROM facet WHERE id IN ({marks})",
                                                       numbers):
                self.bitmaps.setdefault(kind, {}).setdefault(value, BitMap()).add(number)
            for row in self.db.execute(f"SELECT id, {', '.join(self.orders)} FROM vereniging WHERE id IN ({marks})",
                                       numbers):
                self.all.add(row[0])
                for value, order in zip(row[1:], self.orders.values(), strict=True):
                    order.add(row[0], value)
        self._applied = current

    def _index(self, vcode: str, quads: list | PublicState | None = None) -> None:
        iri = mapping.vereniging_iri(self.base, vcode)
        self._forget(record_number(vcode))
        if isinstance(quads, PublicState):  # an import batch's new record, read before it was written
            self.add(vcode, quads.state, quads.created[:7])
            return
        quads = self.store.record(iri, PUBLIC) if quads is None else quads
        if not quads:
            return  # removed
        state = mapping.quads_to_state(quads, iri)
        created = next((q.object.value for q in quads if q.subject.value == iri
                        and q.predicate.value.endswith("/created")), "")
        self.add(vcode, state, created[:7])

    def _forget(self, number: int) -> None:
        """Take a record out of the index (before it is indexed again, or when it is removed). A record not
        indexed yet (every row of an import) is in no bitmap: neither its facets nor its sort orders are
        searched for it (the orders' search grew with the register: every bucket, for every new record)."""
        self._edits += 1
        if number in self.all:
            for kind, value in self.db.execute("SELECT soort, waarde FROM facet WHERE id = ?", (number,)).fetchall():
                self.bitmaps.get(kind, {}).get(value, BitMap()).discard(number)
            self.all.discard(number)
            row = self.db.execute(f"SELECT {', '.join(self.orders)} FROM vereniging WHERE id = ?", (number,)).fetchone()
            for position, order in enumerate(self.orders.values()):
                order.discard(number, row[position] if row else None)
        for table in ("vereniging", "facet"):
            self.db.execute(f"DELETE FROM {table} WHERE id = ?", (number,))
        self.db.execute("DELETE FROM tekst WHERE rowid = ?", (number,))

    def add(self, vcode: str, state: dict, month: str) -> None:
        """Index one public state (also used by the benchmark to fill a large index quickly; commit after)."""
        self._edits += 1
        number = record_number(vcode)
        codes = places.gemeenten(state)
        addresses = [loc["adres"] for loc in state["locaties"] if loc.get("adres")]
        names = sorted({a["gemeente"] for a in addresses})
        postcodes = sorted({a["postcode"] for a in addresses})
        self.db.execute(
            "INSERT INTO vereniging VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (number, vcode, state["naam"], state["korteNaam"], state["korteBeschrijving"], state["verenigingstype"],
             state["status"], state["startdatum"], month, " ".join(postcodes), " | ".join(names),
             " ".join(state["hoofdactiviteiten"])))
        facets = {(f.facet, value) for f in MODEL.facets() for value in (state[f.key] if f.many else [state[f.key]])} \
            | {("gemeente", c) for c in codes} | {("postcode", p) for p in postcodes} \
            | {("provincie", c[:4]) for c in codes}
        self.db.executemany("INSERT INTO facet VALUES (?, ?, ?)", [(number, kind, value) for kind, value in facets])
        for kind, value in facets:
            self.bitmaps.setdefault(kind, {}).setdefault(value, BitMap()).add(number)
        self.all.add(number)
        for column, order in self.orders.items():
            order.add(number, state[column])
        text = full_text.texts(state)
        self.db.execute(f"INSERT INTO tekst (rowid, {', '.join(text)}) VALUES (?{', ?' * len(text)})",
                        (number, *text.values()))
        if self._vocabulary is not None:
            self._vocabulary.learn(text.values())

    def commit(self) -> None:
        with self._lock:
            self.db.commit()

    # -- searching ------------------------------------------------------------------------------------
    def search(self, query: Query) -> dict:
        filters = {k: v for k, v in (query.filters or {}).items() if k in FACETS and v}
        filters.setdefault("status", ["Actief"])
        self.keep_up()
        with self._lock:
            self._refresh()
            text, suggestion = query.text, None
            base, match = self._text(text)
            if text and not base:
                suggestion = self.suggest(text)
                base, match = self._text(suggestion) if suggestion else (base, match)
                text, suggestion = (suggestion, suggestion) if base else (text, None)
            chosen = {kind: self._union(kind, values) for kind, values in filters.items()}
            found = self._intersect(base, chosen.values())
            numbers = self._ranked_page(found, text, match, query)
            rows = self._rows(numbers)
            # the facets of the start page (no text, no filter) are the same for everyone until something changes
            plain = not query.text and set(filters) == {"status"}
            start_page = (self._edits, self._applied, tuple(filters["status"])) if plain else None
            facets = self._start_facets[1] if start_page and self._start_facets[0] == start_page else {}
            for kind in COUNTED if not facets else ():
                scope = self._intersect(base, [b for k, b in chosen.items() if k != kind])  # without its own filter
                facets[kind] = _counts(scope, self.bitmaps.get(kind, {}))
            if start_page:
                self._start_facets = (start_page, facets)
        return {"totaal": len(found), "offset": query.offset, "limit": query.limit,
                "suggestie": suggestion, "verbeterd": bool(suggestion),
                "verenigingen": [dict(zip(KEYS, row, strict=True)) for row in rows],
                "facetten": {kind: [{"waarde": value, "aantal": count} for value, count in counts]
                             for kind, counts in facets.items()}}

    def _ranked_page(self, found: BitMap, text: str, match: str | None, query: Query) -> list[int]:
        """One page, the verenigingen that hold the words themselves before those found only through a
        compound ('De Ster' before 'Orkest De Meesters' for 'ster'), each group in the asked order.
        `match` is the FTS query `found` came from (built once: its compound scan is the costly part)."""
        plain = self._match(text, compounds=False) if text else None
        if match is None or match == plain:  # no words, a V-code, or no compound in the query
            return self._page(found, query.sort, query.offset, query.limit)
        first = found & self._matching(plain)
        numbers = self._page(first, query.sort, query.offset, query.limit)
        if len(numbers) < query.limit:
            numbers += self._page(found - first, query.sort, max(0, query.offset - len(first)),
                                  query.limit - len(numbers))
        return numbers

    def _text(self, text: str) -> tuple[BitMap, str | None]:
        """Every whitespace-separated part must match; 'Oost-Vlaanderen' is the phrase 'oost vlaanderen'.
        A V-code (shown on every page, so also typed in the search box) finds that vereniging.
        Returns the verenigingen and the FTS query used (None for a V-code or no words)."""
        vcode = parse_vcode((text or "").strip().upper())
        if vcode is not None:
            return self.all & BitMap([record_number(vcode)]), None
        match = self._match(text)
        return self._matching(match), match

    def _matching(self, match: str | None) -> BitMap:
        """The verenigingen an FTS query finds (None: every one)."""
        if match is None:
            return self.all
        # A common word matches a tenth of the register: the matches come as one string of 8-digit hex numbers
        # (decoded in C) rather than a Python row each, which took most of the time of a search.
        (numbers,) = self.db.execute("SELECT group_concat(printf('%08x', rowid), '') FROM tekst WHERE tekst MATCH ?",
                                     (match,)).fetchone()
        return _bitmap_of_hex(numbers or "")

    def _match(self, text: str, compounds: bool = True) -> str | None:
        """The FTS5 query for a search text (None: no words, everything matches)."""
        parts = [" ".join(_SPOKEN.get(word.lower(), word) for word in re.findall(r"\w+", part, re.UNICODE))
                 for part in _POSTCODE_PREFIX.sub(r"\1", text or "").split()]
        parts = [part for part in parts if part]
        meant = [part for part in parts if fold(part) not in _GLUE]
        parts = meant or parts  # 'hobby en spel' is 'hobby spel' ('en' matched every word starting with 'en')
        if not parts:
            return None
        # FTS5 has no implicit AND after a bracket
        return " AND ".join(self._term(part) if compounds else f'"{part}"*' for part in parts)

    def _term(self, part: str) -> str:
        """One part of the query: words starting with it, and for a word of four letters or more also the
        compounds that hold it ('voetbal' finds 'Minivoetbalclub')."""
        prefix = f'"{part}"*'
        folded = fold(part)
        if " " in part or not Vocabulary.wanted(folded):
            return prefix
        compounds = self._words().containing(folded)
        if not compounds:
            return prefix
        # in the texts people write (names, descriptions, activities), not in places: 'gent' is no compound part
        # of 'Regentlaan'
        inner = " OR ".join('"' + term + '"' for term in compounds)
        return f"({prefix} OR {{{' '.join(COMPOUND_COLUMNS)}}} : ({inner}))"

    def suggest(self, text: str) -> str | None:
        """The text with each word that no indexed word starts with replaced by the closest indexed word."""
        vocabulary = self._words()
        words, changed = [], False
        for word in words_of(text):
            folded = fold(word)
            known = len(folded) < 4 or vocabulary.starts_a_word(folded) or vocabulary.containing(folded, 1)
            best = None if known else vocabulary.closest(folded)
            words.append(best or word)
            changed = changed or best is not None
        return " ".join(words) if changed else None

    def _words(self) -> Vocabulary:
        """Indexed words of four letters or more (no digits) with document counts: read once from the FTS5
        vocabulary, then kept up to date by `add` (a removed record's words stay: a suggestion that finds
        nothing is not shown)."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(dict(self.db.execute(
                "SELECT term, doc FROM woorden WHERE length(term) >= 4 AND term NOT GLOB '*[0-9]*'").fetchall()))
        return self._vocabulary

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
        """Record numbers of one page, records without a value for the sort key last in either direction."""
        column, descending = SORTS.get(sort, SORTS["naam"])
        if not found or offset >= len(found):
            return []
        if column == "id":
            end = len(found) - 1
            positions = range(end - offset, max(end - offset - limit, -1), -1) if descending else \
                range(offset, min(offset + limit, len(found)))
            return [found[i] for i in positions]
        return self.orders[column].page(found, offset, limit, descending)

    def _rows(self, numbers: list[int]) -> list[tuple]:
        if not numbers:
            return []
        found = {row[0]: row[1:] for row in self.db.execute(
            f"SELECT id, {COLUMNS} FROM vereniging WHERE id IN ({', '.join('?' * len(numbers))})", numbers)}
        return [found[n] for n in numbers]

    def name_of(self, vcode: str) -> str | None:
        """The indexed name of a vereniging (for a page that mentions another one by its V-code)."""
        with self._lock:
            row = self.db.execute("SELECT naam FROM vereniging WHERE id = ?", (record_number(vcode),)).fetchone()
        return row[0] if row else None

    # -- statistics -----------------------------------------------------------------------------------
    def facet_counts(self, kind: str, status: str | None = "Actief") -> list[tuple[str, int]]:
        """(value, count) for one facet, most first; only verenigingen with `status` unless None."""
        self.keep_up()
        with self._lock:
            self._refresh()
            scope = self.all if status is None else self.bitmaps.get("status", {}).get(status, BitMap())
            return _counts(scope, self.bitmaps.get(kind, {}))

    def new_per_month(self) -> list[tuple[str, int]]:
        """Registrations per month (yyyy-MM of dcterms:created), removed verenigingen excluded."""
        self.keep_up()
        with self._lock:
            return self.db.execute("SELECT maand, COUNT(*) FROM vereniging WHERE maand != '' GROUP BY maand "
                                   "ORDER BY maand").fetchall()

    def close(self) -> None:
        """Save the bitmaps for the next start, then close (a second close does nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._save_bitmaps()
            except sqlite3.Error:  # e.g. a full disk: the next start rebuilds them instead
                log.warning("facet bitmaps not saved; the next start rebuilds them", exc_info=True)
            self.db.close()


def _counts(scope: BitMap, values: dict[str, BitMap]) -> list[tuple[str, int]]:
    """How many records of `scope` have each value, most first, zeros left out."""
    counts = [(value, scope.intersection_cardinality(bitmap)) for value, bitmap in values.items()]
    return sorted(((v, n) for v, n in counts if n), key=lambda item: (-item[1], item[0]))


def _bitmap_of_hex(numbers: str) -> BitMap:
    """The record numbers written as consecutive 8-digit hexadecimal numbers (big-endian)."""
    decoded = array.array("I")
    assert decoded.itemsize == 4
    decoded.frombytes(bytes.fromhex(numbers))
    if sys.byteorder == "little":
        decoded.byteswap()
    return BitMap(decoded)
