"""Our /sparql endpoint vs `oxigraph serve` (PyPI package `oxigraph`) on the same data, in one run.

    python bench/bench_sparql.py [--copies 20] [--repeat 200] [--engine both|embedded|remote]

Embedded engine: loads the demo associations (times --copies, through the write path) into a
register, exports its public graph as N-Quads, loads those into `oxigraph serve`, and runs the
same queries over HTTP against both. Remote engine: the register writes into an `oxigraph serve`
and `vr serve --store-url` proxies /sparql to it; the peer is that very server's /query with the
same pinned dataset. Queries: a one-record DESCRIBE, a COUNT and a GROUP BY over every record,
each with the same text repeated and with a distinct text per request (no per-text cache helps).
Prints median latencies, the ratio, and the floor: a static page from our server, so the best any
answer through a Python web server plus the peer's own time can be (floor + peer) / peer.
The `oxigraph` CLI is a declared dependency (setup.cfg), so `pip install -e .` brings it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyoxigraph import RdfFormat, serialize  # noqa: E402

from app.config import Settings  # noqa: E402
from app.domain.parse import parse_registration  # noqa: E402
from app.domain.versions import Initiator, Provenance  # noqa: E402
from app.namespaces import GRAPH_CODELISTS, GRAPH_PUBLIC  # noqa: E402
from app.publication.sparql import EXAMPLES  # noqa: E402
from app.register import Register  # noqa: E402

OXIGRAPH = str(Path(sys.executable).parent / "oxigraph") if (Path(sys.executable).parent / "oxigraph").exists() \
    else "oxigraph"


def port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait(url: str) -> None:
    for _ in range(200):
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError(url)


def timed(url: str, query: str, accept: str, repeat: int, dataset: dict | None = None,
          distinct: bool = False) -> float:
    """Median ms of `repeat` GETs on one keep-alive connection; `distinct`: every query text differs
    (a numbered comment), so no per-text cache anywhere can answer it."""
    session = requests.Session()
    samples = []
    for i in range(repeat):
        text = f"{query}\n# {time.time_ns()}-{i}" if distinct else query
        start = time.perf_counter()
        response = session.get(url, params={"query": text, **(dataset or {})}, headers={"Accept": accept})
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(samples) * 1000


def floor(url: str, repeat: int) -> float:
    """Median ms of a static page from our own server: what any answer through it costs at least."""
    session = requests.Session()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        assert session.get(url).status_code == 200
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def fill(settings: Settings, copies: int) -> int:
    """Register the demo associations `copies` times through the write path; returns how many."""
    register = Register.open(settings)
    demo = json.loads((ROOT / "data/demo/verenigingen.json").read_text(encoding="utf-8"))
    prov = Provenance("registratie", Initiator("OVO000001", "Benchmark"))
    for i in range(copies * len(demo)):
        body = copy.deepcopy(demo[i % len(demo)])
        body["naam"] = f"{body['naam']} {i}"
        for locatie in body["locaties"]:
            locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}", land="Nederland")
        register.handler.register(parse_registration(body), prov)
    if not settings.store_url:
        quads = [q for graph in (GRAPH_PUBLIC, GRAPH_CODELISTS) for q in register.store.graph_quads(graph)]
        (settings.data_dir.parent / "public.nq").write_bytes(serialize(quads, format=RdfFormat.N_QUADS))
    register.close()
    return copies * len(demo)


def compare(base: str, peer: str, repeat: int, dataset: dict | None) -> None:
    queries = {
        "DESCRIBE one record": (f"DESCRIBE <{base}/id/vereniging/V0001001>", "text/turtle"),
        "COUNT verenigingen": ("SELECT (COUNT(?v) AS ?n) WHERE { ?v a "
                               "<https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }",
                               "application/sparql-results+json"),
        "GROUP BY gemeente": (EXAMPLES[2][1], "application/sparql-results+json"),
    }
    static = floor(base + "/.well-known/security.txt", repeat)
    print(f"  floor: a static page from our server {static:.2f} ms")
    for name, (query, accept) in queries.items():
        timed(base + "/sparql", query, accept, 5)  # warm up (workers open the store)
        for distinct in (False, True):
            ours_ms = timed(base + "/sparql", query, accept, repeat, distinct=distinct)
            oxi_ms = timed(peer, query, accept, repeat, dataset, distinct=distinct)
            label = f"{name} ({'distinct texts' if distinct else 'same text'})"
            print(f"  {label:38}: ours {ours_ms:7.2f} ms   oxigraph serve {oxi_ms:7.2f} ms   "
                  f"ratio {ours_ms / oxi_ms:.2f}x   (+{ours_ms - oxi_ms:.2f} ms; floor + peer = "
                  f"{(static + oxi_ms) / oxi_ms:.2f}x)")


def run(engine: str, copies: int, repeat: int, work: Path) -> None:
    ours_port, oxi_port = port(), port()
    base = f"http://127.0.0.1:{ours_port}"
    oxi_url = f"http://127.0.0.1:{oxi_port}"
    settings = Settings(data_dir=work / "register", base_url=base, shacl_workers=2,
                        store_url=oxi_url if engine == "remote" else None)
    oxi_args = ["serve", "--location", str(work / "oxi"), "--bind", f"127.0.0.1:{oxi_port}"]
    oxi = None
    if engine == "remote":
        oxi = subprocess.Popen([OXIGRAPH, *oxi_args, "--timeout-s", "30"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        wait(f"{oxi_url}/query?query=ASK%7B%7D")
    count = fill(settings, copies)
    if engine == "embedded":
        subprocess.run([OXIGRAPH, "load", "--location", str(work / "oxi"), "--file", str(work / "public.nq")],
                       check=True, capture_output=True)
        oxi = subprocess.Popen([OXIGRAPH, *oxi_args, "--union-default-graph"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    # one client, hundreds of queries in a row: no per-client rate limit for the measurement
    env = dict(os.environ, VR_DATA_DIR=str(work / "register"), VR_BASE_URL=base, VR_SPARQL_RATE_LIMIT="",
               VR_SECURITY_CONTACT="mailto:bench@example.org")  # the floor page
    env.pop("VR_STORE_URL", None)
    command = [sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(ours_port)]
    if engine == "remote":
        command += ["--store-url", oxi_url]
    ours = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(f"{oxi_url}/query?query=ASK%7B%7D")
        wait(base + "/void")
        print(f"{engine} engine: {count} verenigingen; median of {repeat}")
        dataset = {"default-graph-uri": [GRAPH_PUBLIC, GRAPH_CODELISTS]} if engine == "remote" else None
        compare(base, f"{oxi_url}/query", repeat, dataset)
    finally:
        for process in (ours, oxi):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--engine", choices=["both", "embedded", "remote"], default="both")
    args = parser.parse_args()
    for engine in (["embedded", "remote"] if args.engine == "both" else [args.engine]):
        with tempfile.TemporaryDirectory() as tmp:
            run(engine, args.copies, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
