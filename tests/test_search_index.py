"""The search index on its own: paging/sorting strategies against brute force, reopening, schema upgrades."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
from pathlib import Path

import pytest

from app.domain import places
from app.domain.parse import empty_state
from app.index.search_index import SCHEMA_VERSION, SORTS, Query, SearchIndex

WORDS = ["Chiro", "Harmonie", "Toneel", "Zwem", "Schaak"]
CODES = ["SPRT", "JGDW", "KECU", "HOSP"]


def generated(i: int, rng: random.Random, postcodes: list[str]) -> dict:
    state = empty_state("FV" if i % 2 else "VZER")
    start = None if i % 5 == 0 else f"{rng.randint(1950, 2024)}-01-01"  # some without: they sort last
    state.update(naam=f"{rng.choice(WORDS)} {rng.choice('abcdefgh')}{i}", korteBeschrijving="Vereniging.",
                 startdatum=start, status="Gestopt" if i % 7 == 0 else "Actief",
                 hoofdactiviteiten=rng.sample(CODES, rng.randint(1, 2)))
    state["locaties"] = [{"id": 1, "locatietype": "Activiteiten", "isPrimair": True, "naam": None, "adresId": None,
                          "adres": {"straatnaam": "Kerkstraat", "huisnummer": "1", "postcode": rng.choice(postcodes),
                                    "gemeente": "Ergens", "land": "België"}}]
    return state


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    rng = random.Random(3)
    postcodes = ["9000", "2000", "8000", "3000", "3500"]
    path = tmp_path_factory.mktemp("zoek") / "index.sqlite3"
    index = SearchIndex(path, None, "http://test")
    states = {f"V{1001 + i:07d}": generated(i, rng, postcodes) for i in range(600)}
    for vcode, state in states.items():
        index.add(vcode, state, "2026-01")
    index.commit()
    yield index, states, path
    index.close()


def brute_force(states: dict, sort: str, keep) -> list[str]:
    """The expected order: by the sort key, records without a value last in either direction."""
    key = {"naam": lambda item: (item[1]["naam"].lower(), item[0]), "vCode": lambda item: item[0],
           "startdatum": lambda item: (item[1]["startdatum"], item[0])}[sort.lstrip("-")]
    chosen = [item for item in states.items() if item[1]["status"] == "Actief" and keep(item[1])]
    field = {"vCode": None}.get(sort.lstrip("-"), sort.lstrip("-"))
    present = [item for item in chosen if field is None or item[1][field]]
    missing = [item for item in chosen if field is not None and not item[1][field]]
    descending = sort.startswith("-")
    return [vcode for vcode, _ in sorted(present, key=key, reverse=descending)] + \
        sorted((vcode for vcode, _ in missing), reverse=descending)


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("filters", [{}, {"hoofdactiviteit": ["SPRT"]}, {"postcode": ["9000"], "type": ["FV"]}])
def test_pages_match_brute_force_for_every_sort(filled, sort, filters):
    """Broad sets are read off the sorted SQLite index, narrow ones sorted as a set: both must agree."""
    index, states, _ = filled

    def keep(state: dict) -> bool:
        return ("SPRT" in state["hoofdactiviteiten"] if "hoofdactiviteit" in filters else True) and \
            (state["locaties"][0]["adres"]["postcode"] == "9000" if "postcode" in filters else True) and \
            (state["verenigingstype"] == "FV" if "type" in filters else True)

    expected = brute_force(states, sort, keep)
    for offset in (0, 20, len(expected) - 5):
        result = index.search(Query("", filters, sort, max(offset, 0), 20))
        assert result["totaal"] == len(expected)
        assert [v["vCode"] for v in result["verenigingen"]] == expected[max(offset, 0):max(offset, 0) + 20]


def test_facet_counts_ignore_their_own_filter_and_match_the_data(filled):
    index, states, _ = filled
    active = [s for s in states.values() if s["status"] == "Actief"]
    result = index.search(Query("", {"hoofdactiviteit": ["SPRT"]}, limit=1))
    counts = {f["waarde"]: f["aantal"] for f in result["facetten"]["hoofdactiviteit"]}
    assert counts == {code: sum(code in s["hoofdactiviteiten"] for s in active) for code in CODES}
    types = {f["waarde"]: f["aantal"] for f in result["facetten"]["type"]}
    assert sum(types.values()) == result["totaal"] == sum("SPRT" in s["hoofdactiviteiten"] for s in active)
    provinces = {f["waarde"] for f in result["facetten"]["provincie"]}
    assert provinces <= {"BE21", "BE22", "BE23", "BE24", "BE25"}


def test_free_text_covers_names_and_places_with_prefixes(filled):
    index, states, _ = filled
    chiro = index.search(Query("chir", limit=1000))
    assert chiro["totaal"] == sum(s["naam"].startswith("Chiro") and s["status"] == "Actief"
                                  for s in states.values())
    gent = places.postcode_table()["9000"]
    by_postcode = index.search(Query("9000", limit=1))["totaal"]
    assert by_postcode == index.search(Query("", {"gemeente": [gent]}, limit=1))["totaal"] > 0


def test_a_v_code_typed_in_the_search_box_finds_that_vereniging(filled):
    index, states, _ = filled
    vcode = next(v for v, s in states.items() if s["status"] == "Actief")
    for typed in (vcode, vcode.lower(), f" {vcode} "):
        found = index.search(Query(typed, limit=5))
        assert [hit["vCode"] for hit in found["verenigingen"]] == [vcode], typed
    assert index.search(Query("V9999999", limit=5))["totaal"] == 0


def test_a_clean_close_saves_the_bitmaps_and_an_unclean_stop_rebuilds_them(filled):
    index, _, path = filled
    queries = (Query(), Query("toneel", {"type": ["FV"]}, "-startdatum", 20), Query("", {"provincie": ["BE23"]}))
    rebuilt = SearchIndex(path, None, "http://test")  # `filled` was never closed: as after a crash
    try:
        assert not rebuilt.bitmaps_loaded
        for query in queries:
            assert rebuilt.search(query) == index.search(query)
    finally:
        rebuilt.close()  # a clean close saves the bitmaps with the sequence they reflect
    loaded = SearchIndex(path, None, "http://test")
    try:
        assert loaded.bitmaps_loaded and loaded._vocabulary is not None  # the typo word list came along
        assert loaded.search(Query("harmonei"))["suggestie"] == "harmonie"
        for query in queries:
            assert loaded.search(query) == index.search(query)
    finally:
        loaded.close()


def test_typo_suggestions_come_from_the_indexed_words(filled):
    index, states, _ = filled
    result = index.search(Query("harmonei", limit=1000))
    assert result["suggestie"] == "harmonie" and result["verbeterd"]
    assert result["totaal"] == sum(s["naam"].startswith("Harmonie") and s["status"] == "Actief"
                                   for s in states.values())
    assert index.search(Query("harmonie", limit=1))["suggestie"] is None  # a word that matches is left alone
    assert index.search(Query("xqzwv", limit=1))["suggestie"] is None  # nothing close: no suggestion


def test_an_index_file_of_an_older_layout_is_dropped_and_rebuilt(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); "
                         "INSERT INTO meta VALUES ('sequentie', '99'); CREATE TABLE vereniging (vcode TEXT);")
    index = SearchIndex(path, None, "http://test")
    try:
        assert index.last_sequence == 0  # so catch_up replays everything into the new layout
    finally:
        index.close()


def test_words_of_records_added_later_are_suggested_too(tmp_path):
    index = SearchIndex(tmp_path / "index.sqlite3", None, "http://test")
    try:
        rng = random.Random(5)
        index.add("V0001001", generated(1, rng, ["9000"]), "2026-01")
        assert index.search(Query("kantklosers"))["suggestie"] is None  # the word list is read now
        later = generated(2, rng, ["9000"])
        later["naam"] = "Kantklossers Ter Beke"
        index.add("V0001002", later, "2026-01")
        found = index.search(Query("kantklosers"))
        assert found["suggestie"] == "kantklossers" and found["totaal"] == 1
    finally:
        index.close()


def test_a_register_closed_cleanly_starts_with_its_saved_bitmaps(settings):
    import gc

    from app.cli.main import load_demo
    from app.register import Register

    register = Register.open(settings)
    try:
        load_demo(register, quiet=True)
        before = register.index.search(Query("", {"provincie": ["BE23"]}))
    finally:
        register.close()
    del register
    gc.collect()  # releases the Oxigraph lock
    again = Register.open(settings)
    try:
        assert again.index.bitmaps_loaded  # a normal start: no rebuild
        assert again.index.search(Query("", {"provincie": ["BE23"]})) == before
    finally:
        again.close()


def test_the_start_page_facet_counts_follow_every_change(tmp_path):
    index = SearchIndex(tmp_path / "index.sqlite3", None, "http://test")
    try:
        rng = random.Random(9)
        first = generated(1, rng, ["9000"])
        index.add("V0001001", first, "2026-01")
        before = {f["waarde"]: f["aantal"] for f in index.search(Query())["facetten"]["type"]}
        index.add("V0001002", generated(2, rng, ["9000"]), "2026-01")
        after = {f["waarde"]: f["aantal"] for f in index.search(Query())["facetten"]["type"]}
        assert sum(after.values()) == sum(before.values()) + 1
    finally:
        index.close()


def sqlite_order(index: SearchIndex, sort: str, where: str = "") -> list[str]:
    """The V-codes as SQLite's ORDER BY sorts them: NOCASE for names, missing values (NULL and '' alike)
    last, equal keys by record number."""
    column, descending = SORTS[sort]
    direction = "DESC" if descending else "ASC"
    collate = " COLLATE NOCASE" if column == "naam" else ""
    missing = f"({column} IS NULL OR {column} = '')"
    return [vcode for (vcode,) in index.db.execute(
        f"SELECT vcode FROM vereniging {where} ORDER BY {missing}, CASE WHEN {missing} THEN '' ELSE {column} END"
        f"{collate} {direction}, id {direction}")]


@pytest.mark.parametrize("sort", ["naam", "-naam", "startdatum", "-startdatum"])
def test_bucketed_sort_orders_page_exactly_as_sqlite_sorts(tmp_path, monkeypatch, sort):
    """Tiny buckets (so they split as records arrive, and are counted through for every page) give the pages
    SQLite's ORDER BY gives: NOCASE folds ASCII only, equal keys by record number, missing values last."""
    from app.index import sort_order

    monkeypatch.setattr(sort_order, "TARGET", 4)
    rng = random.Random(11)
    names = ["chiro", "Chiro", "Émile", "émile", "Zwem", "zwem", "Ørsted", "aa", "", "Toneel", "toneel b"]
    index = SearchIndex(tmp_path / "index.sqlite3", None, "http://test")
    try:
        for i in range(400):
            state = generated(i, rng, ["9000"])
            state["status"] = "Actief"
            state["naam"] = f"{rng.choice(names)}{rng.choice(['', '', ' x'])}" or None
            state["startdatum"] = rng.choice([None, "", "2001-01-01", "1999-05-05", f"{1950 + i % 60}-02-03"])
            index.add(f"V{1001 + i:07d}", state, "2026-01")
            if i % 50 == 49:
                index._forget(1001 + rng.randrange(i))  # removed records leave their buckets
        index.commit()
        column = SORTS[sort][0]
        expected = sqlite_order(index, sort)
        assert len(index.orders[column].buckets) > 8  # split as they grew (equal keys stay together)
        for offset in (0, 3, 17, 150, len(expected) - 30, len(expected) - 5):
            page = index.search(Query("", {}, sort, offset, 20))["verenigingen"]
            assert [v["vCode"] for v in page] == expected[offset:offset + 20]
        wanted = [v for v in expected if index.db.execute("SELECT type FROM vereniging WHERE vcode = ?", (v,))
                  .fetchone()[0] == "FV"]
        page = index.search(Query("", {"type": ["FV"]}, sort, 40, 20))["verenigingen"]
        assert [v["vCode"] for v in page] == wanted[40:60]
    finally:
        index.close()
    reopened = SearchIndex(tmp_path / "index.sqlite3", None, "http://test")  # the saved buckets come back
    try:
        assert reopened.bitmaps_loaded
        assert [v["vCode"] for v in reopened.search(Query("", {}, sort, 100, 20))["verenigingen"]] == \
            expected[100:120]
    finally:
        reopened.close()


