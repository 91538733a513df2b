"""The import's store-free work per row, in worker processes: reading, parsing, rules, SHACL, the records as text.

A row costs ~3 ms of Python here; under one GIL that caps an import at about one core, while the
bulk write it feeds uses two. The same functions the importer runs in its own process
(importer.RowReader.read, batch_check.precheck: the handler's store-free half of a registration
check) run here on a batch of rows; the importer keeps what needs the store or the order of the
file, and applies what comes back exactly as if it had computed it itself.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

from app.domain import duplicates
from app.domain.batch_check import Prechecked, precheck
from app.domain.named_commands import Register
from app.domain.versions import Initiator, Provenance
from app.exchange import quiet_gc
from app.exchange.importer import Importer, Item, RowReader, steady_heap
from app.exchange.rows import Mapping
from app.exchange.spreadsheet import Row
from app.parent_watch import end_with_parent
from app.validation import shacl

_worker: dict = {}  # this worker process's settings (set once by _start)


def _start(mapping: Mapping, columns: dict[int, str], initiator: Initiator, reason: str, base: str, secret: bytes,
           engine: str, dry_run: bool) -> None:
    end_with_parent()
    _worker.update(reader=RowReader(mapping, columns, initiator), initiator=initiator, reason=reason, base=base,
                   secret=secret, engine=engine, dry_run=dry_run)
    shacl.compile_shapes(engine)
    steady_heap()
    quiet_gc.for_this_process()


def check_rows(pairs: list[tuple[Item, Row]]) -> tuple[list[Item], list[tuple[str, Prechecked] | None]]:
    """Read and parse each row; for a batch to commit, also the checks of the rows that would be registered
    (their confirmation token and batch_check.precheck's findings; None for a row with errors)."""
    reader: RowReader = _worker["reader"]
    items = []
    for item, row in pairs:
        reader.read(item, row)
        items.append(item)
    out: list[tuple[str, Prechecked] | None] = [None] * len(items)
    if _worker["dry_run"]:
        return _sent(items), out
    ready = [i for i, item in enumerate(items) if item.state is not None and not item.has_errors]
    tokens = [duplicates.confirmation_token(items[i].state, _worker["secret"]) for i in ready]
    actor = _worker["initiator"]
    prov = Provenance(Register.activity, actor, _worker["reason"])  # as CommandHandler.check_commands makes it
    found = precheck([(Register(items[i].state, token).apply(None, actor), token, prov)
                      for i, token in zip(ready, tokens, strict=True)],
                     _worker["base"], _worker["secret"], _worker["engine"])
    for i, token, entry in zip(ready, tokens, found, strict=True):
        out[i] = (token, entry)
    return _sent(items), out


def _sent(items: list[Item]) -> list[Item]:
    """The importer has each row's cells and needs no notes any more (they are findings now): less to send back."""
    for item in items:
        item.result.cells = ()
        if item.read is not None:
            item.read.notes = []
    return items


class RowPool:
    """`workers` spawned processes set up for one import (spawn: the register runs threads)."""

    def __init__(self, workers: int, importer: Importer) -> None:
        self._executor = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
            initargs=(importer.mapping, importer.columns, importer.initiator, importer.reason, importer.handler.base,
                      importer.handler.secret, importer.engine, importer.dry_run))

    def submit(self, items: list[Item], batch: list[Row]) -> Future:
        return self._executor.submit(check_rows, list(zip(items, batch, strict=True)))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
