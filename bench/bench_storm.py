"""A storm of heavy SPARQL queries against a running register: do the other pages stay fast?

    python bench/bench_storm.py [--queries 20] [--timeout 4]

Starts `vr serve` (demo data) in a temporary directory, measures GET /doc/vereniging/… latency alone,
then while N cartesian-product COUNT queries hit /sparql at once, and prints both with their ratio,
plus what the heavy queries got (status, time).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def latencies(url: str, until) -> list[float]:
    out = []
    while not until(len(out)):
        started = time.perf_counter()
        requests.get(url, headers={"Accept": "text/turtle"}, timeout=60).raise_for_status()
        out.append(time.perf_counter() - started)
    return out


def summary(values: list[float]) -> str:
    return (f"n={len(values)} median {statistics.median(values) * 1000:.0f} ms, "
            f"p95 {statistics.quantiles(values, n=20)[-1] * 1000:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, VR_DATA_DIR=work, VR_SPARQL_TIMEOUT=str(args.timeout))
        server = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    requests.get(base + "/void", timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.5)
            page = base + "/doc/vereniging/V0001001"
            requests.get(base + "/sparql", params={"query": "ASK {}"}, timeout=30)  # start the query workers
            alone = latencies(page, lambda n: n >= 60)
            results: list = []

            def heavy() -> None:
                started = time.perf_counter()
                response = requests.get(base + "/sparql", params={"query": HEAVY}, timeout=120)
                results.append((response.status_code, time.perf_counter() - started))

            threads = [threading.Thread(target=heavy) for _ in range(args.queries)]
            for thread in threads:
                thread.start()
            storm = latencies(page, lambda n: n >= 10 and not any(t.is_alive() for t in threads))
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"GET /doc alone:            {summary(alone)}")
    print(f"GET /doc during the storm: {summary(storm)}")
    print(f"ratio storm/alone: median {statistics.median(storm) / statistics.median(alone):.1f}x, "
          f"p95 {statistics.quantiles(storm, n=20)[-1] / statistics.quantiles(alone, n=20)[-1]:.1f}x")
    by_status: dict[int, list[float]] = {}
    for status, elapsed in results:
        by_status.setdefault(status, []).append(elapsed)
    for status, times in sorted(by_status.items()):
        print(f"{len(times)} heavy queries answered {status} after {min(times):.2f}–{max(times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
