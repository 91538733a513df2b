"""`vr serve --workers 2` on the remote engine, and the CLI commands that run while it serves."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.auth.keys import add_key
from app.paths import ROOT
from tests.conftest import free_port, start_store_server
from tests.test_import import rows, write_csv


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("VR_BASE_URL", "VR_STORE_URL", "VR_DATA_DIR"):
        env.pop(name, None)
    return env


def _vr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli.main", *args], capture_output=True, text=True, env=_env(),
                          cwd=ROOT, timeout=600)


def _wait(url: str, process: subprocess.Popen) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(process.stdout.read() if process.stdout else "vr serve stopped")
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still opening the register
            pass
        time.sleep(0.1)
    raise AssertionError("vr serve did not answer")


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, str, Path, str]]:
    """(register URL, store URL, data dir, key) with `vr serve --workers 2` running on a fresh store server."""
    store_port, port = free_port(), free_port()
    store = start_store_server(tmp_path / "opslag", store_port)
    store_url = f"http://127.0.0.1:{store_port}"
    data = tmp_path / "var"
    key = add_key(data / "keys.toml", "OVO000001", "Gemeente Gent", ["initiator"])
    server = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve", "--workers", "2", "--no-demo",
                               "--port", str(port), "--store-url", store_url, "--data-dir", str(data)],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://localhost:{port}"
    try:
        _wait(url + "/api/zoeken", server)
        yield url, store_url, data, key
    finally:
        server.terminate()
        server.wait(timeout=30)
        store.terminate()
        store.wait(timeout=10)


def _search_total(url: str) -> set[int]:
    """The total every worker reports (new connection per request, so the workers take turns)."""
    return {requests.get(url + "/api/zoeken", headers={"Connection": "close"}, timeout=10).json()["totaal"]
            for _ in range(8)}


def test_import_and_export_while_the_register_serves(served, tmp_path):
    url, store_url, data, key = served
    source = write_csv(tmp_path / "lijst.csv", rows(6))
    imported = _vr("import", str(source), "--ovo", "OVO000001", "--naam", "Gemeente Gent", "--store-url", store_url,
                   "--data-dir", str(tmp_path / "cli"), "--report", str(tmp_path / "rapport"))
    assert imported.returncode == 0, imported.stderr[-2000:]
    # the serving processes see the imported records, under the register's own base IRI
    assert requests.get(url + "/doc/vereniging/V0001001", headers={"Accept": "text/turtle"}).status_code == 200
    assert _search_total(url) == {6}
    # a write through one worker is found through every worker
    body = {"@context": url + "/contexten/vereniging.jsonld", "verenigingstype": "FV", "naam": "Biljartclub De Keu",
            "hoofdactiviteiten": ["SPRT"], "locaties": [{"locatietype": "Activiteiten", "adres": {
                "straatnaam": "Kerkstraat", "huisnummer": "1", "postcode": "9000", "gemeente": "Gent",
                "land": "België"}}]}
    created = requests.post(url + "/verenigingen", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert created.status_code == 201, created.text
    assert _search_total(url) == {7}
    # export through the store server and through the running register
    via_store = _vr("export", "--format", "nq", "--store-url", store_url, "--data-dir", str(tmp_path / "export"))
    assert via_store.returncode == 0, via_store.stderr[-2000:]
    assert not (tmp_path / "export").exists()  # it only reads: no secret or search index left behind
    via_register = _vr("export", "--format", "nq", "--register", url)
    assert via_register.returncode == 0, via_register.stderr[-2000:]
    for out in (via_store.stdout, via_register.stdout):
        assert out.count("<https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging>") == 7
        assert f"<{url}/id/vereniging/V0001007>" in out


def test_a_different_base_is_refused_while_serving(served, tmp_path):
    url, store_url, _, _ = served
    result = _vr("export", "--store-url", store_url, "--base-url", "http://elders.example", "--data-dir",
                 str(tmp_path / "cli"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert url in result.stderr and "http://elders.example" in result.stderr


def test_long_queries_and_large_tokens_reach_the_app(served):
    """gunicorn's defaults (4 KB request line, 8 KB a header) answered 414/431 in HTML before the app saw
    the request; a SPARQL GET of 7 KB and a 20 KB token now get the app's own answers."""
    url, _, _, _ = served
    query = "ASK { ?s ?p ?o FILTER(?o != \"" + "x" * 7000 + "\") }"
    answer = requests.get(url + "/sparql", params={"query": query}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and answer.json()["boolean"] in (True, False)
    token = requests.get(url + "/meldingen/abonnementen", headers={"Authorization": "Bearer vr_" + "x" * 20000},
                         timeout=30)
    assert token.status_code == 401 and token.headers["Content-Type"].startswith("application/problem+json")
    # over gunicorn's own limits: its refusal is Dutch problem+json too, not an English HTML page
    too_long = requests.get(url + "/sparql", params={"query": "ASK { ?s ?p \"" + "x" * 9000 + "\" }"}, timeout=30)
    too_big = requests.get(url + "/doc/vereniging/V0001001", headers={"Authorization": "Bearer " + "x" * 200_000},
                           timeout=30)
    for answer, status in ((too_long, 414), (too_big, 431)):
        assert answer.status_code == status and answer.headers["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == status and answer.json()["detail"].startswith(("Het ", "De "))


def _raw(port: int, head: str, body: bytes = b"", seconds: float = 30) -> tuple[int, dict, bytes]:
    """One request as bytes on a fresh connection (Connection: close): (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:  # the server answered and closed while the rest was still coming
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    headers = dict(line.decode().split(": ", 1) for line in header_block.split(b"\r\n") if b": " in line)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, content


def bodies_over_the_limit_are_refused_not_cut(url: str, key: str) -> None:
    """A chunked body over the size limit is 413, not its first 256 KB registered; a broken chunk is 400; a
    Content-Length over every limit is refused before the body is sent. Each in Dutch problem+json."""
    port = int(url.rsplit(":", 1)[1])
    before = requests.get(url + "/api/zoeken", timeout=10).json()["totaal"]
    turtle = ('@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix fv: '
              '<https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#> .\n<> a fv:FeitelijkeVereniging ; '
              'skos:prefLabel "Afgekapte club"@nl .\n# ' + "x" * 300_000 + "\n").encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (turtle[i:i + 16384] for i in range(0, len(turtle), 16384))) + b"0\r\n\r\n"
    common = f"Host: localhost\nAuthorization: Bearer {key}\nConnection: close\nContent-Type: text/turtle\n"
    status, headers, content = _raw(port, f"POST /verenigingen HTTP/1.1\n{common}Transfer-Encoding: chunked\n",
                                    chunked)
    assert status == 413 and headers["content-type"] == "application/problem+json", content[:300]
    status, headers, content = _raw(port, f"POST /verenigingen HTTP/1.1\n{common}Transfer-Encoding: chunked\n",
                                    b"zz\r\nabc\r\n0\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/problem+json", content[:300]
    assert json.loads(content)["detail"].startswith(("Het ", "De "))
    started = time.monotonic()
    status, headers, content = _raw(port, f"POST /verenigingen HTTP/1.1\n{common}Content-Length: {1 << 30}\n",
                                    b" " * 1024)
    assert status == 413 and headers["content-type"] == "application/problem+json", content[:300]
    assert time.monotonic() - started < 10
    assert requests.get(url + "/api/zoeken", timeout=10).json()["totaal"] == before


def test_bodies_over_the_limit_are_refused_not_cut(served):
    url, _, _, key = served
    bodies_over_the_limit_are_refused_not_cut(url, key)


def an_idle_connection_is_kept_for_the_next_request(url: str) -> None:
    """HTTP clients reuse an idle connection for seconds (Node's, the npm ldes-client's: ~4 s); gunicorn closed it
    after 2 s, and the client's next request failed ('other side closed'), which ended an ldes-client follower."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        for _ in range(2):
            connection.sendall(b"GET /gezondheid HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = connection.recv(65536)
                assert chunk, "the server closed the idle connection"
                head += chunk
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            length = int(re.search(rb"(?i)content-length: *([0-9]+)", head)[1])
            body = head.split(b"\r\n\r\n", 1)[1]
            while len(body) < length:
                body += connection.recv(65536)
            time.sleep(5)


def test_an_idle_connection_is_kept_for_the_next_request(served):
    an_idle_connection_is_kept_for_the_next_request(served[0])


def test_workers_need_a_store_server(tmp_path):
    result = _vr("serve", "--workers", "2", "--data-dir", str(tmp_path / "var"), "--no-demo")
    assert result.returncode == 2
    assert "store-server" in result.stderr and "Traceback" not in result.stderr


def test_the_sparql_rate_limit_is_one_budget_across_processes(tmp_path):
    """Two serving processes of one register (as `--workers 2` makes) share each client's SPARQL budget."""
    store_port = free_port()
    store = start_store_server(tmp_path / "opslag", store_port)
    env = dict(_env(), VR_SPARQL_RATE_LIMIT="4/minute")
    servers, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append(subprocess.Popen(
                [sys.executable, "-m", "app.cli.main", "serve", "--no-demo", "--port", str(port), "--store-url",
                 f"http://127.0.0.1:{store_port}", "--data-dir", str(tmp_path / "var")],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            urls.append(f"http://localhost:{port}")
        for url, server in zip(urls, servers, strict=True):
            _wait(url + "/api/zoeken", server)
        ask = {"query": "ASK { ?s ?p ?o }"}
        statuses = [requests.get(url + "/sparql", params=ask, timeout=30).status_code for url in urls * 3]
        assert statuses == [200] * 4 + [429] * 2, statuses
        refused = requests.get(urls[0] + "/sparql", params=ask, timeout=30)
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    finally:
        for process in [*servers, store]:
            process.terminate()
            process.wait(timeout=30)
