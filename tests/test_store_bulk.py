"""The embedded engine's bulk write: a large batch of new verenigingen goes in as one atomic SST
ingestion, its new counters with it, the old counters removed right after (oxigraph_store._write)."""

from __future__ import annotations

import pyoxigraph
import pytest
from pyoxigraph import Quad

from app.domain.parse import parse_registration
from app.domain.versions import Initiator, Provenance
from app.exchange.importer import run_import
from app.register import Register
from app.store import keys
from app.store.base import canonical_time, counter_quads
from tests.conftest import valid_body
from tests.test_import import GENT, count_verenigingen, rows, write_csv

pytestmark = pytest.mark.skipif(__import__("os").environ.get("VR_TEST_STORE") == "remote",
                                reason="the embedded engine's write path")


def counter_values(register) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for quad in register.store.quads(keys.REGISTER, None, None, keys.G_SYSTEM):
        if quad.predicate in (keys.SEQUENCE, keys.LAST_VCODE, keys.LAST_TIMESTAMP):
            found.setdefault(quad.predicate.value, []).append(quad.object.value)
    return found


def test_large_batches_are_ingested_whole_and_the_next_transaction_removes_the_older_counters(tmp_path, register):
    report = run_import(write_csv(tmp_path / "r.csv", rows(300)), "verenigingen", register.handler, GENT,
                        dry_run=False, batch_size=150)  # 150 rows ≈ 24,000 quads: above BULK_QUADS
    assert report.counts() == {"geregistreerd": 300}
    assert count_verenigingen(register) == 300
    # the counters of both ingestions are in the store (no memtable write between two ingestions) ...
    assert {"150", "300"} <= set(counter_values(register)[keys.SEQUENCE.value])
    assert register.store.counters().sequence == register.store.latest_sequence() == 300  # ... the highest counts
    assert len({r.vcode for r in report.results}) == 300 and register.store.counters().vcode_number == \
        max(int(r.vcode[1:]) for r in report.results)
    prov = Provenance("registratie", Initiator("OVO000002", "Test"), None)
    outcome = register.handler.register(parse_registration(valid_body(naam="Na de import")), prov)
    assert outcome.sequence == 301
    assert all(len(v) == 1 for v in counter_values(register).values())  # a transaction removed the older ones


def test_a_crash_between_ingestion_and_cleanup_leaves_a_consistent_register(tmp_path, settings, register):
    run_import(write_csv(tmp_path / "r.csv", rows(150)), "verenigingen", register.handler, GENT, dry_run=False,
               batch_size=150)
    after = register.store.counters()
    # what a crash right after the ingestion leaves: the old counters next to the new ones; the process
    # that crashed is gone, the register opens the directory again
    register.store.raw.extend(counter_quads((0, 1000, "2020-01-01T00:00:00.000000Z")))
    register.close()
    register = Register.open(settings)
    assert register.store.counters() == after  # the highest value is the one that goes with the data
    prov = Provenance("registratie", Initiator("OVO000002", "Test"), None)
    outcome = register.handler.register(parse_registration(valid_body(naam="Na de crash")), prov)
    assert outcome.vcode == f"V{after.vcode_number + 1:07d}" and outcome.sequence == after.sequence + 1
    values = counter_values(register)
    assert all(len(v) == 1 for v in values.values()), values  # the next commit removed the stale ones
    assert Quad(keys.REGISTER, keys.SEQUENCE, keys.integer(after.sequence + 1), keys.G_SYSTEM) in \
        register.store.quads(keys.REGISTER, keys.SEQUENCE, None, keys.G_SYSTEM)


def test_the_search_index_gets_from_a_batch_what_it_would_read_back(tmp_path, register):
    """register_batch hands the index each record's public quads instead of having it read them again."""
    run_import(write_csv(tmp_path / "r.csv", rows(160)), "verenigingen", register.handler, GENT, dry_run=False,
               batch_size=160)
    index = register.index

    def snapshot() -> list:
        return [index.db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                for table in ("vereniging", "facet")] + [index.db.execute(
                    "SELECT rowid, naam, korte_naam, beschrijving, contact, plaats, activiteit FROM tekst "
                    "ORDER BY rowid").fetchall()]

    from_batch = snapshot()
    assert len(from_batch[0]) == 160
    for (vcode,) in index.db.execute("SELECT vcode FROM vereniging").fetchall():
        index._index(vcode)  # read back from the store, as a single write or a catch-up does
    assert snapshot() == from_batch


@pytest.mark.parametrize("written", ["2026-12-01T06:56:16.440440Z", "2026-12-01T06:56:16.000000Z",
                                     "2026-12-01T06:56:16.000001Z", "2026-12-01T06:56:16Z"])
def test_counters_from_memory_read_as_the_store_gives_them_back(written):
    """The embedded engine keeps the counters it wrote in memory; its timestamp must read as the store's."""
    store = pyoxigraph.Store()
    store.add(Quad(keys.REGISTER, keys.LAST_TIMESTAMP, keys.timestamp_literal(written), keys.G_SYSTEM))
    (read,) = [q.object.value for q in store.quads_for_pattern(keys.REGISTER, None, None, None)]
    assert canonical_time(written) == read
