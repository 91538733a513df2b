"""Our /sparql endpoint vs `oxigraph serve` (PyPI package `oxigraph`) on the same data, in one run.

    python bench/bench_sparql.py [--copies 20] [--repeat 200]

Loads the demo associations (times --copies, through the write path) into a register, exports
its public graph as N-Quads, loads those into `oxigraph serve`, and runs the same queries over
HTTP against both: a one-record DESCRIBE and a COUNT. Prints median latencies and the ratio.
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
from app.register import Register  # noqa: E402


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


def timed(url: str, query: str, accept: str, repeat: int) -> float:
    session = requests.Session()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = session.get(url, params={"query": query}, headers={"Accept": accept})
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    ours_port, oxi_port = port(), port()
    base = f"http://127.0.0.1:{ours_port}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        register = Register.open(Settings(data_dir=work / "register", base_url=base, shacl_workers=2))
        demo = json.loads((ROOT / "data/demo/verenigingen.json").read_text(encoding="utf-8"))
        prov = Provenance("registratie", Initiator("OVO000001", "Benchmark"))
        for i in range(args.copies * len(demo)):
            body = copy.deepcopy(demo[i % len(demo)])
            body["naam"] = f"{body['naam']} {i}"
            for locatie in body["locaties"]:
                locatie["adres"].update(postcode=f"{10000 + i}", gemeente=f"Benchgem {i}")
            register.handler.register(parse_registration(body), prov)
        quads = [q for graph in (GRAPH_PUBLIC, GRAPH_CODELISTS) for q in register.store.graph_quads(graph)]
        (work / "public.nq").write_bytes(serialize(quads, format=RdfFormat.N_QUADS))
        register.close()
        del register
        subprocess.run(["oxigraph", "load", "--location", str(work / "oxi"), "--file", str(work / "public.nq")],
                       check=True, capture_output=True)
        oxi = subprocess.Popen(["oxigraph", "serve", "--location", str(work / "oxi"), "--bind",
                                f"127.0.0.1:{oxi_port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # one client, hundreds of queries in a row: no per-client rate limit for the measurement
        env = dict(os.environ, VR_DATA_DIR=str(work / "register"), VR_BASE_URL=base, VR_SPARQL_RATE_LIMIT="")
        ours = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(ours_port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait(f"http://127.0.0.1:{oxi_port}/query?query=ASK%7B%7D")
            wait(base + "/void")
            queries = {
                "DESCRIBE one record": (f"DESCRIBE <{base}/id/vereniging/V0001001>", "text/turtle"),
                "COUNT verenigingen": ("SELECT (COUNT(?v) AS ?n) WHERE { ?v a "
                                       "<https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }",
                                       "application/sparql-results+json"),
            }
            print(f"{args.copies * len(demo)} verenigingen, {len(quads)} public quads; median of {args.repeat}")
            for name, (query, accept) in queries.items():
                timed(base + "/sparql", query, accept, 5)  # warm up (workers open the store)
                ours_ms = timed(base + "/sparql", query, accept, args.repeat)
                oxi_ms = timed(f"http://127.0.0.1:{oxi_port}/query", query, accept, args.repeat)
                print(f"{name:22}: ours {ours_ms:7.2f} ms   oxigraph serve {oxi_ms:7.2f} ms   "
                      f"ratio {ours_ms / oxi_ms:.2f}x")
        finally:
            for process in (ours, oxi):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)


if __name__ == "__main__":
    main()
