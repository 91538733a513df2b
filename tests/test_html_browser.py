"""The HTML page as a person sees it: rendered by headless Chromium from a live server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import valid_body

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def chromium(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("Chromium is required for the browser tests (scripts/test installs it)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=True)


def test_vereniging_page_renders_in_chromium(post, live_server):
    vcode = post(valid_body()).get_json()["vCode"]
    url = f"{live_server}/doc/vereniging/{vcode}"
    dom = chromium("--dump-dom", url).stdout
    assert "<h1>Volleybalclub De Smashers</h1>" in dom
    assert "Jeugdwerk" in dom and "Sport" in dom
    assert "Driepikkelstraat 10 bus B, 9030 Gent, België" in dom
    assert "85073003328" not in dom and "Peeters" not in dom  # public page: no vertegenwoordigers
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "vereniging.png"
    shot.unlink(missing_ok=True)
    chromium(f"--screenshot={shot}", "--window-size=1200,1400", "--hide-scrollbars", url)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_home_page_links_to_registered_verenigingen(post, live_server):
    vcode = post(valid_body()).get_json()["vCode"]
    dom = chromium("--dump-dom", live_server + "/").stdout
    assert f'href="/doc/vereniging/{vcode}"' in dom
