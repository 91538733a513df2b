"""Import throughput: `vr import` of N generated rows vs a raw Oxigraph bulk load of the result, in one run.

    python bench/bench_import.py [--rows 100000] [--batch 5000] [--engine turbo|pyshacl]

1. Writes an N-row CSV in the department's own column names (Belgian dates, activity labels,
   phone notations, real postcodes of every Flemish gemeente) and imports it through the one write
   path: forgiving reading, parse, rules, duplicate search against the register and the file,
   SHACL over each chunk of 500 rows, ONE atomic commit per batch (--batch rows) with every version
   member (on the embedded engine an SST ingestion, see oxigraph_store._write), the search index.
   Reading and checking chunks runs in --workers processes (importer._Pipeline) a batch and a few
   chunks ahead; checking batch k+1 runs while batch k is written. Measures rows/s, CPU time per
   row (this process and the worker processes) and the peak RSS of each (rows stream: the file is
   never in memory as a whole).
2. Dumps the resulting store as N-Quads and bulk-loads it into a fresh store: the raw cost of the
   same quads. Prints both rates and their ratio (target: import ≥ 50 % of raw), and the CPU time
   of both (the bulk loader uses two threads).
3. Unless --no-ceiling: the same quads written as one `Store.extend` transaction per batch, the
   ceiling of an import that would write with ordinary transactions.
4. With --updates N: round 2 of a migration, N rows of the register imported again with a changed
   e-mail address (each an update: a new version of a whole record), 500 per transaction as the
   importer writes them, then N other rows one transaction per row (batching alone): rows/s of
   both and their ratio, in the same run.
5. Unless --no-raw-rss: the peak RSS of a fresh process that bulk-loads the same quads, what the store
   itself holds in memory for them (the import's RSS grows with the register, not with the file).
Every row carries Actie=bevestig-nieuw: generated names in one gemeente look alike, and this keeps
them from waiting for a decision; the duplicate search still runs for every row.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.domain.versions import Initiator  # noqa: E402
from app.exchange import importer  # noqa: E402
from app.exchange.importer import BATCH, run_import  # noqa: E402
from app.register import Register  # noqa: E402
from tests.workbooks import flemish_places  # noqa: E402

WORDS = ["Zon", "Maan", "Ster", "Linde", "Eik", "Beuk", "Kastanje", "Vlinder", "Merel", "Reiger", "Molen", "Beek"]
KINDS = [("Volleybalclub", "Sport"), ("Toneelkring", "Kunst en cultuur"), ("Buurtcomité", "buurtwerking"),
         ("Schaakclub", "Hobby & spel"), ("Jeugdhuis", "JGDW"), ("Imkersbond", "natuur")]
HEADER = ["Id", "Naam vereniging", "Opgericht", "Activiteiten", "Straatnaam", "Nr", "Postcode", "Woonplaats",
          "E-mailadres", "Telefoonnummer", "INSZ", "Voornaam contactpersoon", "Naam contactpersoon", "Actie"]


def write_rows(path: Path, count: int, first: int = 0, mail: str = "info") -> None:
    where = flemish_places()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for i in range(first, first + count):
            kind, activity = KINDS[i % len(KINDS)]
            postcode, gemeente = where[i % len(where)]
            writer.writerow([
                f"BENCH-{i:07d}", f"{kind} {WORDS[i % 12]} {WORDS[(i // 12) % 12]} {i}",
                f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1950 + i % 70}", activity, "Kerkstraat", str(i % 200 + 1),
                postcode, gemeente, f"{mail}{i}@bench.be", f"09/2{i % 100:02d} {i % 90 + 10} {i % 80 + 10}",
                "85073003328", "An", "Peeters", "bevestig-nieuw",
            ])


def transactional_load(nquads: Path, directory: Path, per_batch: int) -> float:
    """Seconds to write the file's quads with Store.extend, `per_batch` quads per transaction."""
    store = pyoxigraph.Store(str(directory))
    quads = pyoxigraph.parse(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
    spent = 0.0
    while chunk := list(itertools.islice(quads, per_batch)):  # parsing is not timed
        start = time.perf_counter()
        store.extend(chunk)
        spent += time.perf_counter() - start
    start = time.perf_counter()
    store.flush()
    return spent + time.perf_counter() - start


def round_two(register: Register, work: Path, count: int, rows: int) -> None:
    """Rows of the register imported again with a changed e-mail address: as the importer writes updates,
    and (other rows) one transaction per row."""
    rates = {}
    for label, per_commit, first in (("500 per transaction", importer.UPDATES_PER_COMMIT, 0),
                                     ("one per transaction", 1, count)):
        assert first + count <= rows, "--updates N needs 2N ≤ --rows"
        source = work / f"round-two-{per_commit}.csv"
        write_rows(source, count, first, mail="nieuw")
        kept, importer.UPDATES_PER_COMMIT = importer.UPDATES_PER_COMMIT, per_commit
        try:
            start = time.perf_counter()
            report = run_import(source, "verenigingen", register.handler, Initiator("OVO000001", "Benchmark"),
                                dry_run=False)
            rates[label] = count / (time.perf_counter() - start)
        finally:
            importer.UPDATES_PER_COMMIT = kept
        assert {r.status for r in report.results} == {"bijgewerkt"}, report.counts()
        print(f"round 2 updates  : {count} rows, {label}: {rates[label]:7.1f} rows/s")
    print(f"ratio updates    : {rates['500 per transaction'] / rates['one per transaction']:.2f}x "
          "(500 per transaction / one per transaction)")


def raw_peak_rss(nquads: Path, directory: Path) -> float:
    """Peak RSS (MB) of a fresh Python process that bulk-loads the file into an empty store."""
    code = ("import pyoxigraph, resource, sys; store = pyoxigraph.Store(sys.argv[2]); "
            "store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.N_QUADS); store.flush(); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code, str(nquads), str(directory)], capture_output=True, text=True,
                          check=True)
    return int(done.stdout) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=BATCH, help="rows per commit")
    parser.add_argument("--engine", choices=["turbo", "pyshacl"], default="turbo")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the transactional-load measurement")
    parser.add_argument("--updates", type=int, default=0, help="round 2: rows imported again as updates")
    parser.add_argument("--no-raw-rss", action="store_true", help="skip the raw bulk load's peak RSS (a second load)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:  # RocksDB may still be compacting
        work = Path(tmp)
        source = work / "rows.csv"
        write_rows(source, args.rows)
        settings = Settings(data_dir=work / "register", base_url="http://bench.test")
        register = Register.open(settings)
        start, cpu = time.perf_counter(), time.process_time()
        step = max(args.batch, args.rows // 10 // args.batch * args.batch)

        def progress(done: int) -> None:  # a line per tenth: rate so far and the current RSS (streaming)
            if done % step == 0 or done == args.rows:
                rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
                print(f"  {done:7d} rows  {done / (time.perf_counter() - start):7.1f} rows/s  RSS {rss} MB", flush=True)

        report = run_import(source, "verenigingen", register.handler, Initiator("OVO000001", "Benchmark"),
                            dry_run=False, engine=args.engine, batch_size=args.batch, progress=progress,
                            workers=args.workers)
        import_s, import_cpu = time.perf_counter() - start, time.process_time() - cpu
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes (ended by now)
        worker_cpu, worker_mb = children.ru_utime + children.ru_stime, children.ru_maxrss / 1024
        done = sum(r.status == "geregistreerd" for r in report.results)
        nquads = work / "all.nq"
        nquads.write_bytes(register.store.dump_nquads())
        if args.updates:
            round_two(register, work, args.updates, args.rows)
        register.close()
        quads = sum(1 for _ in nquads.open("rb"))
        raw = pyoxigraph.Store(str(work / "raw"))
        start, cpu = time.perf_counter(), time.process_time()
        raw.bulk_load(path=str(nquads), format=pyoxigraph.RdfFormat.N_QUADS)
        raw.flush()
        raw_s, raw_cpu = time.perf_counter() - start, time.process_time() - cpu
        del raw
        batches = max(1, -(-done // args.batch))
        extend_s = None if args.no_ceiling else transactional_load(nquads, work / "extend", quads // batches)
        raw_mb = None if args.no_raw_rss else raw_peak_rss(nquads, work / "raw-rss")
    assert done == args.rows, (done, report.counts(), [(f.row, f.column, f.message) for f in report.errors[:3]])
    print(f"validated import : {done} rows in {import_s:.1f} s = {done / import_s:8.1f} rows/s "
          f"(SHACL {args.engine}, {args.batch} rows per batch and transaction; "
          f"peak RSS of the importing process {peak_mb:.0f} MB, of a worker process {worker_mb:.0f} MB)")
    print(f"raw bulk load    : {quads} quads in {raw_s:.2f} s = {quads / raw_s:8.0f} quads/s "
          f"= {done / raw_s:8.1f} associations/s")
    if extend_s is not None:
        print(f"transactional    : the same quads as Store.extend per batch ({batches} transactions) {extend_s:.2f} s "
              f"= {quads / extend_s:8.0f} quads/s = {raw_s / extend_s:.1%} of raw (the ceiling of any import that "
              "writes one transaction per batch)")
    if raw_mb is not None:
        print(f"raw bulk load RSS: {raw_mb:.0f} MB peak in a fresh process loading the same quads")
    print(f"ratio import/raw : {(done / import_s) / (done / raw_s):.1%} (wall clock; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    total_cpu = import_cpu + worker_cpu
    print(f"CPU time         : import {total_cpu:.1f} s = {total_cpu / done * 1000:.2f} ms/row (importing process "
          f"{import_cpu / done * 1000:.2f}, workers {worker_cpu / done * 1000:.2f}), raw bulk load {raw_cpu:.1f} s = "
          f"{raw_cpu / done * 1000:.2f} ms/row (all threads): raw/import {raw_cpu / total_cpu:.1%}")


if __name__ == "__main__":
    main()
