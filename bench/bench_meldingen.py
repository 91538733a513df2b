"""Meldingen: latency from commit to receipt, and write throughput with 100 subscriptions vs none.

    python bench/bench_meldingen.py [--subscriptions 100] [--rate 50] [--seconds 15] [--concurrency 4]

Starts `vr serve` (on-disk store, temp dir) in a subprocess and a webhook receiver in this
process. Registers one vereniging in each of N gemeenten and gives every gemeente a webhook
subscription to all public melding types (a gemeente follows its own verenigingen).

1. Latency: changes at a steady `--rate` writes/s (PATCH korteNaam, round robin over the
   verenigingen, so each commit raises one melding for one subscriber); for each melding,
   receipt time at the receiver minus the commit time the register stamped on it; p50 and p95.
2. Throughput: the same changes as fast as `--concurrency` clients can send them, alternately
   with no subscription at all and with the N subscriptions active (`--rounds` each, fresh
   subscriptions every round so no backlog carries over); the ratio of the medians with/without.
   On a busy machine the rounds vary; the per-round rates are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.auth.keys import add_key  # noqa: E402
from bench.bench_writes import free_port, wait_until_up  # noqa: E402
from tests.conftest import valid_body  # noqa: E402


class Receiver:
    def __init__(self) -> None:
        self.receipts: dict[str, tuple[float, str]] = {}  # event id → (receipt time, published)
        self.lock = threading.Lock()
        receiver = self

        class Inbox(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.time()
                with receiver.lock:
                    receiver.receipts.setdefault(body["id"], (now, body["published"]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
        self.url = f"http://127.0.0.1:{self.server.server_port}/inbox"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def gemeenten(n: int) -> list[tuple[str, str, str]]:
    """n (postcode, gemeente code, name) in n different Flemish gemeenten."""
    seen, out = set(), []
    with (ROOT / "data" / "postcodes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["code"].startswith(("BE21", "BE22", "BE23", "BE24", "BE25")) and row["code"] not in seen:
                seen.add(row["code"])
                out.append((row["postcode"], row["code"], row["gemeente"]))
    return out[:n]


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def change(url: str, headers: dict, vcode: str, value: str) -> None:
    response = requests.patch(f"{url}/verenigingen/{vcode}", json={"korteNaam": value}, headers=headers)
    response.raise_for_status()


def subscribe(url: str, headers: dict, codes: list[str], inbox: str) -> list[str]:
    ids = []
    for code in codes:
        response = requests.post(url + "/meldingen/abonnementen", headers=headers,
                                 json={"gemeenten": [code], "kanaal": "webhook", "inbox": inbox})
        response.raise_for_status()
        ids.append(response.json()["id"])
    return ids


def unsubscribe(url: str, headers: dict, ids: list[str]) -> None:
    for sub in ids:
        requests.delete(f"{url}/meldingen/abonnementen/{sub}", headers=headers).raise_for_status()


def paced(url: str, headers: dict, vcodes: list[str], rate: float, seconds: float) -> int:
    start, sent = time.monotonic(), 0
    with ThreadPoolExecutor(8) as pool:
        while time.monotonic() - start < seconds:
            due = start + sent / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            pool.submit(change, url, headers, vcodes[sent % len(vcodes)], f"L{sent}")
            sent += 1
    return sent


def flat_out(url: str, headers: dict, vcodes: list[str], concurrency: int, seconds: float, tag: str) -> float:
    done = [0] * concurrency
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        i = index
        while time.monotonic() < stop:
            change(url, headers, vcodes[i % len(vcodes)], f"{tag}{i}")
            done[index] += 1
            i += concurrency

    start = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, range(concurrency)))
    return sum(done) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds without/with subscriptions")
    args = parser.parse_args()

    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "register"
        initiator = {"Authorization": "Bearer " + add_key(data / "keys.toml", "OVO000001", "Bench", ["initiator"])}
        reader = {"Authorization": "Bearer " + add_key(data / "keys.toml", "OVO000003", "Bench", ["lezer"])}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, VR_DATA_DIR=str(data), VR_BASE_URL=url, VR_MELDINGEN_LOKAAL="1")
        proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_until_up(url, proc)
            places = gemeenten(args.subscriptions)
            vcodes = []
            for i, (postcode, _, name) in enumerate(places):
                body = valid_body(naam=f"Benchvereniging {i}", werkingsgebieden=[])
                adres = {"straatnaam": "Markt", "huisnummer": str(i + 1), "postcode": postcode, "gemeente": name,
                         "land": "België"}
                body["locaties"] = [{"locatietype": "Activiteiten", "isPrimair": True, "adres": adres}]
                response = requests.post(url + "/verenigingen", json=body, headers=initiator)
                assert response.status_code == 201, response.text
                vcodes.append(response.json()["vCode"])
            codes = [code for _, code, _ in places]
            print(f"{len(vcodes)} verenigingen in {len(codes)} gemeenten; {len(codes)} webhook-abonnementen")

            subs = subscribe(url, reader, codes, receiver.url)
            before = set(receiver.receipts)
            started = time.time()
            sent = paced(url, initiator, vcodes, args.rate, args.seconds)
            deadline = time.monotonic() + 30
            while len(receiver.receipts) - len(before) < sent and time.monotonic() < deadline:
                time.sleep(0.1)
            latencies = sorted((t - epoch(published)) * 1000 for key, (t, published) in receiver.receipts.items()
                               if key not in before)
            fresh = [epoch(published) for key, (_, published) in receiver.receipts.items() if key not in before]
            achieved = len(fresh) / (max(fresh) - started) if fresh else 0.0
            print(f"latency commit → receipt, offered {args.rate:.0f} writes/s (committed {achieved:.1f}/s): "
                  f"{len(latencies)}/{sent} meldingen received; p50 {statistics.median(latencies):.1f} ms, "
                  f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.1f} ms")
            unsubscribe(url, reader, subs)

            rates: dict[str, list[float]] = {"none": [], "with": []}
            for round_ in range(args.rounds):
                rates["none"].append(flat_out(url, initiator, vcodes, args.concurrency, args.seconds, f"a{round_}"))
                subs = subscribe(url, reader, codes, receiver.url)
                rates["with"].append(flat_out(url, initiator, vcodes, args.concurrency, args.seconds, f"b{round_}"))
                unsubscribe(url, reader, subs)
            none, with_subs = statistics.median(rates["none"]), statistics.median(rates["with"])
            print(f"write throughput, {args.concurrency} clients: no subscriptions {none:.1f} writes/s, "
                  f"{len(codes)} subscriptions {with_subs:.1f} writes/s (rounds: {rates})")
            print(f"ratio with/without: {with_subs / none:.2f} (target ≥ 0.90)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
