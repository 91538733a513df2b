"""Search latency on a large register, next to the raw store COUNT query in the same run.

    python bench/bench_search.py [--n 1000000] [--queries 300]

Generates N public vereniging states; fills the search index with them directly (SearchIndex.add:
the same code the write path's listener runs, without the per-record SHACL and transaction cost,
which bench_writes.py measures), and bulk-loads the same records' public RDF into an Oxigraph store.
Then times a varied mix of searches (free text, facets, both, sorting, deep pages, typos that go through the
"Bedoelde u …?" correction) — p50/p95 overall and per query class, with the CPU time per search — and
the store's COUNT of active verenigingen with a given hoofdactiviteit, the cheapest SPARQL equivalent of
one facet count. Start-up is timed twice: a normal start (bitmaps saved by the
last clean close are loaded) and a start after an unclean stop (bitmaps rebuilt from the facet rows).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph  # noqa: E402

from app.domain import mapping, places  # noqa: E402
from app.domain.parse import empty_state  # noqa: E402
from app.index.search_index import SORTS, Query, SearchIndex  # noqa: E402
from app.namespaces import GRAPH_PUBLIC  # noqa: E402

CODES = ["BIAG", "BWWC", "DINT", "GEWE", "HOSP", "INOS", "JGDW", "KLDU", "KECU", "LAVI", "LEBE", "MADP", "MEDG",
         "MROW", "NMDW", "VORM", "SOVO", "SPRT", "ONWE", "TOER", "WESE"]
WORDS = ["Volleybal", "Chiro", "Toneel", "Harmonie", "Buurt", "Imkers", "Senioren", "Repair", "Fiets", "Schaak",
         "Wandel", "Foto", "Zang", "Dans", "Jeugd", "Natuur", "Cultuur", "Sport", "Kunst", "Muziek"]
RS = "http://www.w3.org/ns/regorg#"
NAMES = ["De Ster", "Sint-Jan", "De Linde", "Eendracht", "De Toekomst", "Het Anker", "Zonneweelde", "De Kastanjes"]


def state(i: int, rng: random.Random, postcodes: list[str]) -> dict:
    result = empty_state("VZER" if i % 3 else "FV")
    result.update(naam=f"{rng.choice(WORDS)}club {rng.choice(NAMES)} {i}", korteBeschrijving="Een vereniging.",
                  startdatum=f"{rng.randint(1950, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                  status="Actief" if i % 10 else "Gestopt", hoofdactiviteiten=rng.sample(CODES, rng.randint(1, 3)))
    result["locaties"] = [{"id": 1, "locatietype": "Activiteiten", "isPrimair": True, "naam": None, "adresId": None,
                           "adres": {"straatnaam": "Kerkstraat", "huisnummer": "1", "postcode": rng.choice(postcodes),
                                     "gemeente": "Gemeente", "land": "België"}}]
    result["contactgegevens"] = [{"id": 1, "contactgegeventype": "E-mail", "waarde": f"info{i}@club.be",
                                  "beschrijving": None, "isPrimair": True}]
    return result


CLASSES = ("free text", "activity facet", "text + province", "gemeente facet", "text + 2 facets", "deep page",
           "typo (corrected)")  # the query class of shape i % 7


def queries(rng: random.Random, postcodes: list[str], n: int) -> list[Query]:
    """A varied mix (no two alike on purpose): free text, facets, both, sorting, deep pages; query i is of
    class CLASSES[i % 7]."""
    gemeenten = sorted(set(places.postcode_table().values()))
    result = []
    for i in range(n):
        shape = i % 7
        text = rng.choice(WORDS).lower() if shape in (0, 2, 4) else ""
        if shape == 6:  # a typo: one letter dropped from a word ("volleybl"), corrected by the index
            word = rng.choice([w for w in WORDS if len(w) >= 6]).lower()
            cut = rng.randrange(2, len(word) - 1)
            text = word[:cut] + word[cut + 1:] + "club"
        filters: dict[str, list[str]] = {}
        if shape in (1, 4):
            filters["hoofdactiviteit"] = [rng.choice(CODES)]
        if shape == 2:
            filters["provincie"] = [rng.choice(["BE21", "BE22", "BE23", "BE24", "BE25"])]
        if shape == 3:
            filters["gemeente"] = [rng.choice(gemeenten)]
        if shape == 4:
            filters["type"] = [rng.choice(["FV", "VZER"])]
        offset = rng.choice([0, 0, 0, 20, 100, 980]) if shape != 5 else rng.randrange(0, 980)
        result.append(Query(text, filters, rng.choice(list(SORTS)), offset, 20))
    return result


def percentile95(ordered: list[float]) -> float:
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(action) -> float:
    begin = time.perf_counter()
    action()
    return (time.perf_counter() - begin) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--raw-n", type=int, default=None,
                        help="bulk-load only the first RAW_N records into Oxigraph for the raw COUNT (default: all)")
    args = parser.parse_args()
    rng = random.Random(7)
    postcodes = sorted(places.postcode_table())
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:  # RocksDB may still write on close
        work = Path(tmp)
        index = SearchIndex(work / "index.sqlite3", None, "http://bench.test")
        store = pyoxigraph.Store(str(work / "oxigraph"))
        start = time.perf_counter()
        batch: list[pyoxigraph.Quad] = []
        for i in range(args.n):
            vcode = f"V{1001 + i:07d}"
            record = state(i, rng, postcodes)
            index.add(vcode, record, f"20{rng.randint(10, 26)}-{rng.randint(1, 12):02d}")
            if args.raw_n is None or i < args.raw_n:
                public, _ = mapping.state_to_quads(record, "http://bench.test", vcode)
                batch += public
            if (i + 1) % 100_000 == 0:
                print(f"  {i + 1} indexed after {time.perf_counter() - start:.0f} s", flush=True)
            if len(batch) > 500_000:
                store.bulk_extend(batch)
                batch = []
        store.bulk_extend(batch)
        store.flush()
        index.commit()
        index.close()
        print(f"generated {args.n} verenigingen, indexed them and bulk-loaded their public RDF into Oxigraph "
              f"in {time.perf_counter() - start:.0f} s")
        path = work / "index.sqlite3"
        with sqlite3.connect(path) as db:  # as after a crash: the saved bitmaps no longer count
            db.execute("DELETE FROM meta WHERE key = 'bitmaps'")
        begin = time.perf_counter()
        index = SearchIndex(path, None, "http://bench.test")
        rebuilt = time.perf_counter() - begin
        assert not index.bitmaps_loaded
        index.close()  # a clean close saves the bitmaps
        begin = time.perf_counter()
        index = SearchIndex(path, None, "http://bench.test")
        loaded = time.perf_counter() - begin
        assert index.bitmaps_loaded
        print(f"index start-up: normal start (saved bitmaps loaded) {loaded:.2f} s; after an unclean stop "
              f"(bitmaps rebuilt) {rebuilt:.1f} s  (ratio {rebuilt / loaded:.0f}x); {len(store)} quads in the store")
        begin = time.perf_counter()
        first_typo = index.search(Query("volleyblclub"))
        print(f"first typo search after the start: {(time.perf_counter() - begin) * 1000:.0f} ms, "
              f"suggestion {first_typo['suggestie']!r}, {first_typo['totaal']} found")
        mix = queries(rng, postcodes, args.queries)
        cpu = time.process_time()
        timings = [timed(lambda q=q: index.search(q)) for q in mix]
        cpu = (time.process_time() - cpu) * 1000 / len(mix)  # a loaded machine stretches wall time, not this
        samples = sorted(timings)
        first_page = sorted(timed(lambda: index.search(Query())) for _ in range(20))
        active = f"<{RS}orgStatus> <https://w3id.org/verenigingsregister/concept/verenigingstatus/Actief>"
        sport = f"<{RS}orgActivity> <https://w3id.org/verenigingsregister/concept/hoofdactiviteit/SPRT>"
        raw = {name: sorted(timed(lambda q=q: list(store.query(
                   q, default_graph=[pyoxigraph.NamedNode(GRAPH_PUBLIC)]))) for _ in range(5))
               for name, q in {"active": f"SELECT (COUNT(?v) AS ?n) WHERE {{ ?v {active} }}",
                               "active+SPRT": f"SELECT (COUNT(?v) AS ?n) WHERE {{ ?v {active} ; {sport} }}"}.items()}
        p50, p95 = statistics.median(samples), percentile95(samples)
        print(f"N = {args.n}; load average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores")
        print(f"search, varied mix incl. facet counts: p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
              f"({args.queries} searches; CPU per search {cpu:.1f} ms, wall mean / CPU "
              f"{statistics.mean(samples) / cpu:.2f})")
        print(f"search, home page (all active)       : p50 {statistics.median(first_page):7.1f} ms")
        for shape, name in enumerate(CLASSES):
            mine = sorted(timings[shape::len(CLASSES)])
            print(f"  {name:17s}: p50 {statistics.median(mine):7.1f} ms   p95 {percentile95(mine):7.1f} ms   "
                  f"max {mine[-1]:7.1f} ms   ({len(mine)} searches)")
        sqlite_count = sorted(timed(lambda: index.db.execute(
            "SELECT COUNT(*) FROM vereniging WHERE status = 'Actief'").fetchone()) for _ in range(5))
        print(f"raw SQLite COUNT of active rows over the same {args.n} rows: median "
              f"{statistics.median(sqlite_count):7.1f} ms   (search p50 / this: "
              f"{p50 / statistics.median(sqlite_count):.2f})")
        raw_n = min(args.n, args.raw_n if args.raw_n is not None else args.n)
        for name, values in (raw.items() if raw_n else ()):
            print(f"raw store COUNT ({name:11s}) over {raw_n} records: median {statistics.median(values):7.1f} ms   "
                  f"(search p50 / this: {p50 / statistics.median(values):.2f})")
        index.close()


if __name__ == "__main__":
    main()
