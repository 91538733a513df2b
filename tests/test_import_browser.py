"""A civil servant imports a list in a browser (Chromium via Playwright, on a phone): signs in with the browser's
own dialog (any user name, the API key as password), uploads a file as a proefronde, follows it and finds the
reports. A form on another website cannot make the browser write with those credentials."""

from __future__ import annotations

import base64
import io
import re
import time

import pytest

from tests.conftest import Keys
from tests.test_import_rounds import HEADER
from tests.test_portal_browser import ARTIFACTS, AXE, _browser, _serious
from tests.workbooks import write_csv

ROWS = [["G-1", "Schaakclub Het Paard", "", "", "Hobby & spel", "Kouter", "1", 9000, "Gent", "", "", "", ""],
        ["G-2", "Toneelkring De Planken", "", "12/03/1985", "Kunst en cultuur", "Veldstraat", "9", 9000, "Gentt", "",
         "", "", ""]]


def test_a_civil_servant_signs_in_uploads_a_proefronde_and_finds_the_reports_on_a_phone(live_server, keys, tmp_path):
    from playwright.sync_api import sync_playwright

    source = write_csv(tmp_path / "verenigingen gent.csv", ROWS, HEADER)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                   http_credentials={"username": "gemeente", "password": keys.initiator}).new_page()
        page.goto(live_server + "/")
        page.get_by_role("link", name="Voor besturen", exact=True).click()
        page.get_by_role("link", name="Een lijst van verenigingen importeren").click()
        assert page.url.endswith("/imports") and "Aangemeld voor" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        if AXE.exists():
            assert _serious(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "importeren-telefoon.png"), full_page=True)
        page.set_input_files("#bestand", str(source))
        page.get_by_role("button", name="Bestand opladen").click()
        page.wait_for_url(re.compile(r".*/imports/[0-9a-f]+$"))
        for _ in range(60):  # the page refreshes itself every 3 s while the import runs
            if "Rapporten" in page.content():
                break
            time.sleep(0.5)
            page.reload()
        text = page.inner_text("main")
        assert "Proefronde: verenigingen gent.csv" in text and "klaar" in text, text
        assert "proefimport: niets geschreven" in text
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        if AXE.exists():
            assert _serious(page) == []
        page.screenshot(path=str(ARTIFACTS / "import-klaar-telefoon.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="Terugkoppeling (Excel)").click()
        assert download.value.suggested_filename == "terugkoppeling-verenigingen gent.xlsx"
        browser.close()


def test_without_credentials_a_browser_is_told_how_to_sign_in(client):
    answer = client.get("/imports", headers={"Accept": "text/html"})
    assert answer.status_code == 401 and answer.mimetype == "text/html"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert 'href="/aanmelden"' in answer.get_data(as_text=True)
    assert "de OVO-code van uw bestuur" in client.get("/aanmelden").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "https://kwaadaardig.example"}])
def test_a_form_on_another_website_cannot_upload_with_the_browser_s_credentials(client, keys, headers):
    basic = "Basic " + base64.b64encode(f"gemeente:{keys.initiator}".encode()).decode()
    data = {"bestand": (io.BytesIO(b"Sleutel;Naam\nA;Club\n"), "lijst.csv"), "proef": "nee"}
    answer = client.post("/imports", data=data, headers={"Authorization": basic, **headers})
    assert answer.status_code == 403, answer.get_data(as_text=True)
    assert client.get("/imports", headers={"Authorization": basic}).get_json()["imports"] == []
    same = client.post("/imports", data={"bestand": (io.BytesIO(b"Sleutel;Naam\nA;Club\n"), "lijst.csv")},
                       headers={"Authorization": basic, "Sec-Fetch-Site": "same-origin", "Accept": "text/html"})
    assert same.status_code == 303 and same.headers["Location"].startswith("/imports/")
    bearer = client.post("/imports", data={"bestand": (io.BytesIO(b"Sleutel;Naam\nA;Club\n"), "lijst.csv")},
                         headers={**Keys.auth(keys.initiator), **headers})
    assert bearer.status_code == 202  # a key in a Bearer header is the client's own doing
