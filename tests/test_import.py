"""`vr import` with real .csv and .xlsx files: dry run, commit, re-run, malformed files, kill -9."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from pyoxigraph import NamedNode

from app.domain.versions import Initiator
from app.exchange.importer import run_import
from app.exchange.spreadsheet import FileRejected
from app.namespaces import GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC
from tests.conftest import dump

ROOT = Path(__file__).resolve().parent.parent
GENT = Initiator("OVO000001", "Gemeente Gent")
HEADER = ["Sleutel", "Naam", "Hoofdactiviteiten", "Straat", "Huisnummer", "Postcode", "Gemeente", "E-mail",
          "Vertegenwoordiger INSZ", "Vertegenwoordiger voornaam", "Vertegenwoordiger achternaam"]
STREETS = ["Kouter", "Veldstraat", "Korenmarkt", "Vrijdagmarkt", "Sint-Pietersplein", "Overpoortstraat"]
CLUBS = ["Schaakclub Het Paard", "Imkersbond De Honingbij", "Toneelkring Vondel", "Harmonie Sint-Cecilia",
         "Wandelclub De Stappers", "Fotoclub Diafragma"]


def rows(count: int = 6) -> list[list[str]]:
    return [[f"GENT-{i:04d}", CLUBS[i % len(CLUBS)] + ("" if i < len(CLUBS) else f" {i}"), "HOSP",
             STREETS[i % len(STREETS)], str(i + 1), str(9000 + i * 10), f"Gemeente{i}", f"info{i}@club{i}.be",
             "85073003328", "An", "Peeters"] for i in range(count)]


def write_csv(path: Path, data: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(header)
        writer.writerows(data)
    return path


def write_xlsx(path: Path, data: list[list[object]], header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in data:
        sheet.append(row)
    workbook.save(path)
    return path


def count_verenigingen(register) -> int:
    query = "SELECT (COUNT(?v) AS ?n) WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"
    return int(next(iter(register.store.store.query(query, default_graph=[NamedNode(GRAPH_PUBLIC)])))[0].value)


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_dry_run_reports_and_writes_nothing(tmp_path, register, writer):
    data = rows(4)
    data[1][2] = "HOSP, ONBEKEND"  # bad code
    data[2][8] = "85073003329"  # bad INSZ checksum
    data[3][1] = data[0][1] + "s"  # near-duplicate of row 2 …
    data[3][5], data[3][6] = data[0][5], data[0][6]  # … in the same place
    path = writer(tmp_path / f"lijst{'.csv' if writer is write_csv else '.xlsx'}", data)
    before = dump(register)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True, show_progress=False)
    assert dump(register) == before
    found = {(f.row, f.column) for f in report.errors}
    assert (3, "Hoofdactiviteiten") in found and (4, "Vertegenwoordiger INSZ") in found
    assert [(d["rij"], d["dubbel"]) for d in report.duplicates] == [(5, "rij 2")]
    files = report.write(tmp_path / "rapport")
    assert {p.name for p in files} >= {"validatie.csv", "validatie.xlsx", "dubbels.csv", "dubbels.xlsx"}
    sheet = load_workbook(tmp_path / "rapport" / "validatie.xlsx").active
    assert [c.value for c in next(sheet.iter_rows())] == ["rij", "kolom", "melding"]


def test_commit_loads_valid_rows_skips_invalid_and_second_run_updates(tmp_path, register):
    data = rows(5)
    data[4][5] = ""  # missing postcode: invalid row
    path = write_csv(tmp_path / "lijst.csv", data)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, show_progress=False)
    actions = [r["actie"] for r in report.results]
    assert actions.count("geregistreerd") == 4 and actions[4].startswith("overgeslagen")
    assert count_verenigingen(register) == 4

    again = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, show_progress=False)
    assert [r["actie"] for r in again.results][:4] == ["ongewijzigd"] * 4
    data[0][1] = "Schaakclub Het Witte Paard"
    write_csv(path, data)
    third = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, show_progress=False)
    assert third.results[0]["actie"] == "bijgewerkt" and third.results[0]["vCode"] == report.results[0]["vCode"]
    assert count_verenigingen(register) == 4


@pytest.mark.parametrize("case", ["wrong columns", "missing column", "bad encoding", "only empty rows", "not xlsx",
                                  "no header"])
def test_malformed_files_are_refused_whole(tmp_path, register, case):
    path = tmp_path / "lijst.csv"
    if case == "wrong columns":
        write_csv(path, rows(2), header=HEADER[:-1] + ["Schoenmaat"])
    elif case == "missing column":
        write_csv(path, [r[1:] for r in rows(2)], header=HEADER[1:])
    elif case == "bad encoding":
        write_csv(path, [[*r[:1], "Café Ñandú", *r[2:]] for r in rows(2)], encoding="latin-1")
    elif case == "only empty rows":
        write_csv(path, [[""] * len(HEADER)] * 3)
    elif case == "not xlsx":
        path = tmp_path / "lijst.xlsx"
        path.write_bytes(b"dit is geen excel")
    else:
        path.write_text("", encoding="utf-8")
    before = dump(register)
    with pytest.raises(FileRejected) as refused:
        run_import(path, "verenigingen", register.handler, GENT, dry_run=False, show_progress=False)
    assert str(refused.value)
    assert dump(register) == before


def test_empty_rows_between_data_are_skipped_and_reported(tmp_path, register):
    data = rows(2)
    path = write_csv(tmp_path / "lijst.csv", [data[0], [""] * len(HEADER), data[1]])
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False, show_progress=False)
    assert report.skipped_empty == [3]
    assert [r["rij"] for r in report.results] == [2, 4]


def test_kbo_sheet(tmp_path, register):
    header = ["Sleutel", "KBO-nummer", "Rechtsvorm", "Naam", "Postcode", "Straat", "Huisnummer", "Gemeente"]
    path = write_xlsx(tmp_path / "kbo.xlsx", [
        ["K1", "0202.239.951", "VZW", "Sportraad Gent vzw", "9000", "Zuiderlaan", "13", "Gent"],
        ["K2", "0202.239.952", "VZW", "Foute checksum vzw", "9000", "Zuiderlaan", "14", "Gent"],
    ], header=header)
    report = run_import(path, "kbo", register.handler, GENT, dry_run=False, show_progress=False)
    assert report.results[0]["actie"] == "geregistreerd"
    assert (3, "KBO-nummer") in {(f.row, f.column) for f in report.errors}


def test_kill_9_mid_import_leaves_complete_associations_and_a_rerun_finishes(tmp_path, settings):
    total = 400
    path = write_csv(tmp_path / "groot.csv", rows(total))
    env = dict(os.environ, VR_DATA_DIR=str(settings.data_dir), VR_BASE_URL=settings.base_url, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "app.cli.main", "import", str(path), "--ovo", "OVO000001", "--naam", "Gent",
               "--report", str(tmp_path / "r1")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    progress = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the progress bar (stderr) says how far the import is
        progress += os.read(process.stderr.fileno(), 4096)
        done = [int(m) for m in re.findall(rb"\| *(\d+)/" + str(total).encode(), progress)]
        if done and done[-1] >= 40:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    from app.register import Register

    register = Register.open(settings)
    committed = count_verenigingen(register)
    assert 0 < committed < total, committed
    versions = list(register.store.store.query(
        "SELECT ?vc (COUNT(?v) AS ?n) WHERE { ?v <http://purl.org/dc/terms/isVersionOf> ?vc } GROUP BY ?vc",
        default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)]))
    assert len(versions) == committed and all(int(row["n"].value) == 1 for row in versions)
    del register
    import gc

    gc.collect()
    finished = subprocess.run(command[:-1] + [str(tmp_path / "r2")], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = list(csv.DictReader((tmp_path / "r2" / "resultaat.csv").open(encoding="utf-8")))
    assert sum(r["actie"] == "ongewijzigd" for r in result) == committed
    assert sum(r["actie"] == "geregistreerd" for r in result) == total - committed
    register = Register.open(settings)
    assert count_verenigingen(register) == total
    assert len({r["vCode"] for r in result}) == total