def test_renamed_records_sit_in_one_bucket_of_each_order_and_page_as_sqlite_sorts(tmp_path, monkeypatch):
    """A record indexed again under another name or date (forget, then add) leaves its old bucket: found by
    the value it had, not by a search through every bucket, and still in exactly one place per order."""
    from app.index import sort_order

    monkeypatch.setattr(sort_order, "TARGET", 4)
    rng = random.Random(5)
    index = SearchIndex(tmp_path / "index.sqlite3", None, "http://test")
    try:
        states = {1001 + i: generated(i, rng, ["9000"]) for i in range(300)}
        for number, state in states.items():
            index.add(f"V{number:07d}", state, "2026-01")
        for _ in range(400):  # renames and new dates, across the bucket boundaries
            number = rng.choice(list(states))
            state = states[number]
            state["naam"] = f"{rng.choice(WORDS)} {rng.choice('abcdefgh')}{rng.randrange(1000)}"
            state["startdatum"] = rng.choice([None, f"{rng.randint(1950, 2024)}-06-01"])
            index._forget(number)
            index.add(f"V{number:07d}", state, "2026-01")
        index.commit()
        for column, order in index.orders.items():  # every record exactly once
            assert sorted(n for bucket in [order.missing, *order.buckets] for n in bucket) == sorted(states), column
        assert len(index.orders["naam"].buckets) > 8
        for sort in ("naam", "-startdatum"):
            expected = sqlite_order(index, sort, "WHERE status = 'Actief'")
            for offset in (0, 37, len(expected) - 10):
                page = index.search(Query("", {}, sort, offset, 20))["verenigingen"]
                assert [v["vCode"] for v in page] == expected[offset:offset + 20], sort
    finally:
        index.close()


