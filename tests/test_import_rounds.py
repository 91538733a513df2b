"""A gemeente's migration in rounds, with a realistic messy workbook built here.

The department's own column names and an extra column, empty rows, Belgian date forms and an Excel
serial, activity labels, URLs without scheme, phone notations, postcodes as numbers, e-mail typos, a
wrong gemeente, near-duplicates of registered verenigingen (also in a deelgemeente) and of another
row. Round 1 (dry run) writes nothing and explains every row; round 2 (the feedback workbook, with
decisions) commits; a re-run writes nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from pyoxigraph import NamedNode

from app.domain.named_commands import ImportRow
from app.domain.parse import parse_registration
from app.domain.versions import Initiator, Provenance
from app.exchange.importer import run_import
from app.exchange.spreadsheet import FileRejected
from app.namespaces import GRAPH_VERSIONS_PUBLIC
from tests.conftest import dump, valid_body
from tests.workbooks import write_csv, write_xlsx

GENT = Initiator("OVO000001", "Gemeente Gent")
HEADER = ["Id", "Naam vereniging", "Soort vereniging", "Opgericht", "Activiteiten", "Straatnaam", "Nr", "Postcode",
          "Woonplaats", "E-mailadres", "Telefoonnummer", "Webadres", "Opmerkingen"]


def messy_rows() -> list[list[object]]:
    return [
        ["G-01", "Schaakclub De Toren", "feitelijke vereniging", "01/09/1995", "Hobby & spel", "Kouter", "12", 9000,
         "Gent", "info@detoren.be", "09/233 45 67", "www.detoren.be", "voorzitter wil nieuwe statuten"],
        ["G-02", "Toneelkring Vondel", "VZER", "12-06-2010", "Kunst en cultuur", "Veldstraat", "3", 9000, "Gent",
         "vondel@gmail.con", "+32 9 234 56 78", "", ""],
        ["G-03", "Wandelclub De Stappers", "", "31.12.2005", "Sport", "Korenmarkt", "7 bus 2", 9000, "Gentt",
         "stappers@example.be", "", "", ""],
        [None] * len(HEADER),
        ["G-04", "Fotoclub Diafragma", "", "1 maart 2001", "sport, hobby & spel", "Sint-Pietersplein", "5", 9000,
         "Gent", "foto@gmial.com", "0470 12 34 56", "", ""],
        ["G-05", "Imkersbond De Honingbij", "", 30225, "NMDW", "Overpoortstraat", "nvt", 9000, "Gent", "", "", "", ""],
        ["G-06", "Harmonie Sint-Cecilia", "", "2011-02-30", "KECU", "Vrijdagmarkt", "1", 9000, "Gent", "", "", "", ""],
        ["G-07", "Gentse Tafeltennisclub", "", "1975", "SPRT", "Zuiderlaan", "20", 9000, "Gent", "", "", "", ""],
        ["G-08", "Gentse Tafeltennisclub", "", "", "SPRT", "Zuiderlaan", "20", 9000, "Gent", "", "", "", ""],
        ["G-09", "Vrienden v/h Woonzorgcentrum De Ster", "", dt.datetime(2003, 4, 1), "GEWE", "Sint-Denijslaan",
         "9", 9051, "Sint-Denijs-Westrem", "", "", "", ""],
        ["G-10", "Volleybalclub De Smashers", "", "", "Jeugdwerk; sport", "Driepikkelstraat", "10", 9030,
         "Mariakerke", "", "", "", ""],
    ]


def registered(register, body: dict) -> str:
    prov = Provenance("registratie", Initiator("OVO000009", "Vorige beheerder"), "bestaand")
    return register.handler.register(parse_registration(body), prov).vcode


@pytest.fixture
def existing(register) -> dict[str, str]:
    """Verenigingen the register already has: one in Gent 9000, one the deelgemeente row resembles."""
    ster = valid_body(naam="Vrienden van het Woonzorgcentrum De Ster", locaties=[
        {"locatietype": "Activiteiten", "adres": {"straatnaam": "Kortrijksesteenweg", "huisnummer": "1",
                                                  "postcode": "9000", "gemeente": "Gent", "land": "België"}}],
        vertegenwoordigers=[])
    smash = valid_body(vertegenwoordigers=[])
    return {"ster": registered(register, ster), "smashers": registered(register, smash)}


def messages_by_row(report) -> dict[int, list]:
    found: dict[int, list] = {}
    for finding in report.findings:
        found.setdefault(finding.row, []).append(finding)
    return found


def versions(register) -> int:
    query = "SELECT (COUNT(?v) AS ?n) WHERE { ?v <http://purl.org/dc/terms/isVersionOf> ?vc }"
    return int(next(iter(register.store.select(query, default_graph=[NamedNode(GRAPH_VERSIONS_PUBLIC)])))[0].value)


def test_round_one_reads_everyday_data_and_explains_every_row(tmp_path, register, existing):
    path = write_xlsx(tmp_path / "verenigingen gent.xlsx", header=HEADER, rows=messy_rows())
    before = dump(register)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True,
                        feedback=tmp_path / "terugkoppeling.xlsx")
    assert dump(register) == before
    by_row = messages_by_row(report)
    status = {r.row: r.status for r in report.results}
    # unknown column: ignored with a warning, the file is not refused
    assert any(f.column == "Opmerkingen" and f.level == "waarschuwing" for f in by_row[1])
    # forgiving input, each normalisation a warning with the original value
    row2 = {f.column: f for f in by_row[2]}
    assert row2["Startdatum"].value == "01/09/1995" and "1 september 1995" in row2["Startdatum"].message
    assert row2["Hoofdactiviteiten"].value == "Hobby & spel" and "HOSP" in row2["Hoofdactiviteiten"].message
    assert row2["Type"].value == "feitelijke vereniging" and "FV" in row2["Type"].message
    assert "https://www.detoren.be" in row2["Website"].message
    assert row2["Telefoon"].value == "09/233 45 67"
    assert status[2] == "wordt geregistreerd"
    assert any(f.column == "Hoofdactiviteiten" and "KECU" in f.message for f in by_row[3])
    # e-mail domain typos are warnings, the row still goes through
    assert any(f.column == "E-mail" and "vondel@gmail.com" in f.fix for f in by_row[3]) and status[3] == \
        "wordt geregistreerd"
    assert any("foto@gmail.com" in f.fix for f in by_row[6])
    # 'Gentt' with 9000 is a real mistake; '7 bus 2' is split
    row4 = {f.column: f for f in by_row[4]}
    assert row4["Gemeente"].level == "fout" and "'Gent'" in row4["Gemeente"].fix and row4["Gemeente"].value == "Gentt"
    assert "bus 2" in row4["Huisnummer"].message and status[4].startswith("fout")
    assert any("Lege rij" in line[6] for line in _csv_lines(report, tmp_path, "meldingen") if line[0] == "5")
    assert {f.column for f in by_row[6]} >= {"Startdatum", "Hoofdactiviteiten"}  # 1 maart 2001; two labels
    # Excel serial; a house number that is none
    assert any(f.column == "Startdatum" and "30225" in f.message for f in by_row[7])
    row7 = [f for f in by_row[7] if f.column == "Huisnummer"][0]
    assert row7.level == "fout" and row7.value == "nvt" and "zonder adres" in row7.fix  # what to do without a number
    # an impossible date says so, with the value
    row8 = [f for f in by_row[8] if f.column == "Startdatum"][0]
    assert row8.level == "fout" and "2011-02-30" in row8.message and "februari" in row8.message
    # a bare year where the field allows it
    assert any(f.column == "Startdatum" and "1975" in f.value for f in by_row[9])
    # the second of two alike rows waits for a decision; the register candidates show V-code and link
    assert status[9] == "wordt geregistreerd" and status[10] == "beslissing nodig"
    candidates = {r.row: [c.ref for c in r.candidates] for r in report.results}
    assert candidates[10] == ["rij 9"] and candidates[9] == []
    # across deelgemeenten of one gemeente: 9051 and 9030 rows meet verenigingen in 9000 Gent
    assert status[11] == "beslissing nodig" and candidates[11] == [existing["ster"]]
    assert status[12] == "beslissing nodig" and candidates[12] == [existing["smashers"]]
    # the reports name the columns as the bestuur's file does, in the messages and fixes too
    said = " ".join(f"{line[6]} {line[7]}" for line in _csv_lines(report, tmp_path, "meldingen"))
    template_only = {"Huisnummer": "Nr", "Straat": "Straatnaam", "Gemeente": "Woonplaats", "Startdatum": "Opgericht"}
    assert not [name for name in template_only if f"olom '{name}'" in said], said
    assert any(f"olom '{name}'" in said for name in template_only.values()), said
    # no API jargon anywhere in what the bestuur reads
    text = " ".join(f"{f.message} {f.fix}" for f in report.findings)
    for word in ("request", "header", "token", "SHACL", "locaties[", "body"):
        assert word not in text


def test_round_one_reports_every_independent_problem_of_a_row_at_once(tmp_path, register):
    """A row with an unreadable cell still gets the domain rules over the rest, so round 2 brings no new errors."""
    data = [["R-01", "Schaakclub De Loper", "", "01/01/2099", "Hobby & spel, sport, kunst en cultuur, jeugdwerk",
             "Kouter", "12", 9000, "Gent", "info@@loper", "09/233 45 6", "", ""],
            ["R-02", "Schaakclub De Toren", "", "2099-03-01", "SPRT", "Kouter", "14", 9000, "Gent",
             "info@toren.be", "", "", ""]]
    report = run_import(write_xlsx(tmp_path / "fouten.xlsx", data, header=HEADER), "verenigingen", register.handler,
                        GENT, dry_run=True)
    errors = {(f.row, f.column) for f in report.errors}
    assert {(2, "E-mail"), (2, "Telefoon"), (2, "Startdatum"), (2, "Hoofdactiviteiten")} <= errors
    assert any(f.row == 2 and f.column == "Hoofdactiviteiten" and "maximaal 3" in f.message for f in report.errors)
    assert (3, "Startdatum") in errors and [r.status for r in report.results] == ["fout: niet geïmporteerd"] * 2


def _csv_lines(report, tmp_path: Path, name: str) -> list[list[str]]:
    report.write(tmp_path / "rapport")
    with (tmp_path / "rapport" / f"{name}.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.reader(handle, delimiter=";"))[1:]


def test_reports_have_key_and_name_sorted_rows_summary_and_a_usable_workbook(tmp_path, register, existing):
    path = write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=messy_rows())
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    files = {p.name for p in report.write(tmp_path / "rapport", path)}
    assert files == {"meldingen.csv", "dubbels.csv", "resultaat.csv", "importrapport.xlsx"}
    lines = _csv_lines(report, tmp_path, "meldingen")
    rows = [int(line[0]) for line in lines]
    assert rows == sorted(rows)
    assert all(line[1] and line[2] for line in lines if line[0] not in ("1", "5"))
    columns = {line[4] for line in lines}  # as the bestuur named them: 'Opgericht', 'Woonplaats', not the template's
    assert {"Opgericht", "Woonplaats", "E-mailadres"} <= columns and not {"Startdatum", "Gemeente"} & columns
    workbook = load_workbook(tmp_path / "rapport" / "importrapport.xlsx")
    assert workbook.sheetnames == ["Samenvatting", "Meldingen", "Dubbels", "Resultaat"]
    sheet = workbook["Meldingen"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:H")
    assert sheet.column_dimensions["G"].width >= 60 and sheet.column_dimensions["A"].width <= 10
    doubles = workbook["Dubbels"]
    links = [row[6] for row in doubles.iter_rows(min_row=2, values_only=True)]
    assert any(link and link.endswith(f"/doc/vereniging/{existing['ster']}") for link in links)


def test_round_two_with_decisions_koppel_and_idempotent_rerun(tmp_path, register, existing):
    path = write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=messy_rows())
    feedback = tmp_path / "terugkoppeling.xlsx"
    before_smashers, _ = register.handler.load(existing["smashers"])
    run_import(path, "verenigingen", register.handler, GENT, dry_run=True, feedback=feedback)
    # the bestuur fixes the errors and decides in its own feedback workbook, which keeps its shape
    workbook = load_workbook(feedback)
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header[:len(HEADER)] == HEADER and "Actie" in header and "Status" in header
    col = {name: index for index, name in enumerate(header)}
    # every row keeps its number (the empty row stays), so "rij 10" in a message is row 10 here too
    assert [r[col["Id"]].value for r in sheet.iter_rows(min_row=5, max_row=6)] == [None, "G-04"]
    # the bestuur's own cells come back as they were (a phone number starting with '+' is no formula)
    assert [r[col["Telefoonnummer"]].value for r in sheet.iter_rows(min_row=2)][1] == "+32 9 234 56 78"
    fixes = {"G-03": {"Woonplaats": "Gent"}, "G-05": {"Nr": "14"}, "G-06": {"Opgericht": "2011-02-28"},
             "G-08": {"Actie": "bevestig-nieuw"}, "G-09": {"Actie": f"koppel:{existing['ster']}"},
             "G-10": {"Actie": f"koppel:{existing['smashers']}"}}
    for row in sheet.iter_rows(min_row=2):
        for column, value in fixes.get(row[col["Id"]].value, {}).items():
            row[col[column]].value = value
    workbook.save(feedback)
    # round 2 tried first: it shows, in words, what it would overwrite on the verenigingen it adopts
    unchanged = dump(register)
    preview = run_import(feedback, "verenigingen", register.handler, GENT, dry_run=True)
    shown = {r.sleutel: [f.message for f in r.findings if f.level == "wijziging"] for r in preview.results}
    ster = existing["ster"]
    assert {f"Startdatum in {ster}: 2015-09-01 → 2003-04-01",
            f"Hoofdactiviteiten in {ster}: Sport (SPRT); Jeugdwerk (JGDW) → Gezondheid & Welzijn (GEWE)",
            f"Locaties in {ster}: Activiteiten: Kortrijksesteenweg 1, 9000 Gent → Activiteiten: Sint-Denijslaan 9, "
            "9051 Sint-Denijs-Westrem"} <= set(shown["G-09"]), shown["G-09"]
    assert not any(m.startswith("Hoofdactiviteiten") for m in shown["G-10"])  # the same set in another order
    assert not shown["G-01"] and dump(register) == unchanged
    round2 = run_import(feedback, "verenigingen", register.handler, GENT, dry_run=False,
                        feedback=tmp_path / "terugkoppeling-2.xlsx")
    status = {r.sleutel: (r.status, r.vcode) for r in round2.results}
    assert not round2.errors, [(f.row, f.column, f.message) for f in round2.errors]
    assert {k: s for k, (s, _) in status.items()} == {
        "G-01": "geregistreerd", "G-02": "geregistreerd", "G-03": "geregistreerd", "G-04": "geregistreerd",
        "G-05": "geregistreerd", "G-06": "geregistreerd", "G-07": "geregistreerd", "G-08": "geregistreerd",
        "G-09": "gekoppeld", "G-10": "gekoppeld"}
    assert status["G-09"][1] == existing["ster"] and status["G-07"][1] != status["G-08"][1]
    # koppel stored the bestuur's key on the existing record and applied the row
    ster, _ = register.handler.load(existing["ster"])
    assert {"bron": "OVO000001", "waarde": "G-09"} in ster["sleutels"] and ster["startdatum"] == "2003-04-01"
    assert ster["hoofdactiviteiten"] == ["GEWE"]
    smashers, _ = register.handler.load(existing["smashers"])
    assert {"bron": "OVO000001", "waarde": "G-10"} in smashers["sleutels"]
    assert smashers["hoofdactiviteiten"] == before_smashers["hoofdactiviteiten"]  # same set, other order: kept
    # the same file again: nothing is written, not even an empty version or stream member
    before, count = dump(register), versions(register)
    again = run_import(tmp_path / "terugkoppeling-2.xlsx", "verenigingen", register.handler, GENT, dry_run=False)
    assert {r.status for r in again.results} == {"ongewijzigd"}, [(r.sleutel, r.status) for r in again.results]
    assert versions(register) == count and dump(register) == before


def test_reimport_keeps_what_the_kbo_owns(tmp_path, register):
    from app.exchange.kbo_open_data import sync

    header = ["Sleutel", "KBO-nummer", "Rechtsvorm", "Naam", "Hoofdactiviteiten", "Straat", "Huisnummer",
              "Postcode", "Gemeente", "E-mail"]
    row = ["K1", "0202.239.951", "VZW", "Sportraad Gent vzw", "SPRT, JGDW", "Zuiderlaan", "13", "9000", "Gent",
           "sportraad@example.be"]
    path = write_xlsx(tmp_path / "kbo.xlsx", header=header, rows=[row])
    first = run_import(path, "kbo", register.handler, GENT, dry_run=False)
    vcode = first.results[0].vcode
    kbo_dir = _kbo_dump(tmp_path)
    sync(kbo_dir, register.handler)
    state, _ = register.handler.load(vcode)
    zetel = [loc for loc in state["locaties"] if loc.get("bron") == "KBO"]
    assert zetel, state["locaties"]
    row[4] = "JGDW;SPRT"  # the same activities in another order
    path = write_xlsx(tmp_path / "kbo.xlsx", header=header, rows=[row])
    before = versions(register)
    again = run_import(path, "kbo", register.handler, GENT, dry_run=False)
    assert again.results[0].status == "ongewijzigd" and versions(register) == before
    row[7], row[6] = "9000", "15"  # a changed address: applied, the KBO zetel stays
    path = write_xlsx(tmp_path / "kbo.xlsx", header=header, rows=[row])
    third = run_import(path, "kbo", register.handler, GENT, dry_run=False)
    assert third.results[0].status == "bijgewerkt"
    state, _ = register.handler.load(vcode)
    assert [loc for loc in state["locaties"] if loc.get("bron") == "KBO"] == zetel
    assert state["naam"] == "Sportraad Gent"  # the KBO name, not the row's


def test_a_vzw_row_adopts_its_kbo_vereniging_and_hears_what_the_kbo_keeps(tmp_path, register):
    """A gemeente's list says 'vzw' for a KBO vereniging it adopts: that is right, not an error. A new VZW row
    points to the KBO template, a VZW row on a feitelijke vereniging is refused; a name the KBO owns stays, and
    the report says so."""
    kbo = run_import(write_xlsx(tmp_path / "kbo.xlsx", header=["Sleutel", "KBO-nummer", "Rechtsvorm", "Naam",
                                                                "Hoofdactiviteiten", "Straat", "Huisnummer",
                                                                "Postcode", "Gemeente"],
                                rows=[["K1", "0202.239.951", "VZW", "Koninklijke Turnkring Gent", "SPRT",
                                       "Sint-Pietersplein", "5", "9000", "Gent"]]),
                     "kbo", register.handler, Initiator("OVO000009", "Sportdienst"), dry_run=False)
    turnkring = kbo.results[0].vcode
    feitelijk = registered(register, valid_body(vertegenwoordigers=[]))
    header = ["Sleutel", "Naam", "Rechtsvorm", "Hoofdactiviteiten", "Straat", "Huisnummer", "Postcode", "Gemeente",
              "Actie"]
    rows = [["SW-004", "Kon. Turnkring Gent", "vzw", "SPRT", "Sint-Pietersplein", "5", 9000, "Gent",
             f"koppel:{turnkring}"],
            ["SW-005", "Nieuwe Sportvzw Gent", "VZW", "SPRT", "Kouter", "9", 9000, "Gent", ""],
            ["SW-006", "Volleybalclub De Smashers", "vzw", "SPRT", "Kouter", "11", 9000, "Gent", f"koppel:{feitelijk}"]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=header, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    found = {r.sleutel: (r.status, [(f.level, f.column, f.message, f.fix) for f in r.findings]) for r in report.results}
    status, findings = found["SW-004"]
    assert status == "gekoppeld" and not [f for f in findings if f[0] == "fout"], findings
    assert any(lv == "waarschuwing" and c == "Naam" and "Koninklijke Turnkring Gent" in m for lv, c, m, _ in findings)
    state, _ = register.handler.load(turnkring)
    assert state["naam"] == "Koninklijke Turnkring Gent"
    assert {"bron": "OVO000001", "waarde": "SW-004"} in state["sleutels"]
    status, findings = found["SW-005"]
    assert status.startswith("fout") and any(c == "Type" and "import-kbo.xlsx" in fix for _, c, _, fix in findings)
    assert not any("POST" in m or "formulier" in m or "gegevens /" in m for _, _, m, _ in findings), findings
    status, findings = found["SW-006"]
    assert status.startswith("fout") and any(c == "Type" and "geen VZW" in m for _, c, m, _ in findings), findings
    assert register.handler.load(feitelijk)[0]["verenigingstype"] != "VZW"


def _kbo_dump(tmp_path: Path) -> Path:
    """A minimal KBO open-data folder for the association of test_reimport_keeps_what_the_kbo_owns."""
    folder = tmp_path / "kbo"
    folder.mkdir()
    files = {
        "enterprise.csv": [["EnterpriseNumber", "Status", "JuridicalSituation", "TypeOfEnterprise", "JuridicalForm",
                            "JuridicalFormCAC", "StartDate"],
                           ["0202.239.951", "AC", "000", "2", "017", "", "01-05-1990"]],
        "denomination.csv": [["EntityNumber", "Language", "TypeOfDenomination", "Denomination"],
                             ["0202.239.951", "2", "001", "Sportraad Gent"]],
        "address.csv": [["EntityNumber", "TypeOfAddress", "CountryNL", "CountryFR", "Zipcode", "MunicipalityNL",
                         "MunicipalityFR", "StreetNL", "StreetFR", "HouseNumber", "Box", "ExtraAddressInfo",
                         "DateStrikingOff"],
                        ["0202.239.951", "REGO", "", "", "9000", "Gent", "Gand", "Kouter", "", "1", "", "", ""]],
        "contact.csv": [["EntityNumber", "EntityContact", "ContactType", "Value"]],
    }
    for name, lines in files.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(lines)
    return folder


def test_koppel_must_describe_its_target_once_and_every_row_needs_a_key(tmp_path, register, existing):
    """A V-code typo in 'koppel:' would overwrite an unrelated vereniging; two rows adopting one vereniging
    would overwrite each other on every run; a row without Sleutel could never be found again."""
    elders = registered(register, valid_body(naam="Repair Café Roeselare", vertegenwoordigers=[], locaties=[
        {"locatietype": "Activiteiten", "adres": {"straatnaam": "Ooststraat", "huisnummer": "5", "postcode": "8800",
                                                  "gemeente": "Roeselare", "land": "België"}}]))
    rows = [
        ["G-20", "Muziekschool Rockit", "", "", "KECU", "Overpoortstraat", "49", 9000, "Gent", "", "", "", "",
         f"koppel:{elders}"],
        ["G-21", "Buurthuis De Ster", "", "", "GEWE", "Kortrijksesteenweg", "1", 9000, "Gent", "", "", "", "",
         f"koppel:{existing['ster']}"],
        ["G-22", "Vrienden van het WZC De Ster", "", "", "GEWE", "Kortrijksesteenweg", "1", 9000, "Gent", "", "", "",
         "", f"koppel:{existing['ster']}"],
        ["", "Club zonder sleutel", "", "", "SPRT", "Kouter", "2", 9000, "Gent", "", "", "", "", ""],
    ]
    path = write_xlsx(tmp_path / "koppel.xlsx", header=[*HEADER, "Actie"], rows=rows)
    before = dump(register)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    found = {r.sleutel or r.naam: (r.status, [(f.level, f.column, f.message) for f in r.findings])
             for r in report.results}
    status, findings = found["G-20"]
    assert status.startswith("fout") and any(c == "Actie" and "lijkt niet op deze rij" in m and "Roeselare" in m
                                    for _, c, m in findings), findings
    status, findings = found["G-21"]  # same gemeente, another name: adopted, with the register's name shown
    assert status == "gekoppeld" and any(lv == "waarschuwing" and "Vrienden van het Woonzorgcentrum De Ster" in m
                                         for lv, _, m in findings), findings
    status, findings = found["G-22"]
    assert status.startswith("fout") and any("koppelt ook aan" in m for _, _, m in findings), findings
    status, findings = found["Club zonder sleutel"]
    assert status.startswith("fout") and any(c == "Sleutel" and "leeg" in m for _, c, m in findings), findings
    roeselare, _ = register.handler.load(elders)
    assert roeselare["naam"] == "Repair Café Roeselare"  # untouched
    assert dump(register) != before  # G-21 was applied


def test_a_known_sleutel_never_rewrites_a_vereniging_the_row_does_not_describe(tmp_path, register):
    """Two departments numbering their lists alike: 'SW-001' of one list must not turn the other list's Digi-café
    in Gent into a zangkoor in Aalst. koppel:<its V-code> confirms a real move; a vereniging keeps one key of
    a bestuur (a second one would rewrite it in turn on every run)."""
    header = ["Sleutel", "Naam", "Hoofdactiviteiten", "Straat", "Huisnummer", "Postcode", "Gemeente", "Actie"]

    def imported(name: str, *lines: list[object]):
        report = run_import(write_xlsx(tmp_path / name, header=header, rows=list(lines)), "verenigingen",
                            register.handler, GENT, dry_run=False)
        return {r.sleutel: (r.status, r.vcode, [(f.level, f.column, f.message, f.fix) for f in r.findings])
                for r in report.results}

    first = imported("eerste.xlsx", ["SW-001", "Digi-café Gent", "GEWE", "Begijnhofstraat", "63", 9000, "Gent", ""],
                     ["SW-002", "Kaartclub De Vette Os", "HOSP", "Kouter", "1", 9000, "Gent", ""])
    digi, kaart = first["SW-001"][1], first["SW-002"][1]
    before = dump(register)
    status, _, findings = imported("andere-dienst.xlsx",
                                   ["SW-001", "Zangkoor Aalst", "KECU", "Hopmarkt", "3", 9300, "Aalst", ""])["SW-001"]
    assert status.startswith("fout") and dump(register) == before
    assert any(lv == "fout" and c == "Sleutel" and "Digi-café Gent" in m and f"koppel:{digi}" in fix
               for lv, c, m, fix in findings), findings
    # the same gemeente under another name: updated, with the register's name shown
    status, _, findings = imported("hernoemd.xlsx", ["SW-002", "Kaartclub Gent-Centrum", "HOSP", "Kouter", "1", 9000,
                                                     "Gent", ""])["SW-002"]
    assert status == "bijgewerkt" and any(lv == "waarschuwing" and "Kaartclub De Vette Os" in m
                                          for lv, _, m, _ in findings), findings
    # koppel:<its own V-code> says it is the same vereniging after all: the move is applied
    status, vcode, _ = imported("verhuisd.xlsx", ["SW-001", "Zangkoor Aalst", "KECU", "Hopmarkt", "3", 9300, "Aalst",
                                                  f"koppel:{digi}"])["SW-001"]
    assert status == "bijgewerkt" and vcode == digi and register.handler.load(digi)[0]["naam"] == "Zangkoor Aalst"
    # a second key of this bestuur on one vereniging is refused, whatever the row says
    before = dump(register)
    status, _, findings = imported("tweede-sleutel.xlsx", ["SW-007", "Kaartclub Gent-Centrum", "HOSP", "Kouter", "1",
                                                           9000, "Gent", f"koppel:{kaart}"])["SW-007"]
    assert status.startswith("fout") and dump(register) == before
    assert any(c == "Actie" and "sleutel 'SW-002'" in m for _, c, m, _ in findings), findings


def test_names_that_share_their_words_at_the_same_address_are_possible_duplicates(tmp_path, register):
    """'Wereldwinkel Gent Centrum' at the Wereldwinkel's own address was registered as a second vereniging; at one
    address a name that adds words to another is a candidate. Two clubs that share a hall are not."""
    winkel = registered(register, valid_body(naam="Wereldwinkel Gent", vertegenwoordigers=[], locaties=[
        {"locatietype": "Activiteiten", "adres": {"straatnaam": "Lindenlaan", "huisnummer": "44", "postcode": "9000",
                                                  "gemeente": "Gent", "land": "België"}}]))
    header = ["Sleutel", "Naam", "Hoofdactiviteiten", "Straat", "Huisnummer", "Postcode", "Gemeente"]
    rows = [["W-1", "Wereldwinkel Gent Centrum", "SOVO", "Lindenlaan", "44", 9000, "Gent"],
            ["W-2", "Oxfam Wereldwinkel Gent", "SOVO", "Lindenlaan", "44 bus 1", 9000, "Gent"],
            ["W-3", "Wereldwinkel Gent Centrum", "SOVO", "Kouter", "1", 9000, "Gent"],  # elsewhere: no shared address
            ["W-4", "Schaakclub De Toren", "HOSP", "Zaalstraat", "3", 9000, "Gent"],
            ["W-5", "Biljartclub De Toren", "HOSP", "Zaalstraat", "3", 9000, "Gent"]]
    report = run_import(write_xlsx(tmp_path / "adres.xlsx", header=header, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=True)
    candidates = {r.sleutel: [c.ref for c in r.candidates] for r in report.results}
    assert winkel in candidates["W-1"] and winkel in candidates["W-2"], candidates
    assert winkel not in candidates["W-3"] and candidates["W-5"] == [], candidates
    shown = {c.ref: c.adres for r in report.results for c in r.candidates}
    assert shown["rij 2"] == "Lindenlaan 44, 9000 Gent"  # a row of the file is shown with its street too


def test_the_duplicate_search_stays_small_and_tells_afdelingen_apart(register, existing):
    from app.exchange.candidates import MAX_CANDIDATES, Candidates, Probe

    search = Candidates(register.store)
    for row in range(2, 3002):  # one name 3,000 times: each row's candidates are bounded, not every earlier row
        found = search.in_file(Probe("Club", "9000", "Gent"), row)
    assert len(found) == MAX_CANDIDATES
    assert sum(len(entries) for entries in search._file["gent"].entries) == MAX_CANDIDATES
    assert search.in_file(Probe("KWB Wondelgem", "9032", "Wondelgem"), 5000) == []
    assert search.in_file(Probe("KWB Mariakerke", "9030", "Mariakerke"), 5001) == []  # another afdeling
    assert [c.ref for c in search.in_file(Probe("K.W.B. Mariakerke", "9030", "Mariakerke"), 5002)] == ["rij 5001"]
    assert [c.vcode for c in search.in_register(Probe("Vrienden v/h WZC De Ster", "9051", "Sint-Denijs-Westrem"))] \
        == [existing["ster"]]


def test_the_sheet_and_row_with_the_columns_are_read_not_a_hidden_or_explanatory_one(tmp_path, register):
    from openpyxl import Workbook

    workbook = Workbook()
    old = workbook.active
    old.title = "oud"
    old.append(HEADER)
    old.append(["X-1", "Oude club", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", ""])
    old.sheet_state = "hidden"
    uitleg = workbook.create_sheet("Uitleg")
    uitleg.append(["Vul het werkblad 'Lijst' in."])
    lijst = workbook.create_sheet("Lijst")
    lijst.append(["Verenigingen van Gent, stand 1 december"])
    lijst.append([])
    lijst.append(HEADER)
    lijst.append(["G-30", "Petanqueclub De Boule", "", "", "SPRT", "Kouter", "3", 9000, "Gent", "", "", "", ""])
    workbook.active = workbook.index(uitleg)
    path = tmp_path / "werkbladen.xlsx"
    workbook.save(path)
    feedback = tmp_path / "terugkoppeling.xlsx"
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True, feedback=feedback)
    assert [(r.row, r.sleutel) for r in report.results] == [(4, "G-30")]  # the row number the bestuur sees
    assert any("werkblad 'Lijst', rij 3" in finding.message for finding in report.file_notes)
    assert {f.row for f in report.file_notes if f.column == "Opmerkingen"} == {3}  # on the header's row
    # the feedback workbook keeps the title: round 2 names the same row 4, and the bestuur finds it there
    sheet = load_workbook(feedback).active
    assert sheet["A1"].value == "Verenigingen van Gent, stand 1 december" and sheet["A4"].value == "G-30"
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref.startswith("A3:")
    again = run_import(feedback, "verenigingen", register.handler, GENT, dry_run=True)
    assert [(r.row, r.sleutel) for r in again.results] == [(4, "G-30")]

    workbook.remove(lijst)
    workbook.active = workbook.index(uitleg)
    workbook.save(path)
    with pytest.raises(Exception, match="werkblad 'Uitleg', rij 1"):  # the hidden sheet is never read
        run_import(path, "verenigingen", register.handler, GENT, dry_run=True)


def test_a_contact_person_without_insz_is_a_warning_not_a_refused_row(tmp_path, register):
    header = [*HEADER, "Voornaam contactpersoon", "Naam contactpersoon"]
    rows = [["G-40", "Kaartersclub De Aas", "", "", "SPRT", "Kouter", "8", 9000, "Gent", "", "", "", "", "An",
             "Peeters"]]
    report = run_import(write_xlsx(tmp_path / "contact.xlsx", header=header, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    (result,) = report.results
    assert result.status == "geregistreerd", [(f.column, f.message) for f in result.findings]
    assert any(f.level == "waarschuwing" and "An Peeters niet overgenomen" in f.message for f in result.findings)
    state, _ = register.handler.load(result.vcode)
    assert state["vertegenwoordigers"] == []


def test_a_postcode_that_does_not_exist_is_reported_on_the_postcode_with_the_likely_one(tmp_path, register):
    rows = [["G-50", "Club Een", "", "", "SPRT", "Kouter", "1", "9OOO", "Gent", "", "", "", ""],
            ["G-51", "Club Twee", "", "", "SPRT", "Kouter", "2", 10000, "Gent", "", "", "", ""]]
    report = run_import(write_xlsx(tmp_path / "postcodes.xlsx", header=HEADER, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=True)
    found = {(f.column, f.value): f.message for f in report.errors}
    assert "Bedoelt u 9000 (Gent)?" in found[("Postcode", "9OOO")]
    assert "bestaat niet in België" in found[("Postcode", "10000")]
    assert not any(column == "Gemeente" for column, _ in found)


def test_a_bare_year_does_not_overwrite_the_day_the_register_knows(tmp_path, register):
    vcode = registered(register, valid_body(naam="Harmonie De Eendracht", startdatum="1980-09-03",
                                            vertegenwoordigers=[]))
    rows = [["G-60", "Harmonie De Eendracht", "", "1980", "KECU", "", "", "", "", "", "", "", "", f"koppel:{vcode}"]]
    report = run_import(write_xlsx(tmp_path / "jaar.xlsx", header=[*HEADER, "Actie"], rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    (result,) = report.results
    assert result.status == "gekoppeld", [(f.column, f.message) for f in result.findings]
    assert any("1980-09-03" in f.message and f.column == "Startdatum" for f in result.findings)
    assert register.handler.load(vcode)[0]["startdatum"] == "1980-09-03"
    rows[0][3], rows[0][-1] = "1981", ""  # another year is news: taken (as 1 January, with the usual warning)
    run_import(write_xlsx(tmp_path / "jaar2.xlsx", header=[*HEADER, "Actie"], rows=rows), "verenigingen",
               register.handler, GENT, dry_run=False)
    assert register.handler.load(vcode)[0]["startdatum"] == "1981-01-01"


def test_nieuw_on_a_look_alike_says_it_decides_nothing(tmp_path, register, existing):
    rows = [["G-70", "Vrienden van het Woonzorgcentrum De Ster", "", "", "GEWE", "Kortrijksesteenweg", "3", 9000,
             "Gent", "", "", "", "", "nieuw"]]
    report = run_import(write_xlsx(tmp_path / "nieuw.xlsx", header=[*HEADER, "Actie"], rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=True)
    (result,) = report.results
    assert result.status == "beslissing nodig"
    assert any(f.level == "dubbel" and f.fix.startswith("'nieuw' volstaat niet") for f in result.findings)


def test_a_round_of_updates_is_one_commit_and_a_record_changed_twice_keeps_both(tmp_path, register):
    names = [("Schaakclub Het Paard", "Kouter"), ("Toneelkring Vondel", "Veldstraat"), ("Imkersbond Honingbij",
             "Overpoortstraat"), ("Fanfare De Eendracht", "Vrijdagmarkt"), ("Fotoclub Diafragma", "Korenmarkt"),
             ("Wandelclub De Stappers", "Zuiderlaan")]
    rows = [[f"U-{i}", name, "", "", "SPRT", street, str(i), 9000, "Gent", f"club{i}@example.be", "", "", ""]
            for i, (name, street) in enumerate(names, start=1)]
    first = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows), "verenigingen",
                       register.handler, GENT, dry_run=False)
    assert {r.status for r in first.results} == {"geregistreerd"}
    groups: list[int] = []
    register.store.written.append(lambda: groups.append(register.store.latest_sequence()))
    before = register.store.latest_sequence()
    for row in rows:
        row[9] = row[9].replace("@", ".nieuw@")
    again = run_import(write_xlsx(tmp_path / "lijst-2.xlsx", header=HEADER, rows=rows), "verenigingen",
                       register.handler, GENT, dry_run=False)
    assert {r.status for r in again.results} == {"bijgewerkt"}, [(r.sleutel, r.status) for r in again.results]
    assert groups == [before + 6]  # six new versions, one commit
    vcode = again.results[0].vcode
    state, version = register.handler.load(vcode)
    assert version == 2 and state["contactgegevens"][0]["waarde"] == "club1.nieuw@example.be"
    # two changes of one vereniging in one batch: the second is left out of the commit and runs on its own,
    # on top of the first (nothing lost, versions contiguous)
    parsed = parse_registration(valid_body(naam="Schaakclub Het Paard", vertegenwoordigers=[]))
    one = ImportRow(vcode, {**parsed, "naam": "Eerste naam"}, {"naam": "Eerste naam"})
    two = ImportRow(vcode, {**parsed, "korteNaam": "EN"}, {"korteNaam": "EN"})
    outcomes = register.handler.run_changes([one, two], GENT)
    assert [o.version for o in outcomes] == [3, 4]
    state, version = register.handler.load(vcode)
    assert (state["naam"], state["korteNaam"], version) == ("Eerste naam", "EN", 4)


def test_a_gemeente_s_own_columns_are_read_under_a_title_with_two_phone_columns(tmp_path, register):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Lijst"
    sheet.append(["Verenigingen Gent, stand 2026"])
    sheet.append(["Dossiernummer", "Naam vereniging", "Straat + nr", "Postnr", "Gemeente/deelgemeente",
                  "Activiteit(en)", "Tel.", "GSM", "E-mailadres", "Opmerkingen"])
    sheet.append(["D-1", "Schaakclub Het Paard", "Kouter 36", 9000, "Gent", "Hobby & spel", "09/223 44 55",
                  "0476 12 34 56", "paard@example.be; secretaris@example.be", "nieuw bestuur"])
    sheet.append(["D-2", "Toneelkring Vondel", "Veldstraat 3 bus 2", 9040, "Sint-Amandsberg", "Kunst en cultuur",
                  "09/223 44 66 - 0476 65 43 21", "", "", ""])
    other = workbook.create_sheet("Opgeheven")
    other.append(["Dossiernummer", "Naam vereniging", "Postnr", "Gemeente/deelgemeente"])
    other.append(["D-9", "Oude Kaartersclub", 9000, "Gent"])
    workbook.save(tmp_path / "lijst.xlsx")
    report = run_import(tmp_path / "lijst.xlsx", "verenigingen", register.handler, GENT, dry_run=False)
    assert not report.errors, [(f.row, f.column, f.message) for f in report.errors]
    assert [r.status for r in report.results] == ["geregistreerd", "geregistreerd"]
    notes = [f.message for f in report.file_notes]
    assert any("rij 2" in note for note in notes), notes  # where the header was found
    assert any("'Opgeheven'" in note and "niet" in note for note in notes), notes  # the sheet not read
    assert [f.column for f in report.file_notes if "Opmerkingen" in f.message] == ["Opmerkingen"]
    paard, _ = register.handler.load(report.results[0].vcode)
    adres = paard["locaties"][0]["adres"]
    assert (adres["straatnaam"], adres["huisnummer"], adres["postcode"]) == ("Kouter", "36", "9000")
    assert paard["hoofdactiviteiten"] == ["HOSP"]
    phones = [(c["waarde"], c["isPrimair"]) for c in paard["contactgegevens"] if c["contactgegeventype"] == "Telefoon"]
    assert phones == [("+32 9 223 44 55", True), ("+32 476 12 34 56", False)]
    mails = [c["waarde"] for c in paard["contactgegevens"] if c["contactgegeventype"] == "E-mail"]
    assert mails == ["paard@example.be", "secretaris@example.be"]
    vondel, _ = register.handler.load(report.results[1].vcode)
    adres = vondel["locaties"][0]["adres"]
    assert (adres["straatnaam"], adres["huisnummer"], adres.get("busnummer")) == ("Veldstraat", "3", "2")
    assert len([c for c in vondel["contactgegevens"] if c["contactgegeventype"] == "Telefoon"]) == 2


def test_without_a_fitting_header_the_likeliest_row_says_what_is_wrong(tmp_path, register):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Verenigingen Gent"])
    sheet.append(["Naam vereniging", "Straat", "Postcode", "Gemeente"])  # no key column
    sheet.append(["Schaakclub Het Paard", "Kouter 36", 9000, "Gent"])
    workbook.save(tmp_path / "lijst.xlsx")
    with pytest.raises(FileRejected) as refused:
        run_import(tmp_path / "lijst.xlsx", "verenigingen", register.handler, GENT, dry_run=True)
    assert "'Sleutel'" in str(refused.value) and "'Naam'" not in str(refused.value)
    assert "rij 2" in str(refused.value)


def test_a_row_without_an_address_is_compared_with_the_whole_register(tmp_path, register, existing):
    rows = [["G-20", "VRIENDEN VAN HET WOONZORGCENTRUM DE STER", "", "", "GEWE", "", "", "", "", "", "", "", ""]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=True)
    assert [c.ref for c in report.results[0].candidates] == [existing["ster"]]
    assert report.results[0].status.startswith("beslissing")


def test_rows_a_filter_hides_are_named_in_the_report(tmp_path, register):
    rows = [[f"H-{i}", name, "", "", "SPRT", "Kouter", str(i), 9000, "Gent", "", "", "", ""]
            for i, name in enumerate(["Schaakclub Het Paard", "Oude Kaartersclub (opgeheven)"], start=1)]
    path = write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows)
    workbook = load_workbook(path)
    workbook.active.row_dimensions[3].hidden = True
    workbook.save(path)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    assert [f.message for f in report.file_notes if "verborgen" in f.message] == [
        "1 rij(en) zijn verborgen in het bestand (bv. door een filter): rij 3. Ze worden ingelezen zoals de andere; "
        "verwijder ze uit het bestand als ze niet geïmporteerd mogen worden."]


def test_an_unknown_column_that_looks_like_a_template_column_asks_to_be_renamed(tmp_path, register):
    header = [*HEADER, "Contactpersoon"]
    rows = [["C-1", "Schaakclub Het Paard", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", "", "An Peeters"]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=header, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=True)
    said = {f.column: (f.message, f.fix) for f in report.file_notes}
    assert "lijkt ze op 'Vertegenwoordiger" in said["Contactpersoon"][0] and "hernoem" in said["Contactpersoon"][1]
    assert said["Opmerkingen"][1].startswith("Geen actie nodig")


def test_koppel_keeps_a_name_that_differs_in_capitals_and_warns_about_lost_activities_and_another_gemeente(
        tmp_path, register):
    aalst = registered(register, valid_body(naam="Chiro Sint-Jan Aalst", hoofdactiviteiten=["JGDW", "SPRT"],
                                            vertegenwoordigers=[], locaties=[
        {"locatietype": "Activiteiten", "adres": {"straatnaam": "Kerkstraat", "huisnummer": "1", "postcode": "9300",
                                                  "gemeente": "Aalst", "land": "België"}}]))
    rows = [["K-1", "CHIRO SINT-JAN AALST", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", "",
             f"koppel:{aalst}"]]
    path = write_xlsx(tmp_path / "lijst.xlsx", header=[*HEADER, "Actie"], rows=rows)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=False)
    result = report.results[0]
    assert result.status == "gekoppeld", [(f.column, f.message) for f in result.findings]
    said = [f.message for f in result.findings if f.level == "waarschuwing"]
    assert any("enkel in hoofdletters" in m for m in said), said
    assert f"{aalst} verliest hoofdactiviteit(en) JGDW." in said
    assert f"{aalst} ligt in het register in Aalst, niet in Gent." in said
    assert any(f.level == "wijziging" and f.message.startswith("Locaties in") for f in result.findings)
    state, _ = register.handler.load(aalst)
    assert state["naam"] == "Chiro Sint-Jan Aalst"


def test_bevestig_nieuw_on_a_known_sleutel_says_the_row_changes_its_vereniging(tmp_path, register):
    row = ["S-1", "Schaakclub Het Paard", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", ""]
    first = run_import(write_xlsx(tmp_path / "a.xlsx", header=HEADER, rows=[row]), "verenigingen", register.handler,
                       GENT, dry_run=False)
    vcode = first.results[0].vcode
    row[1] = "Schaakclub Het Paard Gent"
    again = run_import(write_xlsx(tmp_path / "b.xlsx", header=[*HEADER, "Actie"], rows=[[*row, "bevestig-nieuw"]]),
                       "verenigingen", register.handler, GENT, dry_run=False)
    result = again.results[0]
    assert result.status == "bijgewerkt" and result.vcode == vcode
    assert [(f.column, f.message) for f in result.findings if f.level == "waarschuwing"] == [
        ("Actie", f"Sleutel 'S-1' hoort al bij {vcode}: de rij wijzigt die vereniging, 'bevestig-nieuw' registreert "
                  "geen nieuwe.")]


def test_a_known_row_with_an_error_is_not_offered_its_own_vereniging_as_a_look_alike(tmp_path, register):
    row = ["S-1", "Schaakclub Het Paard", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", ""]
    first = run_import(write_xlsx(tmp_path / "a.xlsx", header=HEADER, rows=[row]), "verenigingen", register.handler,
                       GENT, dry_run=False)
    assert first.results[0].status == "geregistreerd"
    row[10] = "12"  # no phone number
    again = run_import(write_xlsx(tmp_path / "b.xlsx", header=HEADER, rows=[row]), "verenigingen", register.handler,
                       GENT, dry_run=True)
    result = again.results[0]
    assert result.status.startswith("fout") and not result.candidates, [f.message for f in result.findings]


def test_a_gemeente_written_otherwise_is_stored_as_the_reference_list_spells_it(tmp_path, register):
    rows = [["P-1", "Schaakclub Het Paard", "", "", "SPRT", "Kouter", "1", 9000, "GENT", "", "", "", ""],
            ["P-2", "Toneelkring Vondel", "", "", "KECU", "Dendermondsesteenweg", "5", 9040, "St.-Amandsberg", "", "",
             "", ""]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    assert not report.errors, [(f.row, f.column, f.message) for f in report.errors]
    stored = [register.handler.load(r.vcode)[0]["locaties"][0]["adres"]["gemeente"] for r in report.results]
    assert stored == ["Gent", "Sint-Amandsberg"]
    assert "'St.-Amandsberg' gelezen als 'Sint-Amandsberg'." in [f.message for f in report.findings]


def test_the_report_workbook_shows_values_as_typed_and_the_csv_keeps_them_from_running(tmp_path, register):
    rows = [["F-1", "Schaakclub Het Paard", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "+32 9 234 56", "", ""],
            ["F-2", "=HYPERLINK(\"http://evil.example\")", "", "", "SPRT", "Kouter", "2", 9000, "Gent", "", "", "", ""]]
    path = write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows)
    report = run_import(path, "verenigingen", register.handler, GENT, dry_run=True)
    report.write(tmp_path / "rapport", path)
    sheet = load_workbook(tmp_path / "rapport" / "importrapport.xlsx")["Meldingen"]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert "+32 9 234 56" in [cell.value for cell in cells]
    assert not any(cell.data_type == "f" or str(cell.value or "").startswith("'") for cell in cells)
    assert any(line[5] == "'+32 9 234 56" for line in _csv_lines(report, tmp_path, "meldingen"))


def test_no_break_spaces_and_a_remark_after_a_phone_number_are_read_as_a_person_reads_them(tmp_path, register):
    rows = [["N-1", "Wandelclub\u00a0De Stapstenen", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "",
             "09 233 45 67 (na 18u)", "", ""]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    assert not report.errors, [(f.column, f.message) for f in report.errors]
    state, _ = register.handler.load(report.results[0].vcode)
    assert state["naam"] == "Wandelclub De Stapstenen"
    assert [c["waarde"] for c in state["contactgegevens"]] == ["+32 9 233 45 67"]
    assert any("zonder '(na 18u)'" in f.message for f in report.findings)


def test_activities_separated_by_a_slash_and_a_web_address_with_a_space(tmp_path, register):
    rows = [["W-1", "Schaakclub Het Paard", "", "", "Sport / Jeugdwerk", "Kouter", "1", 9000, "Gent", "", "",
             "www.paard.be/onze leden", ""]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=HEADER, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    assert not report.errors, [(f.column, f.message) for f in report.errors]
    state, _ = register.handler.load(report.results[0].vcode)
    assert sorted(state["hoofdactiviteiten"]) == ["JGDW", "SPRT"]
    assert [c["waarde"] for c in state["contactgegevens"]] == ["https://www.paard.be/onze%20leden"]


def test_numbered_columns_a_whole_address_two_digit_years_and_what_cannot_be_split(tmp_path, register):
    header = ["Id", "Naam vereniging", "Adres", "Opgericht", "Activiteiten", "E-mail 1", "E-mail 2", "Tel.", "GSM"]
    rows = [["A-1", "Schaakclub Het Paard", "Kouter 36, 9000 Gent", "1/9/95", "SPRT", "a@paard.be", "b@paard.be",
             "09 233 11 22 / 0475 22 33 44", ""],
            ["A-2", "Badmintonclub Shuttle (vzw)", "Kerkstraat z/n", "", "SPRT", "", "", "", "0476 12"],
            ["102.0", "Toneelkring Vondel", "Veldstraat 35 - 37, 9000 Gent", "", "KECU", "", "", "", ""]]
    report = run_import(write_xlsx(tmp_path / "lijst.xlsx", header=header, rows=rows), "verenigingen",
                        register.handler, GENT, dry_run=False)
    by_row = messages_by_row(report)
    assert report.results[0].status == "geregistreerd", [(f.column, f.message) for f in by_row[2]]
    paard, _ = register.handler.load(report.results[0].vcode)
    assert [(c["contactgegeventype"], c["waarde"]) for c in paard["contactgegevens"]] == [
        ("E-mail", "a@paard.be"), ("E-mail", "b@paard.be"), ("Telefoon", "+32 9 233 11 22"),
        ("Telefoon", "+32 475 22 33 44")]
    adres = paard["locaties"][0]["adres"]
    assert (adres["straatnaam"], adres["huisnummer"], adres["postcode"], adres["gemeente"]) == \
        ("Kouter", "36", "9000", "Gent")
    assert paard["startdatum"] == "1995-09-01"
    # what cannot be split says so with the value, in the file's own column names
    assert any(f.column == "Straat" and f.level == "fout" and f.value == "Kerkstraat z/n" for f in by_row[3])
    assert any(f.column == "Naam" and "vzw" in f.message for f in by_row[3])
    said = " ".join(f"{line[4]} {line[6]}" for line in _csv_lines(report, tmp_path, "meldingen"))
    assert "Tel./GSM" in said  # a phone message names both columns that hold phone numbers
    vondel = report.results[2]
    assert vondel.sleutel == "102" and vondel.status == "geregistreerd"
    state, _ = register.handler.load(vondel.vcode)
    assert state["locaties"][0]["adres"]["huisnummer"] == "35 - 37"


def test_a_control_character_is_a_row_error_and_invisible_characters_are_not_read(tmp_path, register):
    """The import's text never passed the HTTP body checks: '\\x01' and a zero-width space were stored as typed."""
    rows = [["C-1", "Club\x01 De Roos", "", "", "SPRT", "Kouter", "1", 9000, "Gent", "", "", "", ""],
            ["C-2", "Club \u200bDe \u00adLinde", "", "", "SPRT", "Kouter", "2", 9000, "Gent", "", "", "", ""]]
    report = run_import(write_csv(tmp_path / "lijst.csv", rows, HEADER), "verenigingen", register.handler, GENT,
                        dry_run=False)  # (openpyxl writes no control character in a workbook)
    first, second = report.results
    assert first.status.startswith("fout") and [(f.column, f.level) for f in first.findings] == [("Naam", "fout")]
    assert "stuurteken (U+0001)" in first.findings[0].message
    assert second.status == "geregistreerd", [f.message for f in second.findings]
    assert register.handler.load(second.vcode)[0]["naam"] == "Club De Linde"
