"""The register's identity lives in the store: every process reads the base IRI from there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.config import Settings
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
