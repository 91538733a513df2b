"""Demo data and reference data are complete, and `vr serve` starts a working register with them."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.cli.main import load_demo
from app.domain import codelists
from tests.test_serve_workers import bodies_over_the_limit_are_refused_not_cut

ROOT = Path(__file__).resolve().parent.parent
DEMO = json.loads((ROOT / "data" / "demo" / "verenigingen.json").read_text(encoding="utf-8"))


def test_demo_data_covers_what_the_issue_asks():
    assert len(DEMO) >= 60
    assert len({d["locaties"][0]["adres"]["gemeente"] for d in DEMO}) >= 12
    used = {code for d in DEMO for code in d["hoofdactiviteiten"]}
    assert used == {c.code for c in codelists.get("hoofdactiviteiten").concepts}
    assert {d["verenigingstype"] for d in DEMO} == {"FV", "VZER"}
    assert all(d["locaties"] and d["contactgegevens"] and d["vertegenwoordigers"] for d in DEMO)


def test_every_demo_association_registers_through_the_write_path(register):
    assert load_demo(register, quiet=True) == len(DEMO)
    assert not register.handler.is_empty()


def test_werkingsgebieden_cover_every_reference_postcode():
    reference = ROOT.parent / "shared" / "reference" / "data" / "postcode-nuts3-lau.csv"
    ours = {row["postcode"]: row["code"] for row in csv.DictReader((ROOT / "data" / "postcodes.csv").open())}
    if reference.exists():
        for row in csv.DictReader(reference.open()):
            assert ours[row["postal_code"]] == row["nuts3_objectid"]
    gebieden = codelists.get("werkingsgebieden")
    for code in ("BE21", "BE22", "BE23", "BE24", "BE25", "BE10", "NVT", "BE23444021", "BE21111002", "BE24224062"):
        assert gebieden.find(code), code
    assert gebieden.find("BE23444021").label == "Gent"
    assert len(gebieden.concepts) > 570


def test_vr_serve_starts_with_demo_data_and_a_demo_key(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("VR_BASE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port),
                                "--data-dir", str(tmp_path / "var")], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                home = requests.get(url + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "vr serve did not come up"
                time.sleep(0.5)
        assert home.status_code == 200 and "64 verenigingen" in home.text
        doc = requests.get(url + "/id/vereniging/V0001001", headers={"Accept": "text/turtle"}, timeout=10)
        assert doc.status_code == 200 and doc.url.endswith("/doc/vereniging/V0001001")
        assert f"<{url}/id/vereniging/V0001001>" in doc.text
        key = (tmp_path / "var" / "demo-api-key.txt").read_text().strip()
        body = dict(DEMO[0], naam="Nieuwe club via de API", locaties=[{
            "locatietype": "Activiteiten", "adres": {"straatnaam": "Kouter", "huisnummer": "1", "postcode": "9000",
                                                    "gemeente": "Gent", "land": "België"}}])
        created = requests.post(url + "/verenigingen", json=body, headers={"Authorization": f"Bearer {key}"},
                                timeout=30)
        assert created.status_code == 201, created.text
        assert created.json()["vCode"] == "V0001065"
        bodies_over_the_limit_are_refused_not_cut(url, key)
        _stopping_answers_the_request_in_flight(process, port, key, body)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0


def _stopping_answers_the_request_in_flight(process: subprocess.Popen, port: int, key: str, body: dict) -> None:
    """SIGTERM while a request is half received: no new connection is taken, and the request is answered."""
    data = json.dumps(dict(body, naam="Club die tijdens het stoppen aankomt")).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"POST /verenigingen HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                           + data[:20])
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(1)
        with pytest.raises(OSError):  # the listening socket is closed
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        connection.sendall(data[20:])
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert b"V0001066" in answer
    process.wait(timeout=30)


def test_serve_on_a_taken_port_or_with_a_broken_keys_file_is_one_dutch_line(tmp_path):
    """It used to print "luistert op …" and then a traceback (port) or only a traceback (keys file)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "app.cli.main", "serve", "--port", str(port), "--no-demo",
                              "--data-dir", str(tmp_path / "a")], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 2 and "niet vrij" in run.stderr and "Traceback" not in run.stderr
    assert "luistert op" not in run.stdout
    broken = tmp_path / "keys.toml"
    broken.write_text("this is [not toml\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "app.cli.main", "serve", "--port", "0", "--no-demo", "--data-dir",
                          str(tmp_path / "b")], capture_output=True, text=True, timeout=120,
                         env={**env, "VR_KEYS_FILE": str(broken)})
    assert run.returncode == 2 and "geen geldig TOML-bestand (fout op regel 1" in run.stderr, run.stderr
