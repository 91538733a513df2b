"""Detail GETs of /doc/vereniging/{vCode}: throughput and p50 per format vs a raw in-process record lookup.

    python bench/bench_detail.py [--records 500] [--seconds 10] [--clients 8] [--workers N] [--engine E]

Registers the records through the bulk write path, then measures in the same run:
- raw: `RegisterStore.record` of random records in this process (the store read alone, on the
  engine the server uses);
- over HTTP against `vr serve` (`--workers N`: N gunicorn processes): Turtle, JSON-LD and HTML
  of random records, by client processes on keep-alive connections, after one warm-up pass (versions
  are immutable, so each representation is rendered once and then served as bytes).
Engine: embedded (one process only), or remote (the default with --workers: the records are loaded
into an `oxigraph serve` that every server process and the raw lookup share).
Prints req/s and p50 per format, each next to the raw lookup rate, and JSON-LD's cost relative to Turtle.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import shutil
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


OXIGRAPH = str(Path(sys.executable).parent / "oxigraph") if (Path(sys.executable).parent / "oxigraph").exists() \
    else "oxigraph"


def raw_rate(data_dir: Path, base: str, records: int, seconds: float, store_url: str | None) -> float:
    register = Register.open(Settings(data_dir=data_dir, base_url=base, shacl_workers=0, store_url=store_url))
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


def remote_store(data_dir: Path, base: str) -> tuple[subprocess.Popen, str]:
    """Move the built register into a fresh `oxigraph serve`: its data dir keeps the other files."""
    register = Register.open(Settings(data_dir=data_dir, base_url=base, shacl_workers=0))
    dump = data_dir.parent / "register.nq"
    dump.write_bytes(register.store.dump_nquads())
    register.close()
    shutil.rmtree(data_dir / "oxigraph")
    location, port = data_dir.parent / "oxigraph-server", free_port()
    subprocess.run([OXIGRAPH, "load", "--location", str(location), "--file", str(dump)], check=True,
                   capture_output=True)
    server = subprocess.Popen([OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return server, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("oxigraph serve did not start")


def warm_all(port: int, accept: str, records: int, clients: int) -> None:
    """Every client connection walks every record once, in parallel: the connections spread over the
    server processes, so each process renders (and keeps) each representation before the measurement."""
    procs = [multiprocessing.Process(target=warm, args=(port, accept, records)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, help="server processes (gunicorn; needs the remote engine)")
    parser.add_argument("--engine", choices=["embedded", "remote"], help="default: remote with --workers")
    args = parser.parse_args()
    engine = args.engine or ("remote" if args.workers else "embedded")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base, data_dir = f"http://127.0.0.1:{port}", Path(tmp) / "register"
        build(data_dir, base, args.records, args.records)
        store, store_url = remote_store(data_dir, base) if engine == "remote" else (None, None)
        try:
            raw = raw_rate(data_dir, base, args.records, args.seconds, store_url)
            results = serve_and_measure(args, data_dir, base, port, store_url)
        finally:
            if store is not None:
                store.terminate()
                store.wait(timeout=60)
    print(f"engine {engine}, {args.workers or 1} server process(es), {args.clients} clients, load {os.getloadavg()}")
    print(f"raw in-process record lookup: {raw:8.0f} /s")
    for name, (rate, p50) in results.items():
        print(f"GET /doc {name:8s}: {rate:8.0f} req/s  p50 {p50:6.1f} ms  ({rate / raw:.0%} of raw lookups)")
    print(f"JSON-LD / Turtle throughput: {results['JSON-LD'][0] / results['Turtle'][0]:.2f}")


def serve_and_measure(args, data_dir: Path, base: str, port: int, store_url: str | None) -> dict:
    env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=base, VR_SHACL_WORKERS="0")
    env.pop("VR_STORE_URL", None)
    command = [sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port)]
    if store_url:
        command += ["--store-url", store_url]
    if args.workers:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        wait_until_up(base)
        for accept in FORMATS.values():
            warm_all(port, accept, args.records, args.clients)
        load(port, FORMATS["Turtle"], args.records, 2, args.clients)  # settle: the first measured format is not special
        for name, accept in FORMATS.items():
            results[name] = load(port, accept, args.records, args.seconds, args.clients)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return results


if __name__ == "__main__":
    main()
