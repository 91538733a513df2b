"""Shared fixtures: a real on-disk Oxigraph store in a temp dir and the Flask app in front of it.

VR_TEST_STORE=remote runs every test against a real `oxigraph serve` (started once per session,
emptied before each test) instead of the embedded store.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from app.auth.keys import add_key
from app.config import Settings
from app.factory import create_app
from app.paths import ROOT
from app.register import Register

BASE = "http://register.test"

VALID_BODY = {
    "@context": BASE + "/contexten/vereniging.jsonld",
    "verenigingstype": "VZER",
    "naam": "Volleybalclub De Smashers",
    "korteNaam": "VC Smashers",
    "korteBeschrijving": "Recreatieve volleybalclub voor jongeren en volwassenen.",
    "startdatum": "2015-09-01",
    "doelgroep": {"minimumleeftijd": 12, "maximumleeftijd": 65},
    "hoofdactiviteiten": ["SPRT", "JGDW"],
    "werkingsgebieden": ["BE23444021"],
    "locaties": [
        {"locatietype": "Activiteiten", "isPrimair": True, "naam": "Sporthal Bourgoyen",
         "adres": {"straatnaam": "Driepikkelstraat", "huisnummer": "10", "busnummer": "B", "postcode": "9030",
                   "gemeente": "Gent", "land": "België"}},
        {"locatietype": "Correspondentie", "isPrimair": False,
         "adres": {"straatnaam": "Kortrijksesteenweg", "huisnummer": "5", "postcode": "9000",
                   "gemeente": "Gent", "land": "België"}},
    ],
    "contactgegevens": [
        {"contactgegeventype": "E-mail", "waarde": "info@vcsmashers.be", "beschrijving": "Secretariaat",
         "isPrimair": True},
        {"contactgegeventype": "Telefoon", "waarde": "09 234 56 78", "isPrimair": True},
        {"contactgegeventype": "Website", "waarde": "https://www.vcsmashers.be"},
        {"contactgegeventype": "SocialMedia", "waarde": "https://www.facebook.com/vcsmashers"},
    ],
    "vertegenwoordigers": [
        {"insz": "85073003328", "voornaam": "An", "achternaam": "Peeters", "roepnaam": "Anneke",
         "rol": "Voorzitter", "isPrimair": True, "email": "an.peeters@example.be",
         "telefoon": "+32 9 234 56 79", "mobiel": "+32 470 12 34 56"},
    ],
}


def valid_body(**changes) -> dict:
    body = copy.deepcopy(VALID_BODY)
    body.update(changes)
    return body


class Keys:
    def __init__(self, path: Path) -> None:
        self.initiator = add_key(path, "OVO000001", "Gemeente Gent", ["initiator"])
        self.other_initiator = add_key(path, "OVO000002", "Gemeente Aalst", ["initiator"])
        self.reader = add_key(path, "OVO000003", "Provincie Oost-Vlaanderen", ["lezer"])
        self.admin = add_key(path, "OVO002949", "Digitaal Vlaanderen", ["admin"])

    @staticmethod
    def auth(key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}


REMOTE = os.environ.get("VR_TEST_STORE") == "remote"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The store server ends a query after this many seconds; the register knows it (VR_STORE_QUERY_TIMEOUT), so a
# query a test gave up on (the SPARQL deadlines in the tests are 2-4 s) holds its place no longer than this.
STORE_QUERY_TIMEOUT = 6


def start_store_server(location: Path, port: int, sandboxed: bool = True) -> subprocess.Popen:
    """The store server as `vr store-server` starts it (`oxigraph serve`, unable to open connections),
    waited for until it answers; `sandboxed=False` starts the bare `oxigraph serve` (a control)."""
    binary = Path(sys.executable).parent / "oxigraph"
    command = [sys.executable, "-m", "app.cli.main", "store-server", "--host", "127.0.0.1", "--port", str(port)] \
        if sandboxed else [str(binary if binary.exists() else "oxigraph"), "serve", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen([*command, "--location", str(location), "--timeout-s", str(STORE_QUERY_TIMEOUT)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/query", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("oxigraph serve did not start")


@pytest.fixture(scope="session")
def store_server(tmp_path_factory) -> Iterator[str | None]:
    if not REMOTE:
        yield None
        return
    port = free_port()
    process = start_store_server(tmp_path_factory.mktemp("oxigraph"), port)
    url = f"http://127.0.0.1:{port}"
    os.environ["VR_STORE_URL"] = url  # Settings() and subprocesses (vr …) pick it up
    os.environ["VR_STORE_QUERY_TIMEOUT"] = str(STORE_QUERY_TIMEOUT)
    try:
        yield url
    finally:
        os.environ.pop("VR_STORE_URL", None)
        os.environ.pop("VR_STORE_QUERY_TIMEOUT", None)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _empty_store(store_server) -> None:
    """Every test starts from an empty store, whichever engine."""
    if store_server:
        requests.post(store_server + "/update", data="DROP ALL",
                      headers={"Content-Type": "application/sparql-update"}, timeout=30).raise_for_status()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", base_url=BASE)


@pytest.fixture
def keys(settings: Settings) -> Keys:
    return Keys(settings.keys_path)


@pytest.fixture
def register(settings: Settings, keys: Keys) -> Register:
    return Register.open(settings)


@pytest.fixture
def app(register: Register):
    return create_app(register=register)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def post(client, keys):
    """POST a registration body as the Gent initiator."""

    def _post(body, key: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        headers.update(Keys.auth(key or keys.initiator))
        if isinstance(body, (dict, list)):
            return client.post("/verenigingen", json=body, headers=headers, **kwargs)
        if body is not None:
            kwargs["data"] = body
        return client.post("/verenigingen", headers=headers, **kwargs)

    return _post


def dump(register: Register) -> bytes:
    """Every quad in the store, canonically sorted: equal bytes means an unchanged store."""
    register.store.flush()
    return b"\n".join(sorted(register.store.dump_nquads().splitlines()))


@pytest.fixture
def vc(client, keys) -> str:
    """The V-code of one vereniging registered over HTTP by the Gent initiator (valid_body())."""
    response = client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["vCode"]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app on a real loopback socket, for clients that speak HTTP themselves."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def listener():
    """A real loopback SPARQL-looking server that records every connection: SERVICE must never reach it.

    Yields (its query URL, the first bytes of every request it received)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.settimeout(1)
            try:
                hits.append(connection.recv(200))
            except OSError:
                hits.append(b"")
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                               b"Content-Length: 41\r\n\r\n{\"head\":{},\"results\":{\"bindings\":[{}]}}\n")
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", hits
    stop.set()
    thread.join(timeout=2)
    server.close()
