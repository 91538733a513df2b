"""LDES replication: the npm ldes-client against our server vs reading the same members from the store.

    python bench/bench_ldes.py [--members 100000] [--workers 2]

Builds a register with N registrations through the one write path (so N members), serves it
with waitress, replicates the whole public stream with `ldes-client`, and — in the same run —
reads the same N members straight from the store (the pages' own lookups, no HTTP). Prints both
rates, their ratio and the projected time for 100,000 members.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import NamedNode  # noqa: E402

from app.config import Settings  # noqa: E402
from app.domain.parse import parse_registration  # noqa: E402
from app.domain.versions import Initiator, Provenance, sequence_key  # noqa: E402
from app.namespaces import GRAPH_SYSTEM, GRAPH_VERSIONS_PUBLIC, VRX  # noqa: E402
from app.register import Register  # noqa: E402

CLIENT = ROOT / ".ldes-client" / "node_modules" / ".bin" / "ldes-client"


def build(data_dir: Path, base: str, count: int, workers: int) -> None:
    demo = json.loads((ROOT / "data" / "demo" / "verenigingen.json").read_text(encoding="utf-8"))
    register = Register.open(Settings(data_dir=data_dir, base_url=base, shacl_workers=workers))
    prov = Provenance("registratie", Initiator("OVO000001", "Benchmark"))

    def one(i: int) -> None:
        body = copy.deepcopy(demo[i % len(demo)])
        body["naam"] = f"{body['naam']} {i}"
        for locatie in body["locaties"]:
            locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}")
        register.handler.register(parse_registration(body), prov)

    with ThreadPoolExecutor(2 * workers) as pool:
        list(pool.map(one, range(count)))
    register.close()


def read_raw(data_dir: Path, count: int) -> float:
    from pyoxigraph import Store

    store = Store.read_only(str(data_dir / "oxigraph"))
    start = time.perf_counter()
    triples = 0
    for sequence in range(1, count + 1):
        version = next(store.quads_for_pattern(sequence_key(sequence), NamedNode(VRX + "versie"), None,
                                               NamedNode(GRAPH_SYSTEM))).object
        prefix = version.value + "/"
        todo = [version]
        while todo:
            subject = todo.pop()
            for quad in store.quads_for_pattern(subject, None, None, NamedNode(GRAPH_VERSIONS_PUBLIC)):
                triples += 1
                if isinstance(quad.object, NamedNode) and quad.object.value.startswith(prefix):
                    todo.append(quad.object)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(cache: Path | None, tmp: str, members: int, workers: int) -> tuple[Path, str]:
    """A store with `members` versions: built now, or reused from --cache (IRIs embed the port, so it is kept)."""
    data_dir = (cache / f"register-{members}") if cache else Path(tmp) / "register"
    port_file = data_dir / "bench-port"
    if cache and port_file.exists():
        port = int(port_file.read_text())
        print(f"reusing {members} members built earlier in {data_dir}")
        return data_dir, f"http://127.0.0.1:{port}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    build(data_dir, base, members, workers)
    print(f"built {members} members through the write path in {time.perf_counter() - start:.0f} s")
    port_file.write_text(str(port))
    return data_dir, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="keep (and reuse) the built store under this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, base = prepare(args.cache, tmp, args.members, args.workers)
        raw_s = read_raw(data_dir, args.members)
        env = dict(os.environ, VR_DATA_DIR=str(data_dir), VR_BASE_URL=base, VR_SHACL_WORKERS="0")
        server = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--no-demo",
                                   "--port", base.rsplit(":", 1)[1]],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until_up(base)
            start = time.perf_counter()
            done = subprocess.run([str(CLIENT), base + "/ldes/verenigingen"], capture_output=True, text=True)
            client_s = time.perf_counter() - start
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        emitted = done.stdout.count("<http://purl.org/dc/terms/isVersionOf>")
    assert done.returncode == 0 and emitted == args.members, (done.returncode, emitted, done.stderr[-500:])
    rate, raw_rate = args.members / client_s, args.members / raw_s
    print(f"ldes-client replication : {args.members} members in {client_s:.1f} s = {rate:8.0f} members/s")
    print(f"raw store reads         : {args.members} members in {raw_s:.1f} s = {raw_rate:8.0f} members/s")
    print(f"ratio client/raw        : {rate / raw_rate:.1%}; projected 100,000 members: {100_000 / rate:.0f} s")


def wait_until_up(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/ldes", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {base} did not come up")


if __name__ == "__main__":
    main()
