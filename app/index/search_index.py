"""The search index: a derived SQLite (FTS5) table of the public state of every vereniging.

Oxigraph has no full-text index and sorting 100k records in SPARQL takes seconds, so searches
and facet counts run here. The index is never a source of truth: the write path calls `changed`
after each commit (in sequence order), and on start-up `catch_up` replays every change since
the last indexed sequence from the register's own sequence index, so a crash between a commit
and the index update heals itself. Only public data is indexed.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode

from app.domain import mapping, places
from app.domain.versions import sequence_key
from app.namespaces import GRAPH_PUBLIC, GRAPH_SYSTEM, VRX
from app.store.oxigraph_store import RegisterStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS vereniging (
  vcode TEXT PRIMARY KEY, naam TEXT COLLATE NOCASE, korte_naam TEXT, beschrijving TEXT, type TEXT, status TEXT,
  startdatum TEXT, maand TEXT, postcodes TEXT, gemeenten TEXT, provincies TEXT, activiteiten TEXT, contact TEXT
);
CREATE INDEX IF NOT EXISTS vereniging_naam ON vereniging (naam COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS vereniging_status ON vereniging (status);
CREATE TABLE IF NOT EXISTS facet (vcode TEXT, soort TEXT, waarde TEXT);
CREATE INDEX IF NOT EXISTS facet_lookup ON facet (soort, waarde, vcode);
CREATE INDEX IF NOT EXISTS facet_vcode ON facet (vcode);
CREATE VIRTUAL TABLE IF NOT EXISTS tekst USING fts5(vcode UNINDEXED, naam, korte_naam, beschrijving, contact,
  tokenize = 'unicode61 remove_diacritics 2');
"""
FACETS = ("hoofdactiviteit", "gemeente", "postcode", "provincie", "type", "status")
SORTS = {"naam": "v.naam", "-naam": "v.naam DESC", "vCode": "v.vcode",
         "-vCode": "v.vcode DESC", "startdatum": "v.startdatum", "-startdatum": "v.startdatum DESC"}


@dataclass
class Query:
    text: str = ""
    filters: dict[str, list[str]] | None = None
    sort: str = "naam"
    offset: int = 0
    limit: int = 20


