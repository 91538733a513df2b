"""The register's identity lives in the store: every process reads the base IRI from there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.config import SettingInvalid, Settings
from app.paths import ROOT
from app.register import Register
from app.store import BaseMismatch
from tests.conftest import BASE, VALID_BODY


def _vr(settings: Settings, *args: str, base: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("VR_BASE_URL", None)
    if settings.store_url:
        env["VR_STORE_URL"] = settings.store_url
    cmd = [sys.executable, "-m", "app.cli.main", *args, "--data-dir", str(settings.data_dir)]
    if base:
        cmd += ["--base-url", base]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_base_is_read_from_the_store(register, settings):
    register.close()
    reopened = Register.open(Settings(data_dir=settings.data_dir, base_url=None, store_url=settings.store_url))
    try:
        assert reopened.settings.base == BASE
    finally:
        reopened.close()


def test_a_different_base_is_refused_naming_both(register, settings):
    register.close()
    with pytest.raises(BaseMismatch) as refused:
        Register.open(Settings(data_dir=settings.data_dir, base_url="http://localhost:8080",
                               store_url=settings.store_url))
    assert BASE in str(refused.value) and "http://localhost:8080" in str(refused.value)


def test_cli_refuses_a_different_base_in_one_dutch_line(register, settings):
    register.close()
    result = _vr(settings, "export", "--format", "nq", base="http://localhost:9000")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "basis-URI" in lines[0]
    assert BASE in lines[0] and "http://localhost:9000" in lines[0]
    assert result.stdout == ""


def test_cli_without_base_uses_the_stored_one(register, settings, post):
    created = post(VALID_BODY)
    assert created.status_code == 201
    register.close()
    result = _vr(settings, "export", "--format", "nq")
    assert result.returncode == 0, result.stderr
    assert f"<{BASE}/id/vereniging/V0001001>" in result.stdout


def test_locked_embedded_store_gives_one_dutch_line(register, settings):
    if settings.store_url:
        pytest.skip("the remote engine has no lock on the store directory")
    result = _vr(settings, "export", "--format", "nq")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "in gebruik" in lines[0] and "--register" in lines[0]


def test_what_a_user_named_wrongly_is_one_dutch_line(register, settings, tmp_path):
    """A missing key file or input, an unwritable output, a register that does not answer, a KBO dump that
    is none: each is one Dutch line with exit code 2, never a traceback, and nothing is written."""
    register.close()
    source = tmp_path / "lijst.csv"
    source.write_text("Naam\nSchaakclub\n", encoding="utf-8")
    (tmp_path / "sleutel").write_text("vr_x", encoding="utf-8")
    not_a_dump = tmp_path / "kbo"
    not_a_dump.mkdir()
    (not_a_dump / "enterprise.csv").write_text("EnterpriseNumber,JuridicalForm\n0123.456.789,017\n")
    (not_a_dump / "denomination.csv").write_text("Foo\n1\n")
    dead = "http://127.0.0.1:9"
    cases = {
        ("import", str(source), "--register", dead, "--key-file", str(tmp_path / "geen-sleutel")): "bestaat niet",
        ("import", str(source), "--register", dead, "--key-file", str(tmp_path / "sleutel")): "antwoordt niet",
        ("import", str(tmp_path / "geen.csv"), "--ovo", "OVO000001", "--naam", "Gent"): "bestaat niet",
        ("export", "--format", "nq", "-o", str(tmp_path / "geen-map" / "x.nq")): "de map",
        ("kbo-sync", str(source)): "geen map",
        ("kbo-sync", str(not_a_dump)): "mist de kolom(men) EntityNumber",
    }
    for args, says in cases.items():
        result = _vr(settings, *args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr[-500:])
        assert says in lines[-1], (args, lines)
    assert "V0001001" not in _vr(settings, "export", "--format", "nq").stdout  # the KBO dump wrote nothing


@pytest.mark.parametrize("base", ["localhost:8080", "ftp://x.org", "http://ex.org/a b", "https://x.org/?a=1",
                                  "http:///pad"])
def test_a_new_register_refuses_a_base_that_cannot_be_one_before_it_is_written(tmp_path, base):
    settings = Settings(data_dir=tmp_path / "nieuw", base_url=base)
    with pytest.raises(SettingInvalid, match="kan geen basis-IRI zijn"):
        Register.open(settings)
    good = Register.open(Settings(data_dir=tmp_path / "nieuw", base_url="https://verenigingen.example.org"))
    try:
        assert good.settings.base_url == "https://verenigingen.example.org"
    finally:
        good.close()


def test_a_relative_data_dir_serves_dumps_and_health(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VR_DATA_DIR", "relatief")
    settings = Settings(base_url=BASE)
    assert settings.data_dir == tmp_path / "relatief"
    from app.factory import create_app

    app = create_app(settings)
    try:
        client = app.test_client()
        assert client.get("/dumps/verenigingen.nq").status_code == 200
        health = client.get("/gezondheid")
        assert health.status_code == 200 and health.get_json()["opslag"] == "bereikbaar"
    finally:
        app.extensions["vr"].close()


def test_a_store_that_cannot_open_its_files_is_one_dutch_line():
    from app.cli.main import _said

    said = _said(OSError("IO error: While open a file for appending: /srv/vr/oxigraph/LOG: Read-only file system"),
                 None)
    assert said.startswith("De opslag kan niet geopend worden: het bestandssysteem is alleen-lezen.")
