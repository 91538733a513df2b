"""Search latency on a large register, next to the raw store COUNT query in the same run.

    python bench/bench_search.py [--n 1000000] [--queries 300]

Generates N public vereniging states; fills the search index with them directly (SearchIndex.add:
the same code the write path's listener runs, without the per-record SHACL and transaction cost,
which bench_writes.py measures), and bulk-loads the same records' public RDF into an Oxigraph store.
Then times a mix of searches (free text, facet, both, paging) — p50/p95 — and the store's COUNT of
active verenigingen with a given hoofdactiviteit, the cheapest SPARQL equivalent of one facet count.
"""

from __future__ import annotations

import argparse
import random
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
from app.index.search_index import Query, SearchIndex  # noqa: E402
from app.namespaces import GRAPH_PUBLIC  # noqa: E402

CODES = ["BIAG", "BWWC", "DINT", "GEWE", "HOSP", "INOS", "JGDW", "KLDU", "KECU", "LAVI", "LEBE", "MADP", "MEDG",
         "MROW", "NMDW", "VORM", "SOVO", "SPRT", "ONWE", "TOER", "WESE"]
WORDS = ["Volleybal", "Chiro", "Toneel", "Harmonie", "Buurt", "Imkers", "Senioren", "Repair", "Fiets", "Schaak",
         "Wandel", "Foto", "Zang", "Dans", "Jeugd", "Natuur", "Cultuur", "Sport", "Kunst", "Muziek"]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    postcodes = sorted(places.postcode_table())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        index = SearchIndex(work / "index.sqlite3", None, "http://bench.test")
        store = pyoxigraph.Store(str(work / "oxigraph"))
        start = time.perf_counter()
        batch: list[pyoxigraph.Quad] = []
        for i in range(args.n):
            vcode = f"V{1001 + i:07d}"
            record = state(i, rng, postcodes)
            index.add(vcode, record, "2026-11")
            public, _ = mapping.state_to_quads(record, "http://bench.test", vcode)
            batch += public
            if len(batch) > 500_000:
                store.bulk_extend(batch)
                batch = []
        store.bulk_extend(batch)
        index.db.commit()
        print(f"generated and indexed {args.n} verenigingen in {time.perf_counter() - start:.0f} s")
        searches = [Query("chiro"), Query("", {"hoofdactiviteit": ["SPRT"]}), Query("sint", {"provincie": ["BE23"]}),
                    Query("", {"gemeente": ["BE23444021"]}, "-naam"), Query("harmonie ster", {"type": ["FV"]}),
                    Query("", None, "naam", 500, 20)]
        cold, samples = [], []
        for query in searches:  # first time each: facet counts computed, nothing cached
            begin = time.perf_counter()
            index.search(query)
            cold.append((time.perf_counter() - begin) * 1000)
        for i in range(args.queries):  # repeated searches between writes: facet counts cached
            begin = time.perf_counter()
            index.search(searches[i % len(searches)])
            samples.append((time.perf_counter() - begin) * 1000)
        concept = "https://w3id.org/verenigingsregister/concept/"
        count_query = f"""SELECT (COUNT(?v) AS ?n) WHERE {{
          ?v <http://www.w3.org/ns/regorg#orgActivity> <{concept}hoofdactiviteit/SPRT> ;
             <http://www.w3.org/ns/regorg#orgStatus> <{concept}verenigingstatus/Actief> }}"""
        raw = []
        for _ in range(5):
            begin = time.perf_counter()
            list(store.query(count_query, default_graph=[pyoxigraph.NamedNode(GRAPH_PUBLIC)]))
            raw.append((time.perf_counter() - begin) * 1000)
        samples.sort()
        p50, p95 = statistics.median(samples), samples[int(len(samples) * 0.95) - 1]
        cold.sort()
        print(f"search, first time (cold)  : p50 {statistics.median(cold):7.1f} ms   max {cold[-1]:7.1f} ms")
        print(f"search (with facet counts) : p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   over {args.queries} searches")
        print(f"raw store COUNT (1 facet)  : median {statistics.median(raw):7.1f} ms")
        print(f"ratio search p50 / raw     : {p50 / statistics.median(raw):.2f}")


if __name__ == "__main__":
    main()
