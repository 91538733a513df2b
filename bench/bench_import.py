"""Import throughput: `vr import` of N generated rows vs raw Oxigraph bulk load of the result, in one run.

    python bench/bench_import.py [--rows 100000] [--workers 2]

1. Writes an N-row CSV in the import template, imports it through the one write path (parse, rules,
   SHACL in worker processes, one transaction per association with its version) and measures rows/s
   and the peak memory (RSS) of this process.
2. Dumps the resulting store as N-Quads and bulk-loads it into a fresh store: the raw cost of the
   same triples. Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.domain.versions import Initiator  # noqa: E402
from app.exchange.importer import Mapping, run_import  # noqa: E402
from app.register import Register  # noqa: E402

WORDS = ["Zon", "Maan", "Ster", "Linde", "Eik", "Beuk", "Kastanje", "Vlinder", "Merel", "Reiger", "Molen", "Beek"]
KINDS = [("Volleybalclub", "SPRT"), ("Toneelkring", "KECU"), ("Buurtcomité", "BWWC"), ("Schaakclub", "HOSP"),
         ("Jeugdhuis", "JGDW"), ("Imkersbond", "NMDW")]


def write_rows(path: Path, count: int) -> None:
    columns = list(Mapping.load("verenigingen").columns)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for i in range(count):
            kind, code = KINDS[i % len(KINDS)]
            writer.writerow({
                "Sleutel": f"BENCH-{i:07d}", "Naam": f"{kind} {WORDS[i % 12]} {WORDS[(i // 12) % 12]} {i}",
                "Hoofdactiviteiten": code, "Straat": "Kerkstraat", "Huisnummer": str(i % 200 + 1),
                "Postcode": str(10000 + i), "Gemeente": f"Benchgem {i}", "E-mail": f"info{i}@bench.be",
                "Vertegenwoordiger INSZ": "85073003328", "Vertegenwoordiger voornaam": "An",
                "Vertegenwoordiger achternaam": "Peeters",
            })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = work / "rows.csv"
        write_rows(source, args.rows)
        settings = Settings(data_dir=work / "register", base_url="http://bench.test", shacl_workers=args.workers)
        register = Register.open(settings)
        start = time.perf_counter()
        report = run_import(source, "verenigingen", register.handler, Initiator("OVO000001", "Benchmark"),
                            dry_run=False, show_progress=False, threads=2 * args.workers)
        import_s = time.perf_counter() - start
        done = sum(r["actie"] == "geregistreerd" for r in report.results)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        register.close()
        nquads = work / "all.nq"
        register.store.store.dump(str(nquads), pyoxigraph.RdfFormat.N_QUADS)
        triples = sum(1 for _ in nquads.open("rb"))
        raw = pyoxigraph.Store(str(work / "raw"))
        start = time.perf_counter()
        raw.bulk_load(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
        raw.flush()
        raw_s = time.perf_counter() - start
    assert done == args.rows, (done, report.errors[:3])
    print(f"validated import   : {done} rows in {import_s:.1f} s = {done / import_s:8.1f} rows/s "
          f"(SHACL workers {args.workers}; peak RSS of the importing process {peak_mb:.0f} MB)")
    print(f"raw bulk load      : {triples} quads in {raw_s:.2f} s = {triples / raw_s:8.0f} quads/s "
          f"= {done / raw_s:8.1f} associations/s")
    print(f"ratio import/raw   : {(done / import_s) / (done / raw_s):.1%}")


if __name__ == "__main__":
    main()
