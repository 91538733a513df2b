"""Public portal: search API, facets, statistics, stopped/removed verenigingen, and the pages in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import load_demo
from tests.conftest import Keys

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def demo(register):
    load_demo(register, quiet=True)
    return register


def test_search_api_free_text_facets_paging_and_sorting(client, demo):
    everything = client.get("/api/zoeken?limit=100").get_json()
    assert everything["totaal"] == 64
    counts = {f["waarde"]: f["aantal"] for f in everything["facetten"]["hoofdactiviteit"]}
    assert set(counts) >= {"SPRT", "JGDW"} and all(n >= 2 for n in counts.values())
    sport = client.get("/api/zoeken?hoofdactiviteit=SPRT&limit=100").get_json()
    assert sport["totaal"] == counts["SPRT"]
    assert all("SPRT" in v["hoofdactiviteiten"] for v in sport["verenigingen"])
    chiro = client.get("/api/zoeken?q=chiro").get_json()
    assert chiro["totaal"] > 0 and all("Chiro" in v["naam"] for v in chiro["verenigingen"])
    accents = client.get("/api/zoeken?q=buurtcomite").get_json()  # accent folding: Buurtcomité
    assert accents["totaal"] > 0
    gent = client.get("/api/zoeken?gemeente=BE23444021").get_json()
    assert gent["totaal"] > 0 and all("Gent" in v["gemeenten"] for v in gent["verenigingen"])
    province = client.get("/api/zoeken?provincie=BE25&limit=100").get_json()
    assert province["totaal"] > 0
    page = client.get("/api/zoeken?limit=10&offset=10&sort=-naam").get_json()
    assert len(page["verenigingen"]) == 10
    names = [v["naam"] for v in page["verenigingen"]]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert client.get("/api/zoeken?limit=600&offset=500").status_code == 400
    assert client.get("/api/zoeken?sort=kleur").status_code == 400


def test_index_follows_the_write_path_stopped_and_removed(client, demo, keys):
    auth = Keys.auth(keys.initiator)
    first = client.get("/api/zoeken?limit=1&sort=vCode").get_json()["verenigingen"][0]["vCode"]
    client.patch(f"/verenigingen/{first}", json={"naam": "Zzzuniek hernoemd"},
                 headers={**auth, "Content-Type": "application/merge-patch+json"})
    assert client.get("/api/zoeken?q=zzzuniek").get_json()["totaal"] == 1
    client.post(f"/verenigingen/{first}/stop", json={"einddatum": "2024-01-31"}, headers=auth)
    assert client.get("/api/zoeken?q=zzzuniek").get_json()["totaal"] == 0  # stopped: not listed
    assert client.get("/api/zoeken?q=zzzuniek&status=Gestopt").get_json()["totaal"] == 1
    page = client.get(f"/doc/vereniging/{first}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Deze vereniging is gestopt" in page
    client.delete(f"/verenigingen/{first}", headers=Keys.auth(keys.admin))
    assert client.get("/api/zoeken?q=zzzuniek&status=Gestopt").get_json()["totaal"] == 0
    assert client.get(f"/doc/vereniging/{first}").status_code == 410


def test_index_catches_up_after_missing_changes(demo, settings):
    index = demo.index
    index.db.execute("DELETE FROM vereniging")
    index.db.execute("DELETE FROM meta")
    index.db.commit()
    assert index.catch_up(demo.handler.latest_sequence) == 64
    from app.index.search_index import Query

    assert index.search(Query(limit=1))["totaal"] == 64


def test_statistics_and_downloads(client, demo):
    page = client.get("/statistiek").get_data(as_text=True)
    assert page.count('<ol class="staven"') == 6 and page.count("<svg") > 6  # one scalable SVG bar per row
    rows = client.get("/statistiek/hoofdactiviteit.json").get_json()
    assert sum(r["aantal"] for r in rows) >= 64 and {"label", "aantal"} == set(rows[0])
    assert client.get("/statistiek/provincie.csv").get_data(as_text=True).startswith("label,aantal")
    assert client.get("/statistiek/bestaatniet.csv").status_code == 404


def test_browser_search_filter_open_history_and_statistics(live_server, demo):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(live_server + "/")
        page.keyboard.press("Tab")  # keyboard users first meet the skip link
        assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
        page.get_by_label("Zoek op naam").fill("club")
        page.get_by_label("Zoek op naam").press("Enter")
        page.wait_for_url("**/zoeken?**")
        found = page.locator(".resultaat").count()
        assert found > 0
        page.screenshot(path=str(ARTIFACTS / "portal-zoeken.png"), full_page=True)
        page.locator('a.facet[data-facet="hoofdactiviteit"]').first.click()
        page.wait_for_load_state()
        assert "hoofdactiviteit=" in page.url and page.locator(".facet.aan").count() == 1
        page.screenshot(path=str(ARTIFACTS / "portal-facet.png"), full_page=True)
        page.locator(".resultaat a").first.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text()
        page.screenshot(path=str(ARTIFACTS / "portal-vereniging.png"), full_page=True)
        page.get_by_role("link", name="Historiek").click()
        page.wait_for_load_state()
        assert "Vereniging werd geregistreerd" in page.content()
        page.screenshot(path=str(ARTIFACTS / "portal-historiek.png"), full_page=True)
        page.goto(live_server + "/statistiek")
        assert page.locator("ol.staven").count() == 6
        page.screenshot(path=str(ARTIFACTS / "portal-statistiek.png"), full_page=True)
        browser.close()
    for name in ("zoeken", "facet", "vereniging", "historiek", "statistiek"):
        assert (ARTIFACTS / f"portal-{name}.png").stat().st_size > 10_000


def test_search_page_postcode_filter_dutch_labels_and_active_only(client, demo, keys):
    page = client.get("/zoeken?postcode=9000").get_data(as_text=True)
    assert 'value="9000"' in page and "Naam (A–Z)" in page and "Alle filters wissen" in page
    api = client.get("/api/zoeken?postcode=9000&limit=100").get_json()
    assert api["totaal"] > 0 and all("9000" in v["postcodes"] for v in api["verenigingen"])
    assert f"{api['totaal']} verenigingen" in page and "Enkel actieve verenigingen" in page
    assert client.get("/api/zoeken?q=9000").get_json()["totaal"] == api["totaal"]  # free text knows places
    # a stopped vereniging stays out of the portal even when the URL asks for it
    first = api["verenigingen"][0]
    client.post(f"/verenigingen/{first['vCode']}/stop", json={"einddatum": "2024-01-31"},
                headers=Keys.auth(keys.initiator))
    listed = client.get("/zoeken?postcode=9000&status=Gestopt").get_data(as_text=True)
    assert f"/doc/vereniging/{first['vCode']}\"" not in listed
    stats = client.get("/statistiek").get_data(as_text=True)
    assert stats.count("<details>") == 6 and "<th scope=\"col\">Aantal</th>" in stats



def test_search_filters_take_names_as_well_as_codes_and_refuse_what_names_nothing(client, demo):
    """gemeente=Gent, type=vzer or provincie=Antwerpen found 0 without saying why: only exact codes worked."""
    def total(query: str) -> int:
        answer = client.get("/api/zoeken?" + query)
        assert answer.status_code == 200, (query, answer.get_data(as_text=True))
        return answer.get_json()["totaal"]

    for same in (("gemeente=BE23444021", "gemeente=Gent", "gemeente=44021", "gemeente=gent"),
                 ("type=VZER", "type=vzer", "type=Vereniging zonder eigen rechtspersoonlijkheid"),
                 ("hoofdactiviteit=SPRT", "hoofdactiviteit=sport"), ("provincie=BE21", "provincie=Antwerpen"),
                 ("status=Gestopt", "status=gestopt")):
        counts = {query: total(query) for query in same}
        assert len(set(counts.values())) == 1, counts
    assert total("gemeente=Gent") > 0 and total("hoofdactiviteit=sport") > 0
    for wrong in ("gemeente=Gnet", "type=XXXX", "hoofdactiviteit=XXXX", "provincie=Brabant", "postcode=90000"):
        answer = client.get("/api/zoeken?" + wrong)
        assert answer.status_code == 400 and wrong.split("=")[1] in answer.get_json()["detail"], wrong


def test_search_reads_what_people_shorten(client, demo):
    """'St-Niklaas' and 'B-2300' found nothing: the register spells Sint-Niklaas and stores postcode 2300."""
    def total(q: str) -> int:
        return client.get("/api/zoeken", query_string={"q": q}).get_json()["totaal"]

    assert total("St-Niklaas") == total("Sint-Niklaas") > 0
    assert total("st. niklaas") == total("Sint-Niklaas")
    assert total("B-2300") == total("2300") > 0
