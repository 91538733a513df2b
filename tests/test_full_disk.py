"""A full disk: writes are refused cleanly (503, nothing half-written), reads and SPARQL keep answering, and
once space is freed writes and SPARQL work again without a restart.

The register's data directory is put on a small tmpfs of its own (mounted here; needs root, as in CI),
which is then really filled with a file — the same ENOSPC RocksDB meets on a full production disk."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Settings
from app.factory import create_app
from app.namespaces import GRAPH_VERSIONS_PUBLIC, VRX
from app.paths import ROOT
from app.register import Register
from tests.conftest import BASE, Keys, valid_body
from tests.workbooks import flemish_places

pytestmark = pytest.mark.skipif(os.environ.get("VR_TEST_STORE") == "remote",
                                reason="the embedded store's own directory on a full disk (the remote server has "
                                       "its own disk)")
COUNT = "SELECT (COUNT(?v) AS ?n) WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / f"schijf-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@dataclass
class OnSmallDisk:
    disk: Path
    settings: Settings
    keys: Keys
    register: Register


@pytest.fixture
def on_small_disk(small_disk: Path):
    """A register whose data directory is on the small disk, closed after the test."""
    settings = Settings(data_dir=small_disk / "var", base_url=BASE)
    keys = Keys(settings.keys_path)
    register = Register.open(settings)
    try:
        yield OnSmallDisk(small_disk, settings, keys, register)
    finally:
        register.close()


def _fill(disk: Path, leave: int) -> Path:
    """Fill the filesystem, then give back `leave` bytes."""
    filler = disk / "vuller"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (1 << 20, 4096):
            try:
                while True:
                    os.write(fd, b"\0" * block)
            except OSError:
                pass
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _count(client) -> int:
    response = client.get("/sparql", query_string={"query": COUNT},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json()["results"]["bindings"][0]["n"]["value"])


def test_full_disk_refuses_writes_keeps_reads_and_recovers_without_restart(on_small_disk):
    small_disk = on_small_disk.disk
    client = create_app(register=on_small_disk.register).test_client()
    auth = Keys.auth(on_small_disk.keys.initiator)
    first = client.post("/verenigingen", json=valid_body(), headers=auth)
    assert first.status_code == 201
    vcode = first.get_json()["vCode"]
    assert _count(client) == 1  # a SPARQL checkpoint exists
    filler = _fill(small_disk, leave=12 * 1024)  # room for an audit line, not for a record's transaction
    refusals, committed = [], 1
    for attempt in range(4):
        response = client.post("/verenigingen", json=valid_body(naam=f"Club {attempt}"), headers=auth)
        if response.status_code == 201:  # a reopen can free space (RocksDB drops obsolete files)
            committed += 1
            continue
        assert response.status_code == 503 and response.mimetype == "application/problem+json", \
            response.get_data(as_text=True)
        assert "Retry-After" in response.headers
        refusals.append(response.get_json()["type"].rsplit("/", 1)[-1])
    assert "opslag-onbeschikbaar" in refusals, refusals  # the store itself met the full disk
    more = _fill(small_disk / "var", leave=0)  # now really nothing left
    # reads keep working while the disk is full
    assert client.get(f"/doc/vereniging/{vcode}", headers={"Accept": "text/turtle"}).status_code == 200
    assert 1 <= _count(client) <= committed  # from the last checkpoint that could be made
    assert client.get("/zoeken", query_string={"q": "Smashers"}).status_code == 200
    refused = client.post("/verenigingen", json=valid_body(naam="Club vol"), headers=auth)
    assert refused.status_code == 503 and refused.mimetype == "application/problem+json"
    # space comes back: writes and SPARQL recover without a restart
    filler.unlink()
    more.unlink()
    again = client.post("/verenigingen", json=valid_body(naam="Club na de opruiming"), headers=auth)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _count(client) == committed + 1
    assert client.patch(f"/verenigingen/{vcode}", json={"korteNaam": "Smash"},
                        headers={**auth, "Content-Type": "application/merge-patch+json"}).status_code == 200


def test_concurrent_writes_on_a_filling_disk_report_only_what_the_register_holds(on_small_disk):
    """The embedded engine builds the next group commit while one is written; when that write meets the full
    disk, what was built on top of it must not be reported written either. Eight writers run into the disk
    filling up: every answer is 201 or a clean 503, every 201 is in the register with its first version,
    and the register-wide sequence has no gap; once space is back, writing goes on."""
    small_disk, register = on_small_disk.disk, on_small_disk.register
    app = create_app(register=register)
    auth = Keys.auth(on_small_disk.keys.initiator)
    answers: list[tuple[int, dict]] = []

    def body(writer: int, n: int) -> dict:  # each in a place of its own: no possible duplicates
        return valid_body(naam=f"Club {writer}-{n}", locaties=[{"locatietype": "Activiteiten", "adres": {
            "straatnaam": "Straat", "huisnummer": str(n + 1), "postcode": flemish_places()[writer * 12 + n][0],
            "gemeente": flemish_places()[writer * 12 + n][1], "land": "België"}}])

    def work(writer: int) -> None:
        client = app.test_client()
        for n in range(12):
            response = client.post("/verenigingen", json=body(writer, n), headers=auth)
            answers.append((response.status_code, response.get_json()))

    assert app.test_client().post("/verenigingen", json=valid_body(), headers=auth).status_code == 201
    filler = _fill(small_disk, leave=2 * 1024 * 1024)  # room for a few groups, then none
    threads = [threading.Thread(target=work, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    filler.unlink()
    assert {status for status, _ in answers} <= {201, 503}, [a for a in answers if a[0] == 500][:2]
    assert any(status == 503 for status, _ in answers)  # the disk did fill up
    created = [answer["vCode"] for status, answer in answers if status == 201]
    for vcode in created:
        assert register.handler.version_of(vcode) == 1, vcode
    sequences = sorted(int(row[0].value) for row in register.store.select(
        f"SELECT ?s WHERE {{ GRAPH <{GRAPH_VERSIONS_PUBLIC}> {{ ?a <{VRX}sequentie> ?s }} }}"))
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) >= 1 + len(created)
    again = app.test_client().post("/verenigingen", json=body(9, 0), headers=auth)
    assert again.status_code == 201, again.get_data(as_text=True)


def test_sparql_answers_on_a_disk_full_before_the_first_query_and_a_read_only_disk_is_one_line(small_disk):
    settings = Settings(data_dir=small_disk / "var", base_url=BASE)
    keys = Keys(settings.keys_path)
    register = Register.open(settings)
    client = create_app(register=register).test_client()
    try:
        assert client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).status_code == 201
        register.warm_sparql()  # what vr serve does at start
        filler = _fill(small_disk, leave=0)
        assert _count(client) == 1  # no query before the disk filled up, and still an answer
        filler.unlink()
    finally:
        register.close()
    # a data directory on a read-only filesystem: one Dutch line, no traceback
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "VR_STORE_URL"}
    done = subprocess.run([sys.executable, "-m", "app.cli.main", "export", "--data-dir", str(settings.data_dir)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "De opslag kan niet geopend worden: het bestandssysteem is alleen-lezen." in done.stderr
