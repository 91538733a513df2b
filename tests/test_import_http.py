"""Imports while the register serves: the HTTP import endpoint and `vr import --register` as its client,
and the .xlsx templates a bestuur starts from."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook, load_workbook

from app.domain import codelists
from app.exchange import templates
from app.exchange.rows import Mapping
from app.exchange.spreadsheet import FileRejected
from app.validation import formats
from tests.conftest import Keys, dump
from tests.test_import import rows, write_csv
from tests.test_import_rounds import HEADER, messy_rows
from tests.workbooks import write_xlsx

ROOT = Path(__file__).resolve().parent.parent


def wait(server: str, location: str, key: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = requests.get(server + location, headers=Keys.auth(key), timeout=30).json()
        if status["status"] != "bezig":
            return status
        time.sleep(0.2)
    raise AssertionError("import did not finish")


def test_dry_run_over_http_writes_nothing_and_offers_the_reports(tmp_path, register, keys, live_server):
    path = write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=messy_rows())
    before = dump(register)
    with path.open("rb") as handle:
        answer = requests.post(live_server + "/imports", headers=Keys.auth(keys.initiator),
                               files={"bestand": ("lijst.xlsx", handle)}, data={"proef": "ja"}, timeout=30)
    assert answer.status_code == 202, answer.text
    status = wait(live_server, answer.headers["Location"], keys.initiator)
    assert status["status"] == "klaar" and status["proef"] is True and status["rijen"] == 10
    assert status["samenvatting"]["beslissing nodig"] == 1 and "ovo" not in status
    assert status["fouten"] == status["samenvatting"]["fout: niet geïmporteerd"]  # rows, not messages
    assert dump(register) == before
    feedback = requests.get(live_server + status["downloads"]["terugkoppeling.xlsx"],
                            headers=Keys.auth(keys.initiator), timeout=30)
    assert "terugkoppeling-lijst.xlsx" in feedback.headers["Content-Disposition"]  # not overwritten by the next
    sheet = load_workbook(io.BytesIO(feedback.content)).active
    assert [c.value for c in sheet[1]][:len(HEADER)] == HEADER
    report = requests.get(live_server + status["downloads"]["importrapport.xlsx"],
                          headers=Keys.auth(keys.initiator), timeout=30)
    assert load_workbook(io.BytesIO(report.content)).sheetnames[0] == "Samenvatting"
    # another organisation does not see it; nobody without a key does
    other = requests.get(live_server + answer.headers["Location"], headers=Keys.auth(keys.other_initiator), timeout=30)
    assert other.status_code == 404 and other.headers["Content-Type"].startswith("application/problem+json")
    assert requests.get(live_server + answer.headers["Location"], timeout=30).status_code == 401


def test_an_import_whose_process_died_is_afgebroken_not_bezig_for_ever(tmp_path, register, keys, live_server):
    import json

    answer = requests.post(live_server + "/imports", headers=Keys.auth(keys.initiator), timeout=30,
                           files={"bestand": ("lijst.csv", b"Sleutel;Naam\nA;B\n")}, data={"proef": "ja"})
    wait(live_server, answer.headers["Location"], keys.initiator)
    folder = register.settings.data_dir / "imports" / answer.headers["Location"].rsplit("/", 1)[1]
    # as a register killed mid-import leaves it: status 'bezig', the upload still there, its process gone
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    status.update(status="bezig", proces=f"{dead.stdout.strip()}:1")
    (folder / "status.json").write_text(json.dumps(status), encoding="utf-8")
    (folder / "upload.csv").write_bytes(b"Sleutel;Naam\nA;B\n")
    shown = requests.get(live_server + answer.headers["Location"], headers=Keys.auth(keys.initiator), timeout=30)
    assert shown.json()["status"] == "afgebroken" and "opnieuw" in shown.json()["reden"]
    assert not (folder / "upload.csv").exists() and "proces" not in shown.json()
    running = requests.post(live_server + "/imports", headers=Keys.auth(keys.initiator), timeout=30,
                            files={"bestand": ("lijst.csv", b"Sleutel;Naam\nA;B\n")}, data={"proef": "ja"})
    assert wait(live_server, running.headers["Location"], keys.initiator)["status"] == "klaar"  # a live one ends
    mine = requests.get(live_server + "/imports", headers=Keys.auth(keys.initiator), timeout=30).json()["imports"]
    assert {(i["url"], i["status"]) for i in mine} == {(answer.headers["Location"], "afgebroken"),
                                                       (running.headers["Location"], "klaar")}
    other = requests.get(live_server + "/imports", headers=Keys.auth(keys.other_initiator), timeout=30)
    assert other.json()["imports"] == []


def _zip_bomb(part: str = "xl/sharedStrings.xml", element: bytes = b"<si><t>a</t></si>",
              times: int = 70 * (1 << 20) // 17) -> bytes:
    """A 'workbook' of ~100 KB whose part unpacks to millions of elements (70 MB of shared strings)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(part, element * times)
    return buffer.getvalue()


