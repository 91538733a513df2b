"""Meldingen: latency from commit to receipt, and write throughput with 100 subscriptions vs none.

    python bench/bench_meldingen.py [--subscriptions 100] [--rate 50] [--seconds 15] [--concurrency 4]
                                    [--rounds 5] [--warmup 20]

Starts `vr serve` (on-disk store, temp dir) in a subprocess and a webhook receiver in another
(a subscriber's server is not the bench's clients: it must not take their interpreter lock).
Registers one vereniging in each of N gemeenten and gives every gemeente a webhook subscription
to all public melding types (a gemeente follows its own verenigingen).

1. Latency: changes at a steady `--rate` writes/s (PATCH korteNaam, round robin over the
   verenigingen, so each commit raises one melding for one subscriber); for each melding,
   receipt time at the receiver minus the commit time the register stamped on it; p50 and p95.
2. Throughput: the same changes as fast as `--concurrency` clients can send them, alternately
   with no subscription at all and with the N subscriptions active (`--rounds` pairs in A B B A
   order, fresh subscriptions every round so no backlog carries over); the ratio of the medians
   with/without and the median of the paired ratios.
   Before the rounds, `--warmup` seconds of the same writes without subscriptions, not counted: the first
   few thousand writes into a fresh store run ≈ 15 % faster than the ones after, which made the first
   round (always one without subscriptions) an outlier that favoured "none".
   On a busy machine the rounds vary; each round prints its rate, the register's CPU per write and what
   the machine did meanwhile (idle and steal share of both cores from /proc/stat, the receiver's CPU):
   on a shared 2-core VM the host took up to 18 % of the CPU in some rounds (steal), which moved a
   round's rate by up to ±30 %. Five A B B A rounds by default, so the medians rest on more than one
   unlucky round.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
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
from bench.bench_writes import free_port, tree_cpu, wait_until_up  # noqa: E402
from tests.conftest import valid_body  # noqa: E402


def _serve_inbox(port: int, log_path: str) -> None:
    """The receiving server, in a process of its own (as a subscriber's server would be): its work does not
    take the bench clients' interpreter lock. Each receipt is one line: event id, receipt time, published."""
    log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the process's lifetime)
    lock = threading.Lock()

    class Inbox(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            now = time.time()
            with lock:
                log.write(f"{body['id']}\t{now}\t{body['published']}\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Inbox).serve_forever()


class Receiver:
    def __init__(self, folder: Path) -> None:
        self.log = folder / "ontvangen.tsv"
        self.log.touch()
        port = free_port()
        self.process = multiprocessing.get_context("spawn").Process(target=_serve_inbox, args=(port, str(self.log)),
                                                                    daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{port}/inbox"
        for _ in range(100):
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)

    @property
    def receipts(self) -> dict[str, tuple[float, str]]:
        """event id → (first receipt time, published)."""
        found: dict[str, tuple[float, str]] = {}
        for line in self.log.read_text(encoding="utf-8").splitlines():
            key, at, published = line.split("\t")
            found.setdefault(key, (float(at), published))
        return found

    def close(self) -> None:
        self.process.terminate()


def machine() -> list[int]:
    """The machine's CPU time by kind since boot (/proc/stat: user nice system idle iowait irq softirq steal)."""
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]


def busy(before: list[int], after: list[int]) -> str:
    """Idle and steal (CPU the host gave to others) as shares of the machine's time in between."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    return f"idle {100 * (spent[3] + spent[4]) / total:.0f} %, steal {100 * spent[7] / total:.0f} %"


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
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds without/with subscriptions")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of writes before the rounds (not counted)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        receiver = Receiver(Path(tmp))
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

            warm = flat_out(url, initiator, vcodes, args.concurrency, args.warmup, "w") if args.warmup else 0.0
            print(f"warm-up: {args.warmup:.0f} s at {warm:.1f} writes/s without subscriptions (not counted)")
            rates: dict[str, list[float]] = {"none": [], "with": []}
            cpu: dict[str, list[float]] = {"none": [], "with": []}  # the register's CPU ms per write
            own: dict[str, list[float]] = {"none": [], "with": []}  # of that, the process that serves the writes
            for round_ in range(args.rounds):  # A B B A: a machine that slows down or speeds up favours neither
                for kind in (("none", "with") if round_ % 2 == 0 else ("with", "none")):
                    subs = subscribe(url, reader, codes, receiver.url) if kind == "with" else []
                    before_tree, started_round = tree_cpu([proc.pid]), time.monotonic()
                    before_machine, before_receiver = machine(), sum(tree_cpu([receiver.process.pid]).values())
                    rate = flat_out(url, initiator, vcodes, args.concurrency, args.seconds, f"{kind[0]}{round_}")
                    time.sleep(0.5)  # deliveries of the last writes
                    writes = rate * (time.monotonic() - started_round - 0.5)
                    after_tree = tree_cpu([proc.pid])
                    cpu[kind].append((sum(after_tree.values()) - sum(before_tree.values())) * 1000 / writes)
                    own[kind].append((after_tree[proc.pid] - before_tree[proc.pid]) * 1000 / writes)
                    rates[kind].append(rate)
                    receiving = sum(tree_cpu([receiver.process.pid]).values()) - before_receiver
                    print(f"  round {round_ + 1} {kind:>4}: {rate:6.1f} writes/s, register {cpu[kind][-1]:5.2f} ms CPU "
                          f"a write (its own process {own[kind][-1]:5.2f}); machine {busy(before_machine, machine())}; "
                          f"receiver {receiving:.2f} s CPU",
                          flush=True)
                    unsubscribe(url, reader, subs)
            none, with_subs = statistics.median(rates["none"]), statistics.median(rates["with"])
            paired = statistics.median(w / n for w, n in zip(rates["with"], rates["none"], strict=True))
            print(f"write throughput, {args.concurrency} clients: no subscriptions {none:.1f} writes/s, "
                  f"{len(codes)} subscriptions {with_subs:.1f} writes/s (rounds: "
                  f"{ {k: [round(r, 1) for r in v] for k, v in rates.items()} })")
            print(f"register CPU per write: no subscriptions {statistics.median(cpu['none']):.2f} ms, "
                  f"{len(codes)} subscriptions {statistics.median(cpu['with']):.2f} ms (delivery included); "
                  f"of which its own process (not the sender or SHACL child processes) "
                  f"{statistics.median(own['none']):.2f} and {statistics.median(own['with']):.2f} ms")
            print(f"ratio with/without: {with_subs / none:.2f} of the medians, {paired:.2f} the median of the "
                  f"{args.rounds} paired rounds (target ≥ 0.90)")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            receiver.close()


if __name__ == "__main__":
    main()
