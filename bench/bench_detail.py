"""Detail GETs of /doc/vereniging/{vCode}: throughput and p50 per format vs a raw in-process record lookup.

    python bench/bench_detail.py [--records 500] [--seconds 10] [--clients 8] [--workers N]

Registers the records through the bulk write path, then measures in the same run:
- raw: `RegisterStore.record` of random records in this process (the store read alone);
- over HTTP against `vr serve` (pass --workers when the CLI offers it): Turtle, JSON-LD and HTML
  of random records, by client processes on keep-alive connections, after one warm-up pass (versions
  are immutable, so each representation is rendered once and then served as bytes).
Prints req/s and p50 per format, each next to the raw lookup rate, and JSON-LD's cost relative to Turtle.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.domain.mapping import vereniging_iri  # noqa: E402
from app.register import Register  # noqa: E402
from app.store.audience import PUBLIC  # noqa: E402
from bench.bench_ldes import build, free_port, wait_until_up  # noqa: E402

FORMATS = {"Turtle": "text/turtle", "JSON-LD": "application/ld+json", "HTML": "text/html"}


def raw_rate(data_dir: Path, base: str, records: int, seconds: float) -> float:
    register = Register.open(Settings(data_dir=data_dir, base_url=base, shacl_workers=0))
    iris = [vereniging_iri(base, f"V{1001 + i:07d}") for i in range(records)]
    done, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        assert register.store.record(random.choice(iris), PUBLIC)
        done += 1
    rate = done / (time.perf_counter() - start)
    register.close()
    return rate


def client(port: int, accept: str, records: int, seconds: float, queue) -> None:
    """One client process: GETs on one keep-alive connection until the deadline; reports latencies."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    latencies, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        path = f"/doc/vereniging/V{1001 + random.randrange(records):07d}"
        start = time.perf_counter()
        connection.request("GET", path, headers={"Accept": accept})
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        latencies.append(time.perf_counter() - start)
    queue.put(latencies)


def load(port: int, accept: str, records: int, seconds: float, clients: int) -> tuple[float, float]:
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, accept, records, seconds, queue))
             for _ in range(clients)]
    for proc in procs:
        proc.start()
    latencies = [x for _ in procs for x in queue.get()]
    for proc in procs:
        proc.join()
    return len(latencies) / seconds, statistics.median(latencies) * 1000


def warm(port: int, accept: str, records: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(records):
        connection.request("GET", f"/doc/vereniging/V{1001 + i:07d}", headers={"Accept": accept})
        connection.getresponse().read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, help="server processes (when `vr serve --workers` exists)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base, data_dir = f"http://127.0.0.1:{port}", Path(tmp) / "register"
        build(data_dir, base, args.records, args.records)
        raw = raw_rate(data_dir, base, args.records, args.seconds)
        env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=base, VR_SHACL_WORKERS="0")
        command = [sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port)]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = {}
        try:
            wait_until_up(base)
            for name, accept in FORMATS.items():
                warm(port, accept, args.records)
                results[name] = load(port, accept, args.records, args.seconds, args.clients)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    print(f"raw in-process record lookup: {raw:8.0f} /s")
    for name, (rate, p50) in results.items():
        print(f"GET /doc {name:8s}: {rate:8.0f} req/s  p50 {p50:6.1f} ms  ({rate / raw:.0%} of raw lookups)")
    print(f"JSON-LD / Turtle throughput: {results['JSON-LD'][0] / results['Turtle'][0]:.2f}")


if __name__ == "__main__":
    main()
