"""Rows read and checked in worker processes get exactly the verdicts and writes of rows checked in-process.

A file of more than one chunk is read, parsed, checked by the rules and SHACL and turned into
N-Quads text in worker processes (app/exchange/row_workers.py); what needs the store or the order
of the file stays in the importer's process. Here the realistic messy workbook, plus valid rows (one
whose name holds the placeholder V-code the text is made under), goes through both ways in small
batches: round 1 and round 2 must report the same per row and write the same quads.
"""

from __future__ import annotations

import re

import requests

from app.config import Settings
from app.exchange.importer import run_import
from app.register import Register
from tests.conftest import BASE, valid_body
from tests.test_import_rounds import GENT, HEADER, messy_rows, registered
from tests.workbooks import write_xlsx

_TIME = re.compile(rb'"[0-9T:.+-]+Z?"\^\^<http://www.w3.org/2001/XMLSchema#dateTime>|\\"time\\":\\"[^\\]*\\"')


def workbook(tmp_path):
    extra = [[f"X-{i:02d}", f"Damclub {name}", "", "01/02/2003", "Sport", "Kouter", str(i), 9000, "Gent",
              f"dam{i}@example.be", "09/233 45 67", "", "", "bevestig-nieuw"]
             for i, name in enumerate(["V9000000", "De Zet", "Het Bord", "De Schijf", "Wit en Zwart", "De Dam",
                                       "Damlust", "De Kroon", "Remise"])]
    rows = [[*row, "bevestig-nieuw" if i % 3 == 0 else ""] for i, row in enumerate(messy_rows())] + extra
    return write_xlsx(tmp_path / "lijst.xlsx", header=[*HEADER, "Actie"], rows=rows)


def outcome(report) -> list:
    return [(r.row, r.sleutel, r.naam, r.status, r.vcode, r.actie, [(c.ref, c.score) for c in r.candidates],
             [(f.level, f.column, f.value, f.message, f.fix) for f in r.findings]) for r in report.results]


def canonical(register: Register) -> list[bytes]:
    register.store.flush()
    return sorted(_TIME.sub(b'"T"', line) for line in register.store.dump_nquads().splitlines()
                  if b"#registerId>" not in line)  # each register's own random id


def run_both_rounds(tmp_path, store_server, workers: int, batch_size: int = 4, chunk_size: int = 4
                    ) -> tuple[list, list, list[bytes]]:
    """On an empty register (whichever engine) with one vereniging: round 1 and round 2 of the workbook."""
    if store_server:
        requests.post(store_server + "/update", data="DROP ALL", headers={"Content-Type": "application/sparql-update"},
                      timeout=30).raise_for_status()
    register = Register.open(Settings(data_dir=tmp_path / f"var{workers}-{batch_size}-{chunk_size}", base_url=BASE))
    try:
        registered(register, valid_body(vertegenwoordigers=[]))
        path = workbook(tmp_path)
        how = {"batch_size": batch_size, "chunk_size": chunk_size, "workers": workers}
        dry = run_import(path, "verenigingen", register.handler, GENT, dry_run=True, **how)
        done = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, **how)
        return outcome(dry), outcome(done), canonical(register)
    finally:
        register.close()


def test_worker_processes_change_no_verdict_and_no_write(tmp_path, store_server):
    in_process = run_both_rounds(tmp_path, store_server, 0)
    in_workers = run_both_rounds(tmp_path, store_server, 2)
    assert in_process[0] == in_workers[0]  # round 1: every row's status, messages and candidates
    assert in_process[1] == in_workers[1]  # round 2
    statuses = {line[3] for line in in_workers[1]}
    assert {"geregistreerd", "beslissing nodig: niet geïmporteerd", "fout: niet geïmporteerd"} <= statuses
    assert ("Damclub V9000000", "geregistreerd") in {(line[2], line[3]) for line in in_workers[1]}
    assert in_process[2] == in_workers[2]  # the same quads written


def test_a_batch_of_several_chunks_commits_what_one_chunk_of_that_size_commits(tmp_path, store_server):
    """Workers check chunks of 4 rows; the importer commits them 12 rows at a time, as one chunk of 12 would."""
    whole = run_both_rounds(tmp_path, store_server, 0, batch_size=12, chunk_size=12)
    chunked = run_both_rounds(tmp_path, store_server, 2, batch_size=12, chunk_size=4)
    assert whole == chunked
    assert len(whole[1]) > 12  # more than one batch


def test_progress_comes_per_batch_of_chunks(tmp_path, register):
    path = workbook(tmp_path)
    seen: list[int] = []
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, batch_size=12, chunk_size=4,
                        workers=2, progress=seen.append)
    assert seen == [*range(12, len(report.results), 12), len(report.results)]
