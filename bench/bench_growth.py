"""Does a write cost more as the register grows? Validated registrations in rounds vs raw transactions.

    python bench/bench_growth.py [--n 4000] [--rounds 8] [--store-url URL]

1. Registers N associations through the whole write path (the Flask app in this process: parse,
   rules, SHACL, one transaction with version and provenance, search index, audit) into a fresh
   on-disk store (or a fresh remote store with --store-url), in rounds, and prints the CPU time per
   write of each round and how long reading the last sequence number (asked before every search) takes.
2. Writes the very same quads again as one `Store.extend` per record into a fresh store, in the same
   rounds, once as is and once with a flush of the memtable after every round (what the register
   does every FLUSH_QUADS quads): the raw cost per record, and how it grows with the memtable.
Prints the ratio last round / first round of each: 1.0 means a write costs the same in a register of
N as in an empty one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.auth.keys import add_key  # noqa: E402
from app.config import Settings  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.register import Register  # noqa: E402
from bench.bench_writes import bodies, records  # noqa: E402


def validated(n: int, rounds: int, workdir: Path, store_url: str | None) -> tuple[list[float], list[float], bytes]:
    """CPU ms per write and latest_sequence ms, per round; and the store's quads afterwards."""
    settings = Settings(data_dir=workdir / "register", base_url="http://bench.test", store_url=store_url)
    key = add_key(settings.keys_path, "OVO000001", "Benchmark", ["initiator"])
    register = Register.open(settings)
    client = create_app(register=register).test_client()
    payloads = [json.dumps(body).encode() for body in bodies(n, ROOT / "data" / "demo" / "verenigingen.json")]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    size = n // rounds
    cpu, lookups = [], []
    for r in range(rounds):
        start = time.process_time()
        for payload in payloads[r * size:(r + 1) * size]:
            answer = client.post("/verenigingen", data=payload, headers=headers)
            if answer.status_code != 201:
                raise RuntimeError(answer.get_data(as_text=True))
        cpu.append((time.process_time() - start) / size * 1000)
        start = time.perf_counter()
        for _ in range(100):
            register.store.latest_sequence()
        lookups.append((time.perf_counter() - start) * 10)
    dump = register.store.dump_nquads()
    register.close()
    return cpu, lookups, dump


def raw(batches: list[list], rounds: int, directory: Path, flush: bool) -> list[float]:
    """CPU ms per record of `Store.extend`, one record a transaction, per round."""
    store = pyoxigraph.Store(str(directory))
    size = len(batches) // rounds
    out = []
    for r in range(rounds):
        start = time.process_time()
        for quads in batches[r * size:(r + 1) * size]:
            store.extend(quads)
        if flush:
            store.flush()
        out.append((time.process_time() - start) / size * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--store-url", default=None, help="a fresh remote store (e.g. `vr store-server`)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        cpu, lookups, dump = validated(args.n, args.rounds, work, args.store_url)
        batches = records(dump)
        plain = raw(batches, args.rounds, work / "raw", flush=False)
        flushed = raw(batches, args.rounds, work / "raw-flushed", flush=True)
    size = args.n // args.rounds
    engine = "remote" if args.store_url else "embedded"
    print(f"{args.n} validated registrations ({engine} engine, in-process app) in {args.rounds} rounds of {size}; "
          "raw = the same quads, one Store.extend per record")
    print(f"  {'after':>6}  {'validated':>9}  {'last sequence':>13}  {'raw':>7}  {'raw, flushed':>12}")
    for r in range(args.rounds):
        print(f"  {(r + 1) * size:6d}  {cpu[r]:6.2f} ms  {lookups[r]:10.3f} ms  {plain[r]:4.2f} ms  "
              f"{flushed[r]:9.2f} ms")
    print("  (CPU per write or record; last sequence: one latest_sequence(), asked before every search)")
    print(f"ratio last / first round: validated {cpu[-1] / cpu[0]:.2f}x, "
          f"last sequence {lookups[-1] / lookups[0]:.2f}x, raw {plain[-1] / plain[0]:.2f}x, "
          f"raw flushed {flushed[-1] / flushed[0]:.2f}x")
    print(f"ratio validated / raw flushed, last round: {cpu[-1] / flushed[-1]:.2f}x")


if __name__ == "__main__":
    main()