def test_a_sort_order_finds_a_record_by_its_value_or_else_in_every_bucket():
    from app.index.sort_order import SortOrder, same

    order = SortOrder(same, lambda numbers: [(n, f"k{n:04d}") for n in numbers])
    order.target = 4
    for number in range(1, 101):
        order.add(number, f"k{number:04d}")
    assert len(order.buckets) > 8
    order.discard(50, "k0050")  # its own value: its bucket
    order.discard(60, "k0001")  # a value it does not have (an index out of step): found all the same
    order.discard(70)  # no value given
    order.add(101, None)  # a record without a value sits apart
    order.discard(101, None)
    remaining = sorted(n for bucket in [order.missing, *order.buckets] for n in bucket)
    assert remaining == [n for n in range(1, 101) if n not in (50, 60, 70)]


def test_another_process_places_a_new_vereniging_in_its_own_sort_orders(register, post, client, keys, monkeypatch):
    """A second index on the same file (as a second `vr serve` worker) takes the write of the first into its
    buckets: the new vereniging shows on the page of every sort where it belongs."""
    from app.index import sort_order
    from tests.conftest import Keys, valid_body

    monkeypatch.setattr(sort_order, "TARGET", 2)  # even the few records of this test fill several buckets
    for name in ("Aalst Atletiek", "Brugse Bridge", "Gentse Gidsen", "Zwemclub Zele"):
        assert post(valid_body(naam=name, startdatum="2001-01-01")).status_code == 201
    other = SearchIndex(register.settings.data_dir / "zoekindex.sqlite3", None, register.settings.base)
    try:
        assert other.search(Query(sort="naam"))["totaal"] == 4
        assert post(valid_body(naam="Chiro Centrum", startdatum="1999-09-09")).status_code == 201
        for sort, first in (("naam", ["Aalst Atletiek", "Brugse Bridge", "Chiro Centrum"]),
                            ("startdatum", ["Chiro Centrum", "Aalst Atletiek", "Brugse Bridge"])):
            here = [v["naam"] for v in register.index.search(Query(sort=sort, limit=3))["verenigingen"]]
            there = [v["naam"] for v in other.search(Query(sort=sort, limit=3))["verenigingen"]]
            assert here == there == first
        zwemclub = next(v["vCode"] for v in register.index.search(Query("zwemclub"))["verenigingen"])
        renamed = client.patch(f"/verenigingen/{zwemclub}", json={"naam": "Aquaclub Zele", "startdatum": None},
                               headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
        assert renamed.status_code == 200, renamed.get_data(as_text=True)
        for sort, order in (("naam", ["Aalst Atletiek", "Aquaclub Zele", "Brugse Bridge", "Chiro Centrum",
                                      "Gentse Gidsen"]),
                            ("-startdatum", ["Gentse Gidsen", "Brugse Bridge", "Aalst Atletiek", "Chiro Centrum",
                                             "Aquaclub Zele"])):  # moved out of its old bucket, into the new one
            there = [v["naam"] for v in other.search(Query(sort=sort))["verenigingen"]]
            assert there == order
    finally:
        other.close()


def test_the_full_text_columns_follow_the_description_and_leave_restricted_data_out():
    """A field marked `search` in app/domain/model.py is searchable (roepnaam, added that way); personal data
    of the restricted parts never reaches the public index, even when a state carries it."""
    from app.domain.model import MODEL
    from app.index import full_text
    from tests.conftest import VALID_BODY

    assert set(full_text.COLUMNS) == {f.search for f in MODEL.fields if f.search} | {"contact", "plaats"}
    state = generated(1, random.Random(1), ["9041"])
    state.update(roepnaam="De Gidsen", vertegenwoordigers=VALID_BODY["vertegenwoordigers"])
    text = " ".join(full_text.texts(state).values())
    assert "De Gidsen" in text and "Gent" in text and "Oost-Vlaanderen" in text  # places of the postcode
    assert "Peeters" not in text and "85073003328" not in text and "an.peeters" not in text


def test_a_vereniging_is_found_by_its_roepnaam(register, client, keys):
    from tests.conftest import Keys

    kbo = client.post("/verenigingen/kbo", json={"kboNummer": "0202239951", "verenigingstype": "VZW",
                                                 "naam": "Koninklijke Harmonie Sint-Cecilia"},
                      headers=Keys.auth(keys.initiator)).get_json()["vCode"]
    assert register.index.search(Query("fanfaretje"))["totaal"] == 0
    changed = client.patch(f"/verenigingen/{kbo}", json={"roepnaam": "Het Fanfaretje"},
                           headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    found = client.get("/api/zoeken?q=fanfaretje").get_json()
    assert [v["vCode"] for v in found["verenigingen"]] == [kbo]


def test_the_write_path_indexes_exactly_what_a_rebuild_from_the_store_indexes(register, post, client, keys, tmp_path):
    """HTTP writes hand the index the public quads they committed instead of it reading them back: after
    registrations, a change and a removal, its rows equal those of an index built from the store alone."""
    from tests.conftest import Keys, valid_body

    made = [post(valid_body(naam=name)).get_json()["vCode"] for name in ("Aalst Atletiek", "Brugse Bridge")]
    changed = client.patch(f"/verenigingen/{made[0]}", json={"naam": "Aalsterse Atleten", "korteNaam": "AA"},
                           headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    removed = client.delete(f"/verenigingen/{made[1]}", json={"reden": "Dubbel ingevoerd"},
                            headers=Keys.auth(keys.admin))
    assert removed.status_code in (200, 204), removed.get_data(as_text=True)
    rebuilt = SearchIndex(tmp_path / "herbouwd.sqlite3", register.store, register.settings.base)
    try:
        rebuilt.catch_up(register.handler.latest_sequence)

        def rows(index: SearchIndex) -> dict:
            return {table: sorted(index.db.execute(f"SELECT * FROM {table}").fetchall())
                    for table in ("vereniging", "facet")}

        assert rows(register.index) == rows(rebuilt)
        assert [v["naam"] for v in register.index.search(Query("atleten"))["verenigingen"]] == ["Aalsterse Atleten"]
    finally:
        rebuilt.close()


def _open_at_once(path: str, start, out) -> None:
    start.wait()  # every process opens the new file at the same moment
    try:
        index = SearchIndex(Path(path), None, "http://test")
        out.put((index.db.execute("PRAGMA journal_mode").fetchone()[0], index.last_sequence))
        index.close()
    except Exception as exc:  # reported to the test, not lost in a child's stderr
        out.put(("fout", repr(exc)))


def test_processes_opening_a_new_index_at_once_all_get_it(tmp_path):
    """Two `vr serve` of one data directory start together: each opens the new index, in WAL mode, with the
    layout intact (without taking turns, one start in a few died on "database is locked")."""
    context = multiprocessing.get_context("fork")  # the modules are loaded once: the opens really collide
    for attempt in range(12):
        path = str(tmp_path / f"index{attempt}.sqlite3")
        start, out = context.Barrier(3), context.Queue()
        processes = [context.Process(target=_open_at_once, args=(path, start, out)) for _ in range(3)]
        for process in processes:
            process.start()
        outcomes = [out.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert outcomes == [("wal", 0)] * 3, (attempt, outcomes)
        reopened = SearchIndex(Path(path), None, "http://test")
        assert reopened.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        reopened.close()
