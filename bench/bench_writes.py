"""Validated writes over HTTP on both store engines vs raw transactions of the same quads, in one run.

    python bench/bench_writes.py [--n 1000] [--concurrency 8] [--workers 1 2 4]

1. Embedded engine: starts `vr serve` (on-disk store in a temp dir) and registers N associations
   through POST /verenigingen from C client threads: parse, rules, SHACL, one transaction with
   version + provenance (concurrent requests share one transaction: group commit).
2. Remote engine: for each worker count W, a fresh `oxigraph serve` and `vr serve --workers W
   --store-url …`, the same N registrations.
3. Raw: the very quads the register wrote, as N single-record transactions: `Store.extend` into a
   fresh on-disk store (embedded), and one `INSERT DATA` request per record to a fresh `oxigraph
   serve` (remote); and embedded once more with C records to a transaction (what group commit
   asks of the store at best), to show the store's work per record does not shrink in a group.
Prints every rate and the ratios (W processes vs 1 process; validated vs raw), and the CPU time per
write of every process involved (app, its SHACL workers, the store server; Linux /proc) next to the
raw CPU per record: the ceiling two cores put on each setup.
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

import pyoxigraph
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
                locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}", land="Nederland")
        out.append(body)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            requests.get(url + "/contexten/vereniging.jsonld", timeout=10)
            return
        except requests.RequestException:  # not listening yet, or a worker still opening the register
            time.sleep(0.2)
    raise TimeoutError("server did not start")


def start_store_server(location: Path) -> tuple[subprocess.Popen, str]:
    location.mkdir(parents=True, exist_ok=True)
    port = free_port()
    binary = Path(sys.executable).parent / "oxigraph"
    proc = subprocess.Popen([str(binary) if binary.exists() else "oxigraph", "serve", "--location", str(location),
                             "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            requests.get(url + "/query", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError("oxigraph serve did not start")


def tree_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of these processes and their descendants, by pid (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    out, todo = {}, list(pids)
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = [c for task in Path(f"/proc/{pid}/task").iterdir()
                        for c in (task / "children").read_text().split()]  # any thread may have started them
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
        todo += [int(child) for child in children]
    return out


def http_writes(data: list[dict], concurrency: int, workdir: Path, store_url: str | None = None,
                workers: int = 0, store_pid: int | None = None) -> tuple[float, float]:
    """Seconds for the registrations, and CPU seconds all server processes spent on them."""
    data_dir = workdir / "register"
    key = add_key(data_dir / "keys.toml", "OVO000001", "Benchmark", ["initiator"])
    port = free_port()
    env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=f"http://127.0.0.1:{port}")
    env.pop("VR_STORE_URL", None)
    command = [sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port),
               "--threads", str(max(4, concurrency))]
    if store_url:
        command += ["--store-url", store_url, "--workers", str(workers)]
    # the server's log goes to a file: a pipe nobody reads blocks the server once 64 KB of log fill it
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        payloads = [json.dumps(body).encode() for body in data]
        sessions = [requests.Session() for _ in range(concurrency)]
        for session in sessions:  # every worker warm (SHACL shapes compiled) before the clock starts
            session.get(url + "/api/zoeken", timeout=60)

        def send(i: int) -> int:
            return sessions[i % concurrency].post(url + "/verenigingen", data=payloads[i], headers=headers).status_code

        servers = [proc.pid] + ([store_pid] if store_pid else [])
        before = tree_cpu(servers)
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(send, range(len(payloads))))
        elapsed = time.perf_counter() - start
        after = tree_cpu(servers)
        cpu = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
        bad = [s for s in statuses if s != 201]
        if bad:
            raise RuntimeError(f"{len(bad)} writes failed, e.g. status {bad[0]}")
    except BaseException:
        print(f"--- the server's log ({log_path}), last lines:", file=sys.stderr)
        print("\n".join(log_path.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return elapsed, cpu


def records(nquads: bytes) -> list[list[pyoxigraph.Quad]]:
    """The register's quads grouped per vereniging (state, version, system entries)."""
    grouped: dict[str, list] = {}
    for quad in pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS):
        subject = quad.subject.value
        if "/id/vereniging/" in subject:
            grouped.setdefault(subject.split("/id/vereniging/", 1)[1][:8], []).append(quad)
    return list(grouped.values())


