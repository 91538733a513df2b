"""Four processes write to one register on the remote engine (a real `oxigraph serve`).

The store server itself does not serialise conditional updates (reference/peers.md §8), so this
checks the final state rather than each writer's own view: every accepted change is exactly one
version, version numbers per vereniging and the register-wide sequence are contiguous, and no
V-code was handed out twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict

import pytest

from app.config import Settings
from app.domain.parse import parse_registration
from app.domain.versions import Initiator, Provenance
from app.namespaces import GRAPH_SYSTEM, GRAPH_VERSIONS_PUBLIC, PROV, VRX
from app.paths import ROOT
from app.register import Register
from tests.conftest import BASE, free_port, start_store_server, valid_body

PROCESSES = 4
CHANGES = 25
REGISTRATIONS = 10

WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from app.config import Settings
    from app.domain.parse import parse_registration
    from app.domain.versions import Initiator, Provenance
    from app.register import Register
    from tests.conftest import valid_body
    from tests.workbooks import flemish_places

    url, data_dir, shared, me, changes, registrations = sys.argv[1:7]
    register = Register.open(Settings(data_dir=Path(data_dir), store_url=url, base_url=None))
    prov = Provenance("wijziging", Initiator("OVO000001", "Gemeente Gent"))
    accepted, created = [], []
    for i in range(int(changes)):
        def mutate(state, i=i):
            state["korteBeschrijving"] = f"proces {me} wijziging {i}"
            return state
        outcome = register.handler.change(shared, mutate, prov)
        accepted.append(outcome.version)
    for i in range(int(registrations)):
        body = valid_body(naam=f"Vereniging {me}-{i}", locaties=[{
            "locatietype": "Activiteiten", "adres": {"straatnaam": "Straat", "huisnummer": str(i + 1),
            "postcode": flemish_places()[50 * int(me) + i][0], "gemeente": flemish_places()[50 * int(me) + i][1],
            "land": "België"}}])
        outcome = register.handler.register(parse_registration(body), Provenance("registratie", prov.initiator),
                                            confirmation=None)
        created.append(outcome.vcode)
    register.close()
    print(json.dumps({"accepted": accepted, "created": created}))
""")


@pytest.fixture
def store_url(tmp_path):
    port = free_port()
    process = start_store_server(tmp_path / "oxigraph", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_four_processes_share_one_register(tmp_path, store_url):
    settings = Settings(data_dir=tmp_path / "var", base_url=BASE, store_url=store_url)
    register = Register.open(settings)
    shared = register.handler.register(parse_registration(valid_body(naam="Gedeelde vereniging")),
                                       Provenance("registratie", Initiator("OVO000001", "Gemeente Gent"))).vcode
    register.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("VR_BASE_URL", None)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, str(tmp_path / f"var{me}"), shared, str(me),
                                 str(CHANGES), str(REGISTRATIONS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT) for me in range(PROCESSES)]
    results = []
    for writer in writers:
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    register = Register.open(Settings(data_dir=tmp_path / "var", base_url=None, store_url=store_url))
    try:
        rows = register.store.select(f"""
            SELECT ?v ?n ?seq WHERE {{
              ?v <http://purl.org/dc/terms/isVersionOf> ?vc ; <{VRX}versienummer> ?n ; <{PROV}wasGeneratedBy> ?a .
              ?a <{VRX}sequentie> ?seq .
            }}""", default_graph=[GRAPH_VERSIONS_PUBLIC])
        vcode_numbers = [int(row[0].value) for row in register.store.select(
            f"SELECT ?n WHERE {{ ?v <{VRX}vcodeNummer> ?n }}", default_graph=[GRAPH_SYSTEM])]
        latest = register.handler.latest_sequence
    finally:
        register.close()
    per_record: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        per_record[row["v"].value.split("/id/vereniging/")[1][:8]].append(int(row["n"].value))
    # every accepted change on the shared vereniging is exactly one version, numbers contiguous
    accepted = sorted(v for r in results for v in r["accepted"])
    assert sorted(per_record[shared]) == list(range(1, PROCESSES * CHANGES + 2))
    assert accepted == list(range(2, PROCESSES * CHANGES + 2))
    # no V-code twice, every registration has its one first version
    created = [vcode for r in results for vcode in r["created"]]
    assert len(created) == len(set(created)) == PROCESSES * REGISTRATIONS
    assert all(per_record[vcode] == [1] for vcode in created)
    assert max(Counter(vcode_numbers).values()) == 1
    # the register-wide sequence has no gap and no duplicate
    sequences = sorted(int(row["seq"].value) for row in rows)
    assert sequences == list(range(1, len(sequences) + 1)) and latest == len(sequences)
    assert len(sequences) == 1 + PROCESSES * (CHANGES + REGISTRATIONS)


def test_a_store_server_that_stops_answering_is_a_503_problem_not_a_500(tmp_path):
    from app.factory import create_app
    from tests.conftest import Keys

    port = free_port()
    process = start_store_server(tmp_path / "oxigraph", port)
    settings = Settings(data_dir=tmp_path / "var", base_url=BASE, store_url=f"http://127.0.0.1:{port}")
    key = Keys(settings.keys_path).initiator
    register = Register.open(settings)
    try:
        client = create_app(register=register).test_client()
        assert client.post("/verenigingen", json=valid_body(), headers=Keys.auth(key)).status_code == 201
        process.kill()
        process.wait(timeout=10)
        for response in (client.get("/doc/vereniging/V0001001.ttl"), client.get("/zoeken?q=club"),
                         client.post("/verenigingen", json=valid_body(naam="Andere club"),
                                     headers=Keys.auth(key))):
            assert response.status_code == 503, response.get_data(as_text=True)[:300]
            assert response.mimetype == "application/problem+json" and response.headers["Retry-After"]
            assert "opslag" in response.get_json()["detail"]
    finally:
        process.kill()
        register.close()
