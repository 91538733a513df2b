"""Named commands: guards in the command, whatever the entry point (HTTP, `vr import`, KBO sync).

The confirmed bug these tests pin: re-importing a KBO association's spreadsheet row dropped its
KBO-sourced maatschappelijke zetel. The zetel is KBO-owned, so no entry point may drop it.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain import named_commands as cmd
from app.domain.errors import NotFound, NotPermitted
from app.domain.parse import parse_registration
from app.domain.versions import Initiator
from app.exchange.importer import run_import
from app.exchange.kbo_open_data import sync
from tests.conftest import VALID_BODY, Keys, dump
from tests.test_kbo_open_data import dump_dir
from tests.workbooks import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
GENT = Initiator("OVO000001", "Gemeente Gent")
AALST = Initiator("OVO000002", "Gemeente Aalst")
ZETEL = "MaatschappelijkeZetelVolgensKBO"
KBO_HEADER = ["Sleutel", "KBO-nummer", "Rechtsvorm", "Naam", "Postcode", "Straat", "Huisnummer", "Gemeente"]


def kbo_sheet(path: Path, street: str = "Kouter") -> Path:
    return write_xlsx(path, [["K1", "0202.239.951", "VZW", "Sportraad Gent vzw", "9000", street, "1", "Gent"]],
                      KBO_HEADER)


def locatietypes(register, vcode: str = "V0001001") -> list[str]:
    state, _ = register.handler.load(vcode)
    return sorted(loc["locatietype"] for loc in state["locaties"])


def test_reimport_of_a_kbo_row_keeps_the_kbo_zetel(tmp_path, register):
    sheet = kbo_sheet(tmp_path / "kbo.xlsx")
    assert run_import(sheet, "kbo", register.handler, GENT, dry_run=False).results[0].status == "geregistreerd"
    assert sync(dump_dir(tmp_path), register.handler).updated == ["0202239951"]
    assert locatietypes(register) == ["Activiteiten", ZETEL]

    again = run_import(kbo_sheet(tmp_path / "kbo2.xlsx", street="Veldstraat"), "kbo", register.handler, GENT,
                       dry_run=False)
    assert again.results[0].status == "bijgewerkt"
    state, _ = register.handler.load("V0001001")
    assert [(loc["id"], loc["locatietype"], loc["adres"]["straatnaam"]) for loc in state["locaties"]] == [
        (1, "Activiteiten", "Veldstraat"), (2, ZETEL, "Zuiderlaan")]

    before = dump(register)
    assert run_import(kbo_sheet(tmp_path / "kbo3.xlsx", street="Veldstraat"), "kbo", register.handler, GENT,
                      dry_run=False).results[0].status == "ongewijzigd"
    assert "0202239951" in sync(dump_dir(tmp_path), register.handler).unchanged  # nothing for the KBO to repair
    assert dump(register) == before


def test_reimport_through_the_vr_cli_keeps_the_kbo_zetel(tmp_path, settings):
    env = dict(os.environ, VR_DATA_DIR=str(settings.data_dir), VR_BASE_URL=settings.base_url, PYTHONPATH=str(ROOT))

    def vr(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "app.cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

    who = ["--ovo", "OVO000001", "--naam", "Gent", "--quiet"]
    vr("import", str(kbo_sheet(tmp_path / "kbo.xlsx")), "--soort", "kbo", *who, "--report", str(tmp_path / "r1"))
    vr("kbo-sync", str(dump_dir(tmp_path)))
    vr("import", str(kbo_sheet(tmp_path / "kbo2.xlsx", street="Veldstraat")), "--soort", "kbo", *who,
       "--report", str(tmp_path / "r2"))
    from app.register import Register

    register = Register.open(settings)
    try:
        assert locatietypes(register) == ["Activiteiten", ZETEL]
    finally:
        register.close()


def test_http_cannot_drop_or_rewrite_the_kbo_zetel(tmp_path, register, client, keys):
    sync(dump_dir(tmp_path), register.handler)
    state, _ = register.handler.load("V0001001")
    zetel = next(loc["id"] for loc in state["locaties"] if loc["locatietype"] == ZETEL)
    auth = Keys.auth(keys.initiator)
    patch = {**auth, "Content-Type": "application/merge-patch+json"}
    before = dump(register)
    url = f"/verenigingen/V0001001/locaties/{zetel}"
    assert client.delete(url, headers=auth).status_code == 400
    assert client.patch(url, json={"adres": {"straatnaam": "Elders"}}, headers=patch).status_code == 400
    assert client.patch(url, json={"locatietype": "Activiteiten"}, headers=patch).status_code == 400
    assert client.post("/verenigingen/V0001001/locaties", headers=auth, json={
        "locatietype": ZETEL, "adres": {"straatnaam": "Kouter", "huisnummer": "1", "postcode": "9000",
                                        "gemeente": "Gent", "land": "België"}}).status_code == 400
    assert dump(register) == before
    assert client.patch(url, json={"naam": "Zetel"}, headers=patch).status_code == 200
    assert locatietypes(register) == [ZETEL]


# -- the commands on their own: pure, guarded ----------------------------------------------------------
@pytest.fixture
def state() -> dict:
    new = parse_registration(copy.deepcopy(VALID_BODY))
    for kind in ("locaties", "contactgegevens", "vertegenwoordigers"):
        for index, item in enumerate(new[kind], start=1):
            item["id"] = index
    new["erkenningen"] = [{"id": 1, "ipdcProductNummer": "1502", "ipdcProductNaam": None, "startdatum": None,
                           "einddatum": None, "hernieuwingsdatum": None, "hernieuwingsUrl": None,
                           "geregistreerdDoor": GENT.ovo}]
    return new


def test_apply_returns_a_new_state_and_leaves_its_input_alone(state):
    original = copy.deepcopy(state)
    commands = [cmd.ChangeBasisgegevens("V0001001", {"korteNaam": "Smash"}), cmd.Reactivate("V0001001"),
                cmd.Stop("V0001001", "2024-01-01"),
                cmd.AddItem.from_body("V0001001", "contactgegevens",
                                      {"contactgegeventype": "E-mail", "waarde": "bestuur@smash.be"}),
                cmd.ChangeItem("V0001001", "locaties", 1, {"naam": "Hal"}), cmd.RemoveItem("V0001001", "locaties", 2),
                cmd.ImportRow("V0001001", parse_registration(dict(VALID_BODY, naam="Andere naam")),
                              dict(VALID_BODY, naam="Andere naam"))]
    for command in commands:
        try:
            new = command.apply(state, GENT)
        except Exception:  # noqa: BLE001 - Reactivate refuses an active vereniging: still no mutation
            new = None
        assert state == original, command
        assert new is None or new != state, command
    added = cmd.AddItem.from_body("V0001001", "contactgegevens",
                                  {"contactgegeventype": "E-mail", "waarde": "bestuur@smash.be"}).apply(state, GENT)
    assert "id" not in added["contactgegevens"][-1]  # the runner numbers it


def test_erkenningen_only_by_the_organisation_that_registered_them(state):
    with pytest.raises(NotPermitted):
        cmd.ChangeItem("V0001001", "erkenningen", 1, {"ipdcProductNaam": "X"}).apply(state, AALST)
    with pytest.raises(NotPermitted):
        cmd.RemoveItem("V0001001", "erkenningen", 1).apply(state, AALST)
    assert cmd.RemoveItem("V0001001", "erkenningen", 1).apply(state, GENT)["erkenningen"] == []
    added = cmd.AddItem.from_body("V0001001", "erkenningen", {"ipdcProductNummer": "77"}).apply(state, AALST)
    assert added["erkenningen"][-1]["geregistreerdDoor"] == AALST.ovo
    with pytest.raises(NotFound):
        cmd.RemoveItem("V0001001", "erkenningen", 9).apply(state, GENT)


def test_import_row_for_a_kbo_vereniging_keeps_everything_the_kbo_owns(state):
    state = dict(state, verenigingstype="VZW", kboNummer="0202239951")
    state["locaties"] = [*state["locaties"], {"id": 7, "locatietype": ZETEL, "isPrimair": False, "naam": None,
                                              "adres": {"straatnaam": "Zuiderlaan"}, "adresId": None, "bron": "KBO"}]
    body = dict(VALID_BODY, naam="Niet de KBO-naam", vertegenwoordigers=[{**VALID_BODY["vertegenwoordigers"][0],
                                                                           "insz": "90020199704"}])
    new = cmd.ImportRow("V0001001", parse_registration(body), body).apply(state, GENT)
    assert new["naam"] == state["naam"] and new["vertegenwoordigers"] == state["vertegenwoordigers"]
    assert [loc for loc in new["locaties"] if loc.get("bron") == "KBO"] == state["locaties"][-1:]