def raw_embedded(batches: list[list], workdir: Path, group: int = 1) -> tuple[float, float]:
    """`Store.extend` transactions of `group` records each into a fresh on-disk store: seconds and CPU seconds.

    With group > 1 this is what a group commit asks of the store: it shows whether one transaction for
    several records makes the store's work per record smaller (it does not: the quads are the cost)."""
    target = Store(str(workdir / f"raw{group}"))
    chunks = [[quad for quads in batches[i:i + group] for quad in quads] for i in range(0, len(batches), group)]
    start, cpu = time.perf_counter(), time.process_time()
    for quads in chunks:
        target.extend(quads)
    target.flush()
    return time.perf_counter() - start, time.process_time() - cpu


def raw_remote(batches: list[list], workdir: Path) -> tuple[float, float]:
    """One `INSERT DATA` request per record to a fresh `oxigraph serve`: seconds and CPU seconds (both sides)."""
    from app.store.base import data_block

    proc, url = start_store_server(workdir / "raw-server")
    session = requests.Session()
    updates = [f"INSERT DATA {{ {data_block(quads)} }}".encode() for quads in batches]
    try:
        before, cpu = tree_cpu([proc.pid]), time.process_time()
        start = time.perf_counter()
        for update in updates:
            session.post(url + "/update", data=update, headers={"Content-Type": "application/sparql-update"})
        elapsed = time.perf_counter() - start
        server = sum(seconds - before.get(pid, 0.0) for pid, seconds in tree_cpu([proc.pid]).items())
        return elapsed, server + time.process_time() - cpu
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def dump_embedded(workdir: Path) -> bytes:
    source = Store.read_only(str(workdir / "register" / "oxigraph"))
    return pyoxigraph.serialize(source, format=pyoxigraph.RdfFormat.N_QUADS)


def dump_remote(url: str) -> bytes:
    from app.store.remote import RemoteStore

    return RemoteStore(url).dump_nquads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--bodies", type=Path, default=ROOT / "data" / "demo" / "verenigingen.json",
                        help="JSON array of registration bodies to cycle through")
    args = parser.parse_args()
    data = bodies(args.n, args.bodies)
    rates: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU milliseconds per write or record

    def note(name: str, count: int, seconds: float, cpu_seconds: float) -> None:
        rates[name], cpu[name] = count / seconds, cpu_seconds / count * 1000

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "embedded"
        note("embedded", args.n, *http_writes(data, args.concurrency, workdir))
        batches = records(dump_embedded(workdir))
        assert len(batches) == args.n, (len(batches), args.n)
        note("raw embedded", len(batches), *raw_embedded(batches, workdir))
        note(f"raw emb. x{args.concurrency}", len(batches), *raw_embedded(batches, workdir, args.concurrency))
        for workers in args.workers:
            workdir = Path(tmp) / f"remote{workers}"
            proc, url = start_store_server(workdir / "server")
            try:
                note(f"remote {workers}", args.n,
                     *http_writes(data, args.concurrency, workdir, url, workers, store_pid=proc.pid))
                if workers == args.workers[0]:
                    remote_batches = records(dump_remote(url))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        note("raw remote", len(remote_batches), *raw_remote(remote_batches, Path(tmp)))
    print(f"{args.n} validated registrations over HTTP, {args.concurrency} client threads; raw = the same quads, "
          "one transaction per record, one client")
    print(f"  {'':<14}   {'rate':>8}   {'CPU/write':>9}   {'2 cores allow':>13}")
    for name, rate in rates.items():
        print(f"  {name:<14}: {rate:8.1f}/s {cpu[name]:8.2f} ms {2000 / cpu[name]:11.0f}/s")
    print("  (CPU: every process of the setup: app and its SHACL workers, store server; raw: client and server;")
    print(f"   raw emb. x{args.concurrency}: the same records {args.concurrency} to a transaction, the largest group "
          "the clients can form)")
    first = f"remote {args.workers[0]}"
    for workers in args.workers[1:]:
        print(f"ratio remote {workers} processes / {args.workers[0]}: {rates[f'remote {workers}'] / rates[first]:.2f}x")
    print(f"ratio embedded / raw embedded : {rates['embedded'] / rates['raw embedded']:.2f}x")
    grouped = f"raw emb. x{args.concurrency}"
    print(f"store CPU per record, {args.concurrency} a transaction / 1: {cpu[grouped] / cpu['raw embedded']:.2f}x")
    last = f"remote {args.workers[-1]}"
    print(f"ratio {last} / raw remote    : {rates[last] / rates['raw remote']:.2f}x")


if __name__ == "__main__":
    main()