class SearchIndex:
    def __init__(self, path: Path | None, store: RegisterStore, base: str) -> None:
        self.store, self.base = store, base
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self.db.executescript(SCHEMA)
        self._facet_cache: dict[tuple, tuple] = {}

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
        self.db.execute("DELETE FROM vereniging WHERE vcode = ?", (vcode,))
        self.db.execute("DELETE FROM facet WHERE vcode = ?", (vcode,))
        self.db.execute("DELETE FROM tekst WHERE vcode = ?", (vcode,))
        quads = self.store.record_quads(iri, [GRAPH_PUBLIC])
        if not quads:
            return  # removed
        state = mapping.quads_to_state(quads, iri)
        created = next((q.object.value for q in quads if q.subject.value == iri
                        and q.predicate.value.endswith("/created")), "")
        self.add(vcode, state, created[:7])

    def add(self, vcode: str, state: dict, month: str) -> None:
        """Index one public state (also used by the benchmark to fill a large index quickly)."""
        codes = places.gemeenten(state)
        names = sorted({loc["adres"]["gemeente"] for loc in state["locaties"] if loc.get("adres")})
        postcodes = sorted({loc["adres"]["postcode"] for loc in state["locaties"] if loc.get("adres")})
        provinces = sorted({code[:4] for code in codes})
        contact = " ".join(c["waarde"] for c in state["contactgegevens"])
        self.db.execute(
            "INSERT INTO vereniging VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (vcode, state["naam"], state["korteNaam"], state["korteBeschrijving"], state["verenigingstype"],
             state["status"], state["startdatum"], month, " ".join(postcodes), " | ".join(names), " ".join(provinces),
             " ".join(state["hoofdactiviteiten"]), contact))
        facets = [("hoofdactiviteit", a) for a in state["hoofdactiviteiten"]] + [("gemeente", c) for c in codes] + \
            [("postcode", p) for p in postcodes] + [("provincie", p) for p in provinces] + \
            [("type", state["verenigingstype"]), ("status", state["status"])]
        self.db.executemany("INSERT INTO facet VALUES (?, ?, ?)", [(vcode, kind, value) for kind, value in facets])
        self.db.execute("INSERT INTO tekst VALUES (?, ?, ?, ?, ?)",
                        (vcode, state["naam"], state["korteNaam"] or "", state["korteBeschrijving"] or "", contact))

    # -- searching ------------------------------------------------------------------------------------
    def search(self, query: Query) -> dict:
        """One page of results plus facet counts over all results (cached per register state)."""
        filters = dict(query.filters or {})
        filters.setdefault("status", ["Actief"])
        where, params = self._where(query.text, filters)
        with self._lock:
            key = (query.text, tuple(sorted((k, tuple(v)) for k, v in filters.items())), self.last_sequence)
            cached = self._facet_cache.get(key)
            if cached is None:
                self.db.execute("DROP TABLE IF EXISTS temp.hit")
                self.db.execute("CREATE TEMP TABLE hit (vcode TEXT PRIMARY KEY) WITHOUT ROWID")
                self.db.execute(f"INSERT INTO temp.hit SELECT v.vcode FROM vereniging v WHERE {where}", params)
                total = self.db.execute("SELECT COUNT(*) FROM temp.hit").fetchone()[0]
                facets = {kind: self.db.execute(
                    "SELECT f.waarde, COUNT(*) FROM facet f JOIN temp.hit h ON h.vcode = f.vcode WHERE f.soort = ? "
                    "GROUP BY f.waarde ORDER BY COUNT(*) DESC, f.waarde", [kind]).fetchall()
                    for kind in ("hoofdactiviteit", "gemeente", "provincie", "type")}
                cached = (total, facets)
                if len(self._facet_cache) > 256:
                    self._facet_cache.clear()
                self._facet_cache[key] = cached
            total, facets = cached
            rows = self.db.execute(
                f"SELECT v.vcode, v.naam, v.korte_naam, v.beschrijving, v.type, v.status, v.gemeenten, v.postcodes, "
                f"v.activiteiten FROM vereniging v WHERE {where} ORDER BY {SORTS.get(query.sort, SORTS['naam'])}, "
                f"v.vcode LIMIT ? OFFSET ?", [*params, query.limit, query.offset]).fetchall()
        keys = ("vCode", "naam", "korteNaam", "korteBeschrijving", "verenigingstype", "status", "gemeenten",
                "postcodes", "hoofdactiviteiten")
        return {"totaal": total, "offset": query.offset, "limit": query.limit,
                "verenigingen": [dict(zip(keys, row, strict=True)) for row in rows],
                "facetten": {kind: [{"waarde": value, "aantal": count} for value, count in counts]
                             for kind, counts in facets.items()}}

    @staticmethod
    def _where(text: str, filters: dict[str, list[str]]) -> tuple[str, list]:
        clauses, params = ["1 = 1"], []
        words = re.findall(r"\w+", text or "", re.UNICODE)
        if words:
            clauses.append("v.vcode IN (SELECT vcode FROM tekst WHERE tekst MATCH ?)")
            params.append(" ".join(f'"{word}"*' for word in words))
        for kind, values in filters.items():
            if kind in FACETS and values:
                clauses.append(f"v.vcode IN (SELECT vcode FROM facet WHERE soort = ? AND waarde IN "
                               f"({', '.join('?' * len(values))}))")
                params += [kind, *values]
        return " AND ".join(clauses), params

    def counts(self, sql: str) -> list[tuple]:
        with self._lock:
            return self.db.execute(sql).fetchall()

    def close(self) -> None:
        self.db.close()
