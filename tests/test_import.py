"""`vr import` with real .csv and .xlsx files: dry run, commit, re-run, malformed files, kill -9."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from app.domain.versions import Initiator
from app.exchange.importer import run_import
from app.exchange.spreadsheet import FileRejected
from app.namespaces import GRAPH_PUBLIC, GRAPH_VERSIONS_PUBLIC
from tests import workbooks
from tests.conftest import dump

ROOT = Path(__file__).resolve().parent.parent
GENT = Initiator("OVO000001", "Gemeente Gent")
HEADER = ["Sleutel", "Naam", "Hoofdactiviteiten", "Straat", "Huisnummer", "Postcode", "Gemeente", "E-mail",
          "Vertegenwoordiger INSZ", "Vertegenwoordiger voornaam", "Vertegenwoordiger achternaam"]
STREETS = ["Kouter", "Veldstraat", "Korenmarkt", "Vrijdagmarkt", "Sint-Pietersplein", "Overpoortstraat"]
CLUBS = ["Schaakclub Het Paard", "Imkersbond De Honingbij", "Toneelkring Vondel", "Harmonie Sint-Cecilia",
         "Wandelclub De Stappers", "Fotoclub Diafragma"]


def rows(count: int = 6) -> list[list[str]]:
    """Rows in different gemeenten (two rows of one gemeente are different kinds of club)."""
    where = workbooks.flemish_places()
    return [[f"GENT-{i:04d}", CLUBS[(i // len(where)) % len(CLUBS)], "HOSP", STREETS[i % len(STREETS)], str(i + 1),
             *where[i % len(where)], f"info{i}@club{i}.be", "85073003328", "An", "Peeters"] for i in range(count)]


write_csv = partial(workbooks.write_csv, header=HEADER)
write_xlsx = partial(workbooks.write_xlsx, header=HEADER)


def count_verenigingen(register) -> int:
    query = "SELECT (COUNT(?v) AS ?n) WHERE { ?v a <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#Vereniging> }"
    return int(next(iter(register.store.select(query, default_graph=[NamedNode(GRAPH_PUBLIC)])))[0].value)


def found(report) -> set[tuple[int, str]]:
    return {(f.row, f.column) for f in report.errors}


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_dry_run_reports_and_writes_nothing(tmp_path, register, writer):
    data = rows(4)
    data[1][2] = "HOSP, ONBEKEND"  # bad code
    data[2][8] = "85073003329"  # bad INSZ checksum
    data[3][1] = data[0][1] + "s"  # near-duplicate of row 2 …
    data[3][5], data[3][6] = data[0][5], data[0][6]  # … in the same place
    path = writer(tmp_path / f"lijst{'.csv' if writer is write_csv else '.xlsx'}", data)
    before = dump(register)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    assert dump(register) == before
    assert {(3, "Hoofdactiviteiten"), (4, "Vertegenwoordiger INSZ")} <= found(report)
    insz = next(f for f in report.errors if f.column == "Vertegenwoordiger INSZ")
    assert insz.value == "85073003329" and "controlegetal" in insz.message and "identiteitskaart" in insz.fix
    assert "checksum" not in insz.message and "Incorrect" not in insz.message
    assert [(r.row, [c.ref for c in r.candidates]) for r in report.results if r.candidates] == [(5, ["rij 2"])]


def test_commit_loads_valid_rows_skips_invalid_and_second_run_updates(tmp_path, register):
    data = rows(5)
    data[4][5] = ""  # a street without postcode: invalid row
    path = write_csv(tmp_path / "lijst.csv", data)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    statuses = [r.status for r in report.results]
    assert statuses[:4] == ["geregistreerd"] * 4 and statuses[4].startswith("fout")
    assert (6, "Postcode") in found(report)
    assert count_verenigingen(register) == 4

    again = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert [r.status for r in again.results][:4] == ["ongewijzigd"] * 4
    data[0][1] = "Schaakclub Het Witte Paard"
    write_csv(path, data)
    third = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert third.results[0].status == "bijgewerkt" and third.results[0].vcode == report.results[0].vcode
    assert count_verenigingen(register) == 4


def test_unknown_columns_and_other_column_names_are_read(tmp_path, register):
    header = ["Id", "Naam vereniging", "Activiteit", "Straatnaam", "Nr", "Postcode", "Woonplaats", "E-mailadres",
              "INSZ", "Voornaam contactpersoon", "Naam contactpersoon", "Opmerkingen"]
    path = write_csv(tmp_path / "lijst.csv", [[*row, "bellen na 18u"] for row in rows(2)], header=header)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert [r.status for r in report.results] == ["geregistreerd"] * 2
    assert [(f.row, f.column, f.level) for f in report.file_notes] == [(1, "Opmerkingen", "waarschuwing")]


@pytest.mark.parametrize("case", ["missing column", "same column twice", "unreadable text", "only empty rows",
                                  "not xlsx", "no header"])
def test_malformed_files_are_refused_whole(tmp_path, register, case):
    path = tmp_path / "lijst.csv"
    if case == "missing column":
        write_csv(path, [r[2:] for r in rows(2)], header=HEADER[2:])
    elif case == "same column twice":
        write_csv(path, [[*r, r[1]] for r in rows(2)], header=[*HEADER, "Naam vereniging"])
    elif case == "unreadable text":
        path.write_bytes(b"Sleutel;Naam\n\x81\x8d\x8f\x90;\x9d\xff\xfe\n")
    elif case == "only empty rows":
        write_csv(path, [[""] * len(HEADER)] * 3)
    elif case == "not xlsx":
        path = tmp_path / "lijst.xlsx"
        path.write_bytes(b"dit is geen excel")
    else:
        path.write_text("", encoding="utf-8")
    before = dump(register)
    with pytest.raises(FileRejected) as refused:
        run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert str(refused.value) and "Error" not in str(refused.value) and "File" not in str(refused.value)  # Dutch only
    assert dump(register) == before


def test_windows_text_is_read_and_said(tmp_path, register):
    data = rows(1)
    data[0][1] = "Café Ñandú"
    path = write_csv(tmp_path / "lijst.csv", data, encoding="cp1252")
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert report.results[0].status == "geregistreerd"
    assert register.handler.load(report.results[0].vcode)[0]["naam"] == "Café Ñandú"
    assert any("cp1252" in f.message for f in report.file_notes)


def test_excel_unicode_text_utf16_is_read(tmp_path, register):
    """Excel's "Unicode-tekst (*.txt)" saved as .csv: UTF-16 with a byte order mark (was read as Windows text:
    every column 'missing')."""
    data = rows(1)
    data[0][1] = "Café Ñandú"
    path = write_csv(tmp_path / "lijst.csv", data, encoding="utf-16")
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    assert [r.naam for r in report.results] == ["Café Ñandú"] and not report.errors
    for encoding in ("utf-16-le", "utf-16-be"):  # without the byte order mark (written by other programs)
        path = write_csv(tmp_path / f"{encoding}.csv", data, encoding=encoding)
        report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
        assert [r.naam for r in report.results] == ["Café Ñandú"] and not report.errors, encoding


def test_empty_rows_between_data_are_skipped_and_reported(tmp_path, register):
    data = rows(2)
    path = write_csv(tmp_path / "lijst.csv", [data[0], [""] * len(HEADER), data[1]])
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    assert report.empty == [3]
    assert [r.row for r in report.results] == [2, 4]


def test_a_block_of_empty_rows_is_one_line_of_the_report(tmp_path, register):
    """A sheet formatted far below its data (200 empty rows) gave 200 report lines; now one per block."""
    data = rows(2)
    blank = [""] * len(HEADER)
    path = write_csv(tmp_path / "lijst.csv", [data[0], blank, blank, blank, data[1], *[blank] * 200])
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    report.write(tmp_path / "rapport")
    with (tmp_path / "rapport" / "meldingen.csv").open(encoding="utf-8-sig") as handle:
        said = [line[6] for line in csv.reader(handle, delimiter=";") if "leeg" in line[6].lower()]
    assert said == ["Rijen 3 tot 5 zijn leeg en overgeslagen.", "Rijen 7 tot 206 zijn leeg en overgeslagen."]


def test_every_deelgemeente_of_a_shared_postcode_is_accepted(tmp_path, register):
    """bpost gives one postcode to several deelgemeenten: 9051 is Afsnee and Sint-Denijs-Westrem (Gent),
    9050 Gentbrugge and Ledeberg, 9042 Desteldonk, Mendonk and Sint-Kruis-Winkel; 2180 is Ekeren (Antwerpen)."""
    cases = [("9051", "Afsnee"), ("9051", "Sint-Denijs-Westrem"), ("9050", "Gentbrugge"), ("9050", "Ledeberg"),
             ("9042", "Mendonk"), ("9042", "sint-kruis-winkel"), ("9000", "Gent"), ("2180", "Ekeren"),
             ("9051", "Ledeberg"), ("9050", "Afsnee")]
    data = [[f"D-{i}", f"{CLUBS[i % len(CLUBS)]} {name} {i}", "HOSP", "Kerkstraat", "1", postcode, name,
             f"d{i}@club.be", "85073003328", "An", "Peeters"] for i, (postcode, name) in enumerate(cases)]
    report = run_import(write_csv(tmp_path / "deelgemeenten.csv", data), "verenigingen", register.handler, GENT,
                        dry_run=True)
    place = {f.row: f for f in report.findings if f.column == "Gemeente"}
    assert not [place[row].message for row in range(2, 10) if row in place and row != 7]
    assert place[7].message == "'sint-kruis-winkel' gelezen als 'Sint-Kruis-Winkel'."  # stored as bpost spells it
    # a deelgemeente of Gent under another Gent postcode is still a mistake, with the postcode's own name as fix
    assert place[10].level == "fout" and "9051" in place[10].message and "Afsnee" in place[10].fix + place[10].message
    assert place[11].level == "fout" and "9050" in place[11].message


def test_kbo_sheet(tmp_path, register):
    header = ["Sleutel", "KBO-nummer", "Rechtsvorm", "Naam", "Postcode", "Straat", "Huisnummer", "Gemeente"]
    path = write_xlsx(tmp_path / "kbo.xlsx", [
        ["K1", "0202.239.951", "VZW", "Sportraad Gent vzw", "9000", "Zuiderlaan", "13", "Gent"],
        ["K2", "0202.239.952", "VZW", "Foute checksum vzw", "9000", "Zuiderlaan", "14", "Gent"],
    ], header=header)
    report = run_import(path, "kbo", register.handler, GENT, dry_run=False)
    assert report.results[0].status == "geregistreerd"
    assert (3, "KBO-nummer") in found(report)


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_kill_9_mid_import_leaves_whole_batches_and_a_rerun_finishes(tmp_path, settings):
    total, batch = 1200, 150  # 150 rows ≈ 24,000 quads: the bulk (ingestion) write path
    path = write_csv(tmp_path / "groot.csv", rows(total))
    env = dict(os.environ, VR_DATA_DIR=str(settings.data_dir), VR_BASE_URL=settings.base_url, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "app.cli.main", "import", str(path), "--ovo", "OVO000001", "--naam", "Gent",
               "--batch", str(batch), "--report", str(tmp_path / "r1")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    progress = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the progress bar (stderr) says how far the import is
        progress += os.read(process.stderr.fileno(), 4096)
        done = [int(m) for m in re.findall(rb"import: (\d+)rij", progress)]
        if done and done[-1] >= 300:
            break
    workers = children(process.pid)  # the import's worker processes (rows are read and checked there)
    assert workers
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:  # they end with their parent
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    from app.register import Register

    register = Register.open(settings)
    committed = count_verenigingen(register)
    assert 0 < committed < total and committed % batch == 0, committed
    versions = list(register.store.select(
        "SELECT ?vc (COUNT(?v) AS ?n) WHERE { ?v <http://purl.org/dc/terms/isVersionOf> ?vc } GROUP BY ?vc",
        default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)]))
    assert len(versions) == committed and all(int(row["n"].value) == 1 for row in versions)
    del register
    import gc

    gc.collect()
    finished = subprocess.run(command[:-1] + [str(tmp_path / "r2")], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = list(csv.DictReader((tmp_path / "r2" / "resultaat.csv").open(encoding="utf-8-sig"), delimiter=";"))
    assert sum(r["Status"] == "ongewijzigd" for r in result) == committed
    assert sum(r["Status"] == "geregistreerd" for r in result) == total - committed
    register = Register.open(settings)
    assert count_verenigingen(register) == total
    assert len({r["V-code"] for r in result}) == total


def test_formulas_without_a_computed_value_are_named_not_silently_read_as_empty(tmp_path, register):
    """A workbook written by a program (not saved by Excel) holds formulas without their value: they read as
    empty while Excel shows the value. The report names the cells and says how to fix the file."""
    data = rows(3)
    data[1][1] = '="Schaakclub "&"De Dame"'  # the Naam column of row 3
    data[2][4] = "=1+1"  # Huisnummer of row 4
    path = write_xlsx(tmp_path / "formules.xlsx", [[*row, "=ROW()"] for row in data])  # an ignored column too
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    notes = [f.message for f in report.file_notes if "formule" in f.message]
    assert len(notes) == 1 and "2 cel(len)" in notes[0] and "(bv. B3, E4)" in notes[0], notes
    assert "bewaar het opnieuw" in notes[0]
    saved = write_xlsx(tmp_path / "gewoon.xlsx", rows(2))
    assert not [f for f in run_import(saved, "verenigingen", register.handler, GENT, dry_run=True).file_notes
                if "formule" in f.message]


def test_a_postcode_with_country_prefix_is_read_whole(tmp_path, register):
    """'B-9000' was half cleaned ('-9000'): a warning and two errors. Every Belgian prefix form reads as 9000."""
    data = rows(4)
    for row, written, club in zip(data, ("B-9000", "BE-9000", "B 9000", "B9000"), CLUBS, strict=False):
        row[1], row[5], row[6] = club, written, "Gent"
    report = run_import(write_csv(tmp_path / "lijst.csv", data), "verenigingen", register.handler, GENT,
                        dry_run=False)
    assert not report.errors, [(f.row, f.column, f.message) for f in report.errors]
    for result in report.results:
        state, _ = register.handler.load(result.vcode)
        assert state["locaties"][0]["adres"]["postcode"] == "9000"
        assert [f.column for f in result.findings] == ["Postcode"], result.findings


def test_a_month_and_a_year_read_as_the_first_of_that_month_with_a_warning():
    """'maart 2015' and '12/1975' were refused, and the advice made the bestuur invent a day."""
    from datetime import date

    from app.exchange.normalise import date_value

    today = date(2026, 12, 3)
    for written, read in (("maart 2015", "2015-03-01"), ("12/1975", "1975-12-01"), ("2015-03", "2015-03-01"),
                          ("sept. 2001", "2001-09-01")):
        value, note = date_value(written, allow_year=True, today=today)
        assert value == read and note.level == "waarschuwing" and written in note.message, written
    for written in ("maart 2015", "13/2015", "2030-05"):  # a full date is needed / no month 13 / the future
        value, note = date_value(written, allow_year=written != "maart 2015", today=today)
        assert value is None and note.level == "fout", written


def test_the_cli_refuses_to_import_where_no_register_is_and_keeps_earlier_reports(tmp_path, settings):
    path = write_csv(tmp_path / "lijst.csv", rows(2))
    env = {k: v for k, v in os.environ.items() if k not in ("VR_DATA_DIR", "VR_STORE_URL")}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "app.cli.main", "import", str(path), "--ovo", "OVO000001", "--naam", "Gent",
               "--quiet"]
    refused = subprocess.run([*command, "--dry-run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 2 and "Er staat geen register in" in refused.stderr
    assert not (tmp_path / "var").exists() and not (tmp_path / "importrapport-lijst").exists()
    env.update(VR_DATA_DIR=str(settings.data_dir), VR_BASE_URL=settings.base_url)
    for _ in range(2):
        done = subprocess.run([*command, "--dry-run"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "importrapport-lijst" / "importrapport.xlsx").exists()
    assert (tmp_path / "importrapport-lijst-2" / "importrapport.xlsx").exists()
