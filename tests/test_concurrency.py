"""8 threads × 200 changes, on one shared and on separate verenigingen: nothing is lost, every
accepted change has exactly one version, and version numbers and sequences are contiguous."""

from __future__ import annotations

import threading
from collections import defaultdict

from pyoxigraph import NamedNode

from app.namespaces import GRAPH_VERSIONS_PUBLIC, PROV, VRX
from tests.conftest import Keys, valid_body
from tests.workbooks import flemish_places

THREADS = 8
CHANGES = 200


def test_parallel_changes_lose_nothing(app, keys, register):
    setup = app.test_client()
    shared = setup.post("/verenigingen", json=valid_body(naam="Gedeelde vereniging"), headers=Keys.auth(keys.initiator))
    own = []
    for i in range(THREADS // 2):
        body = valid_body(naam=f"Eigen vereniging {chr(65 + i)}{chr(75 + i)}", locaties=[{
            "locatietype": "Activiteiten", "adres": {"straatnaam": "Straat", "huisnummer": str(i + 1),
                                                    "postcode": flemish_places()[i][0],
                                                    "gemeente": flemish_places()[i][1], "land": "België"}}])
        response = setup.post("/verenigingen", json=body, headers=Keys.auth(keys.initiator))
        assert response.status_code == 201, response.get_data(as_text=True)
        own.append(response.get_json()["vCode"])
    targets = [shared.get_json()["vCode"]] * (THREADS // 2) + own
    accepted: dict[str, list[int]] = defaultdict(list)
    failures: list[str] = []
    lock = threading.Lock()

    def work(thread: int) -> None:
        client = app.test_client()
        vcode = targets[thread]
        for change in range(CHANGES):
            headers = {**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"}
            response = client.patch(f"/verenigingen/{vcode}", json={"korteBeschrijving": f"t{thread} c{change}"},
                                    headers=headers)
            with lock:
                if response.status_code == 200 and response.get_json()["gewijzigd"]:
                    accepted[vcode].append(response.get_json()["versie"])
                else:
                    failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(len(v) for v in accepted.values()) == THREADS * CHANGES

    rows = list(register.store.select(f"""
        SELECT ?v ?n ?seq WHERE {{
          ?v <http://purl.org/dc/terms/isVersionOf> ?vc ; <{VRX}versienummer> ?n ; <{PROV}wasGeneratedBy> ?a .
          ?a <{VRX}sequentie> ?seq .
        }}""", default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)]))
    per_record: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        per_record[row["v"].value.split("/id/vereniging/")[1][:8]].append(int(row["n"].value))
    for vcode in set(targets):
        numbers = sorted(per_record[vcode])
        assert numbers == list(range(1, len(numbers) + 1)), vcode  # one version per change, no gaps
        assert sorted(accepted[vcode]) == numbers[1:]  # every accepted change is exactly one of them
    sequences = sorted(int(row["seq"].value) for row in rows)
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) == len(set(targets)) + THREADS * CHANGES
