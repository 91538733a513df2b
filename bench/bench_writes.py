"""Validated writes over HTTP vs raw single-record Oxigraph transactions, measured in one run.

    python bench/bench_writes.py [--n 2000] [--concurrency 4]

1. Starts the register (waitress, on-disk store in a temp dir) in a subprocess and registers N
   associations through POST /verenigingen from C client threads: parse, rules, SHACL, one
   transaction with version + provenance.
2. Writes the same N records (the very quads the register wrote) into a fresh on-disk store as
   N single-record `Store.extend` transactions: the raw cost of storing them.
Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from pyoxigraph import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.auth.keys import add_key  # noqa: E402


def bodies(n: int, source: Path) -> list[dict]:
    demo = json.loads(source.read_text(encoding="utf-8"))
    out = []
    for i in range(n):
        body = copy.deepcopy(demo[i % len(demo)])
        body["naam"] = f"{body['naam']} {i}"
        # Each copy in its own (fictional) place, so duplicate detection runs but finds nothing to refuse.
        for locatie in body.get("locaties", []):
            if "adres" in locatie:
                locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}")
        out.append(body)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            requests.get(url + "/contexten/vereniging.jsonld", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise TimeoutError("server did not start")


def http_writes(data: list[dict], concurrency: int, workdir: Path) -> tuple[float, Path]:
    data_dir = workdir / "register"
    key = add_key(data_dir / "keys.toml", "OVO000001", "Benchmark", ["initiator"])
    port = free_port()
    env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port),
                             "--threads", str(max(4, concurrency))], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        payloads = [json.dumps(body).encode() for body in data]
        sessions = [requests.Session() for _ in range(concurrency)]

        def send(i: int) -> int:
            return sessions[i % concurrency].post(url + "/verenigingen", data=payloads[i], headers=headers).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(send, range(len(payloads))))
        elapsed = time.perf_counter() - start
        bad = [s for s in statuses if s != 201]
        if bad:
            raise RuntimeError(f"{len(bad)} writes failed, e.g. status {bad[0]}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return elapsed, data_dir / "oxigraph"


def raw_writes(store_dir: Path, workdir: Path) -> tuple[float, int]:
    """Replay the register's own records as single-record transactions into a fresh store."""
    source = Store.read_only(str(store_dir))
    records: dict[str, list] = {}
    for quad in source:
        subject = quad.subject.value
        if "/id/vereniging/" in subject:
            vcode = subject.split("/id/vereniging/", 1)[1][:8]
            records.setdefault(vcode, []).append(quad)
    target = Store(str(workdir / "raw"))
    batches = list(records.values())
    start = time.perf_counter()
    for quads in batches:
        target.extend(quads)
    target.flush()
    return time.perf_counter() - start, len(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--bodies", type=Path, default=ROOT / "data" / "demo" / "verenigingen.json",
                        help="JSON array of registration bodies to cycle through")
    args = parser.parse_args()
    data = bodies(args.n, args.bodies)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        http_s, store_dir = http_writes(data, args.concurrency, workdir)
        raw_s, count = raw_writes(store_dir, workdir)
    assert count == args.n, (count, args.n)
    http_rate, raw_rate = args.n / http_s, count / raw_s
    print(f"validated writes over HTTP : {args.n} in {http_s:.2f} s = {http_rate:8.1f} writes/s "
          f"(concurrency {args.concurrency})")
    print(f"raw Oxigraph transactions  : {count} in {raw_s:.2f} s = {raw_rate:8.1f} tx/s (same quads, one per record)")
    print(f"ratio validated/raw        : {http_rate / raw_rate:.1%}")


if __name__ == "__main__":
    main()
