"""kill -9 of a real `vr serve` between commit and delivery: after a restart nothing is lost or sent twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.auth.keys import add_key
from tests.conftest import valid_body
from tests.test_meldingen import GENT, Receiver

ROOT = Path(__file__).resolve().parent.parent


def serve(data: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), VR_MELDINGEN_LOKAAL="1", VR_MELDINGEN_RETRY="0.1",
               VR_MELDINGEN_RETRY_MAX="0.5", VR_MELDINGEN_POLL="0.2", VR_SHACL_WORKERS="0")
    env.pop("VR_BASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port), "--no-demo",
                                "--data-dir", str(data)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://localhost:{port}/openapi.json", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("vr serve did not start")


def test_kill_9_between_commit_and_delivery_loses_nothing_and_sends_nothing_twice(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base, data = f"http://localhost:{port}", tmp_path / "var"
    initiator = {"Authorization": "Bearer " + add_key(data / "keys.toml", "OVO000001", "Gemeente Gent", ["initiator"])}
    reader = {"Authorization": "Bearer " + add_key(data / "keys.toml", "OVO000003", "Provincie", ["lezer"])}
    receiver = Receiver()
    process = serve(data, port)
    try:
        created = requests.post(base + "/meldingen/abonnementen", headers=reader, json={
            "gemeenten": [GENT], "kanaal": "webhook", "inbox": receiver.url + "/inbox"}).json()
        receiver.secrets["/inbox"] = created["geheim"]
        for naam in ("Schaakclub De Loper", "Harmonie Sint-Cecilia", "Imkersbond Gentbrugge"):
            assert requests.post(base + "/verenigingen", json=valid_body(naam=naam), headers=initiator).ok
        assert len(receiver.wait("/inbox", 3)) == 3

        receiver.always_fail = True  # committed from here on, but not delivered
        tried = receiver.attempts
        patch = {**initiator, "Content-Type": "application/merge-patch+json"}
        for vcode in ("V0001001", "V0001002", "V0001003"):
            assert requests.patch(f"{base}/verenigingen/{vcode}", json={"korteNaam": "Nieuw"}, headers=patch).ok
        deadline = time.monotonic() + 20
        while receiver.attempts <= tried + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.attempts > tried + 1  # delivery was tried and failed: still pending
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

        receiver.always_fail = False
        process = serve(data, port)
        received = receiver.wait("/inbox", 6)
        time.sleep(1.0)  # give a wrongly repeated delivery the chance to show up
        received = receiver.of("/inbox")
        feed = requests.get(f"{base}/meldingen/abonnementen/{created['id']}/feed?na=0", headers=reader).json()
        expected = [item["id"] for item in feed["orderedItems"]]
        assert len(expected) == 6
        assert [r["body"]["id"] for r in received] == expected  # each exactly once, in order
        assert [r["body"]["meldingtype"] for r in received] == ["nieuwe-vereniging"] * 3 + ["naam-gewijzigd"] * 3
        shown = requests.get(created["url"], headers=reader).json()
        assert shown["status"] == "actief" and shown["positie"] == feed["orderedItems"][-1]["positie"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        receiver.close()