def _endless_sheet(rows: int = 1_100_000) -> bytes:
    """A real workbook (~100 KB) whose one sheet has more empty rows than Excel allows."""
    written, buffer = io.BytesIO(), io.BytesIO()
    Workbook().save(written)
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + b"<row/>" * rows + b"</sheetData></worksheet>")
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            archive.writestr(entry.filename, sheet if entry.filename == "xl/worksheets/sheet1.xml"
                             else source.read(entry))
    return buffer.getvalue()


def test_bad_uploads_get_a_dutch_problem_and_start_nothing(tmp_path, register, keys, live_server):
    auth = Keys.auth(keys.initiator)
    cases = [
        ({"files": {"bestand": ("lijst.pdf", b"%PDF-1.4")}}, 415),
        ({"data": {"soort": "verenigingen"}}, 400),
        ({"files": {"bestand": ("lijst.csv", b"Sleutel;Naam\nA;B\n")}, "data": {"soort": "alles"}}, 400),
        *(({"files": {"bestand": ("lijst.csv", b"Sleutel;Naam\nA;B\n")}, "data": {"proef": typo}}, 400)
          for typo in ("jaa", "yes please", "nein", "")),  # only an explicit 'nee' writes
    ]
    for kwargs, expected in cases:
        answer = requests.post(live_server + "/imports", headers=auth, timeout=30, **kwargs)
        assert answer.status_code == expected, answer.text
        assert answer.json()["detail"]
    reader = requests.post(live_server + "/imports", headers=Keys.auth(keys.reader), timeout=30,
                           files={"bestand": ("lijst.csv", b"Sleutel;Naam\nA;B\n")})
    assert reader.status_code == 403
    # a file that cannot be imported at all is refused in the answer to the upload: no job, nothing kept
    before = dump(register)
    unusable = [
        ("lijst.csv", b"Wat;Anders\n1;2\n", "Verplichte kolom"),
        ("lijst.csv", b"Sleutel;Naam\n;;\n\n", "geen ingevulde rijen"),
        ("lijst.xlsx", b"Sleutel;Naam\nA;B\n", "Excel-bestand kan niet gelezen"),  # a CSV renamed to .xlsx
        ("lijst.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "ander soort bestand"),  # a workbook
        ("lijst.csv", b"Sleutel;Naam\nA;" + b"x" * 200_000 + b"\n", "langer dan 131.072 tekens"),
        ("lijst.csv", b'"a,' * 20_000, "Verplichte kolom"),  # csv.Sniffer took ~20 s on this line
        ("lijst.xlsx", _zip_bomb(), "uitgepakt veel groter"),
        ("lijst.xlsx", _endless_sheet(), "meer dan 1.048.576 rijen"),
    ]
    for name, content, said in unusable:
        refused = requests.post(live_server + "/imports", headers=auth, timeout=15, files={"bestand": (name, content)},
                                data={"proef": "nee"})
        assert refused.status_code == 422 and said in refused.json()["detail"], (name, refused.text)
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert "Location" not in refused.headers
    assert requests.get(live_server + "/imports", headers=auth, timeout=30).json()["imports"] == []
    assert dump(register) == before


def test_a_running_import_stops_on_request_and_writes_no_half_batch(tmp_path, register, keys, live_server):
    auth = Keys.auth(keys.initiator)
    path = write_csv(tmp_path / "lijst.csv", rows(3000))
    before = dump(register)
    with path.open("rb") as handle:
        answer = requests.post(live_server + "/imports", headers=auth, timeout=30,
                               files={"bestand": ("lijst.csv", handle)}, data={"proef": "nee"})
    stopping = requests.delete(live_server + answer.headers["Location"], headers=auth, timeout=30)
    assert stopping.status_code == 202, stopping.text
    status = wait(live_server, answer.headers["Location"], keys.initiator)
    assert status["status"] == "gestopt" and status["rijen"] == 0 and "opnieuw" in status["reden"], status
    assert "downloads" not in status
    assert dump(register) == before  # a batch is written whole or not at all: 3,000 rows are one batch
    # another organisation cannot stop it; an import that ended cannot be stopped
    other = requests.delete(live_server + answer.headers["Location"], headers=Keys.auth(keys.other_initiator),
                            timeout=30)
    assert other.status_code == 404
    again = requests.delete(live_server + answer.headers["Location"], headers=auth, timeout=30)
    assert again.status_code == 409 and "gestopt" in again.json()["detail"]


def test_cli_imports_through_the_running_register_while_it_serves(tmp_path, register, keys, live_server):
    path = write_csv(tmp_path / "lijst.csv", rows(60))
    key_file = tmp_path / "sleutel.txt"
    key_file.write_text(keys.initiator + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "app.cli.main", "import", str(path), "--register", live_server,
               "--key-file", str(key_file), "--report", str(tmp_path / "rapport")]
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served = 0
    while process.poll() is None:  # the register keeps answering while the import runs
        assert requests.get(live_server + "/verenigingen", timeout=30).status_code < 500
        served += 1
        time.sleep(0.05)
    out, err = process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert "60 geregistreerd" in out and served > 0
    assert (tmp_path / "rapport" / "terugkoppeling-lijst.xlsx").exists()
    assert (tmp_path / "rapport" / "importrapport.xlsx").exists()
    events = [e for e in _audit(register) if e.get("operatie") == "import"]
    assert len(events) == 60 and all(e["initiator"] == "OVO000001" for e in events)
    # round 2 with the same file changes nothing
    again = subprocess.run(command, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "60 ongewijzigd" in again.stdout, again.stderr[-2000:]
    # a row left waiting for a decision was not imported: the exit code says so (it was 0)
    alike = rows(62)[60:]
    alike[1][1:7] = alike[0][1:7]
    waiting = write_csv(tmp_path / "dubbel.csv", [alike[0], [f"GENT-{9999:04d}", *alike[0][1:]]])
    undecided = subprocess.run([*command[:4], str(waiting), *command[5:]], cwd=ROOT, capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300)
    assert undecided.returncode == 1 and "beslissing nodig" in undecided.stdout, undecided.stdout + undecided.stderr


def _audit(register) -> list[dict]:
    import json

    path = register.settings.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_templates_have_drop_downs_code_lists_and_import_cleanly(tmp_path, register, app):
    from app.domain.versions import Initiator
    from app.exchange.importer import run_import

    for kind in ("verenigingen", "kbo"):
        path = templates.TARGET / f"import-{kind}.xlsx"
        served = app.test_client().get(f"/sjablonen/import-{kind}.xlsx")  # a civil servant downloads it
        assert served.status_code == 200 and served.data == path.read_bytes()
        workbook = load_workbook(path)
        assert workbook.sheetnames == ["Verenigingen", "Codelijsten", "Uitleg"]
        sheet = workbook["Verenigingen"]
        assert [c.value for c in sheet[1]] == [c.kolom for c in Mapping.load(kind).columns.values()]
        fresh = templates.build(kind)
        for name in workbook.sheetnames:  # the committed file is what the code builds
            assert [[c.value or None for c in row] for row in workbook[name].iter_rows()] == \
                [[c.value or None for c in row] for row in fresh[name].iter_rows()], "python -m app.exchange.templates"
        lists = {v.formula1 for v in sheet.data_validations.dataValidation}
        assert any("Codelijsten!" in f for f in lists) and '"nieuw,bevestig-nieuw"' in lists
        codes = [cell for row in workbook["Codelijsten"].iter_rows(min_row=2, values_only=True) for cell in row]
        assert {c.code for c in codelists.get("hoofdactiviteiten").concepts} <= set(codes)
        assert "MaatschappelijkeZetelVolgensKBO" not in codes  # only the KBO gives a vereniging its zetel
        assert ("VZW" in codes) == (kind == "kbo") and ("FV" in codes) == (kind != "kbo")
        # what the template's own help says is accepted: its example phone number, its example row
        help_text = " ".join(str(c) for row in workbook["Uitleg"].iter_rows(values_only=True) for c in row if c)
        numbers = re.findall(r"\b0\d{1,3}(?: \d{2,3}){2,3}\b", help_text)
        assert len(numbers) >= 2 and all(formats.telephone(number) for number in numbers), numbers
        initiator = Initiator("OVO000001", "Gent")
        with pytest.raises(FileRejected, match="voorbeeldrij"):  # the example row alone is no vereniging to import
            run_import(path, kind, register.handler, initiator, dry_run=True)
        example = [c.value for c in sheet[2]]
        filled = [("TEST-1" if value == "VOORBEELD" else value) for value in example]
        path = write_xlsx(tmp_path / f"{kind}.xlsx", header=[c.value for c in sheet[1]], rows=[example, filled])
        report = run_import(path, kind, register.handler, initiator, dry_run=True)
        assert [r.status for r in report.results] == ["wordt geregistreerd"], report.findings
        assert any("voorbeeldrij" in f.message and f.row == 2 for f in report.file_notes)


def test_imports_that_write_take_turns_so_one_sees_what_the_other_registered(tmp_path, register, keys, live_server):
    """Two besturen importing the same new vereniging at the same moment: the second waits for the first and
    then finds its row as a possible duplicate, instead of both registering it."""
    rows_a = rows(1200)
    rows_a[-1][1:7] = ["Kaartclub De Vette Os", "HOSP", "Kouter", "1", "9000", "Gent"]
    path_a = write_csv(tmp_path / "a.csv", rows_a)
    path_b = write_csv(tmp_path / "b.csv", [["B-1", *rows_a[-1][1:7], "", "", "", ""]])
    started = []
    for path, key in ((path_a, keys.initiator), (path_b, keys.other_initiator)):
        with path.open("rb") as handle:
            answer = requests.post(live_server + "/imports", headers=Keys.auth(key), timeout=30,
                                   files={"bestand": (path.name, handle)}, data={"proef": "nee"})
        assert answer.status_code == 202, answer.text
        started.append((answer.headers["Location"], key))
    second = requests.get(live_server + started[1][0], headers=Keys.auth(keys.other_initiator), timeout=30).json()
    assert second["status"] == "bezig" and "andere import" in second.get("wacht", ""), second
    first = wait(live_server, *started[0])
    assert first["status"] == "klaar" and first["samenvatting"] == {"geregistreerd": 1200}, first
    second = wait(live_server, *started[1])
    assert second["samenvatting"] == {"beslissing nodig: niet geïmporteerd": 1}, second
    assert "wacht" not in second
