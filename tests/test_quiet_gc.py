"""An import collects garbage less often, and leaves the process's collector as it found it."""

from __future__ import annotations

import gc

import pytest

from app.exchange.importer import run_import
from app.exchange.quiet_gc import THRESHOLDS, fewer_collections
from app.exchange.spreadsheet import FileRejected
from tests.test_import_rounds import GENT


def test_the_last_of_two_imports_restores_the_collector():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == THRESHOLDS and gc.get_freeze_count() > 0
        with fewer_collections():
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS  # the other import still runs
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_cycles_made_during_an_import_are_still_freed():
    with fewer_collections():
        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2


def test_a_refused_file_also_restores_the_collector(tmp_path, register):
    before = gc.get_threshold()
    empty = tmp_path / "leeg.csv"
    empty.write_text("Naam;Postcode\n", encoding="utf-8")
    with pytest.raises(FileRejected):
        run_import(empty, "verenigingen", register.handler, GENT, dry_run=True)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
