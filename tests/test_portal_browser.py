"""The portal as a citizen meets it, in Debian's Chromium via Playwright, on a phone (390×844) and a desktop
(1280×800): no horizontal scrolling on any page type, no serious or critical axe-core violations, and the
search → filter → vereniging → historiek flow by keyboard alone. Screenshots go to artifacts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import load_demo
from tests.conftest import Keys

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
AXE = ROOT / ".axe-core" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"telefoon": {"width": 390, "height": 844}, "klein": {"width": 320, "height": 640},
             "desktop": {"width": 1280, "height": 800}}
SPARQL = "SELECT ?naam WHERE { ?v <http://www.w3.org/2004/02/skos/core#prefLabel> ?naam } LIMIT 5"


@pytest.fixture
def portal(live_server, register, client, keys):
    """A live server with the demo data, one vereniging renamed, one stopped and one removed."""
    load_demo(register, quiet=True)
    listed = client.get("/api/zoeken?limit=3&sort=vCode").get_json()["verenigingen"]
    auth = Keys.auth(keys.initiator)
    changed, removed = listed[0]["vCode"], listed[2]["vCode"]
    client.patch(f"/verenigingen/{changed}", json={"naam": "Wereldwinkel Oostakker", "hoofdactiviteiten": ["SPRT"]},
                 headers={**auth, "Content-Type": "application/merge-patch+json"})
    assert client.delete(f"/verenigingen/{removed}", headers=Keys.auth(keys.admin)).status_code in (200, 204)
    return live_server, changed, removed


def _browser(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])


def _pages(changed: str, removed: str) -> dict[str, str]:
    return {
        "start": "/", "zoeken": "/zoeken?q=sport", "zoeken-typfout": "/zoeken?q=zwemklub",
        "zoeken-leeg": "/zoeken?q=qqqxxyy", "vereniging": f"/doc/vereniging/{changed}",
        "historiek": f"/doc/vereniging/{changed}/historiek", "statistiek": "/statistiek", "open-data": "/open-data",
        "privacy": "/privacy", "toegankelijkheid": "/toegankelijkheid", "contact": "/contact",
        "sparql": "/sparql?format=html&query=" + SPARQL.replace(" ", "%20").replace("#", "%23"),
        "sparql-fout": "/sparql?format=html&query=SELEC%20x", "codelijst": "/conceptscheme/hoofdactiviteiten",
        "concept": "/concept/werkingsgebied/BE23444021", "vocabularium": "/ns", "api": "/docs/api",
        "stroom": "/ldes/verenigingen/tijd/1", "stroom-gemeenten": "/ldes/verenigingen/gemeenten", "catalogus": "/ldes",
        "404": "/bestaat/niet", "410": f"/doc/vereniging/{removed}", "400": "/zoeken?offset=1000",
    }


def _serious(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_every_page_type_fits_a_phone_and_a_desktop_without_serious_axe_violations(portal):
    from playwright.sync_api import sync_playwright

    if not AXE.exists():
        pytest.fail("axe-core is required (scripts/test installs it into .axe-core/)")
    server, changed, removed = portal
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, object] = {}
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        for device, viewport in VIEWPORTS.items():
            page = browser.new_page(viewport=viewport)
            for name, path in _pages(changed, removed).items():
                response = page.goto(server + path)
                expected = int(name) if name.isdigit() else (400 if name == "sparql-fout" else 200)
                assert response.status == expected, (name, response.status)
                assert "text/html" in response.headers["content-type"], name
                if name in ("api", "codelijst", "concept", "vocabularium"):  # tables of text fit: no column cut off
                    wide = page.evaluate("[...document.querySelectorAll('.tabel')].filter("
                                         "t => t.scrollWidth > t.clientWidth + 1).length")
                    problems.update({f"{device} {name}: tabel breder dan het scherm": wide} if wide else {})
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems[f"{device}/{name}: {overflow}px horizontaal scrollen"] = True
                banners = page.evaluate("document.querySelectorAll('header:not(main header)').length")
                if banners != 1:
                    problems[f"{device}/{name}: {banners} banner landmarks"] = True
                violations = _serious(page)
                if violations:
                    problems[f"{device}/{name}"] = violations
                page.screenshot(path=str(ARTIFACTS / f"portal-{device}-{name}.png"), full_page=True)
            page.close()
        browser.close()
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
    assert (ARTIFACTS / "portal-telefoon-zoeken.png").stat().st_size > 10_000


def _contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours (1.4.11 asks ≥ 3:1 for a focus indicator)."""
    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _tab_to(page, predicate: str, limit: int = 120) -> None:
    """Press Tab until the focused element satisfies a JavaScript predicate on `el`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => !!({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"no focusable element with {predicate}")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_search_filter_detail_and_history_by_keyboard_alone(portal, device):
    from playwright.sync_api import sync_playwright

    server, changed, _ = portal
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport=VIEWPORTS[device])
        page.goto(server + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
        _tab_to(page, "el.id === 'q'")
        ring = page.evaluate("(s => [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor])"
                             "(getComputedStyle(document.activeElement))")
        assert ring[0] == "solid" and ring[1] >= 3 and _contrast(ring[2], "rgb(255, 255, 255)") >= 3, ring
        page.keyboard.type("Wereldwinkl")  # a typo: the portal suggests and shows "wereldwinkel"
        page.keyboard.press("Enter")
        page.wait_for_url("**/zoeken?**")
        assert "Bedoelde u" in page.inner_text(".suggestie")
        assert page.locator(".resultaat").count() >= 1
        if device != "desktop":  # the results, not the form again, are what a phone shows after a search
            top = page.evaluate("document.getElementById('resultaten').getBoundingClientRect().top")
            assert -2 <= top < VIEWPORTS[device]["height"] / 3, top
        _tab_to(page, "el.classList.contains('naar-resultaten')")  # past the filters in one step
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('resultaten').contains(document.activeElement)")
        page.goto(page.url)  # (the same search again: the rest of the flow starts from its top)
        if device != "desktop":  # the filters are folded under a button on a phone
            assert page.evaluate("!document.querySelector('details.facetten').open")
            _tab_to(page, "el.tagName === 'SUMMARY'")
            page.keyboard.press("Enter")
            assert page.evaluate("document.querySelector('details.facetten').open")
        _tab_to(page, "el.dataset.facet === 'hoofdactiviteit' && el.dataset.waarde === 'SPRT'")
        page.keyboard.press("Enter")
        page.wait_for_url("**hoofdactiviteit=**")
        assert page.locator(".facet.aan").count() == 1
        _tab_to(page, f"el.getAttribute('href') === '/doc/vereniging/{changed}'")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/doc/vereniging/{changed}")
        assert page.locator("h1").inner_text() == "Wereldwinkel Oostakker"
        assert "Alle leeftijden" in page.content() or "jaar" in page.content()
        _tab_to(page, "el.textContent.trim() === 'Historiek'")
        page.keyboard.press("Enter")
        page.wait_for_url("**/historiek")
        text = page.inner_text("main")
        assert "Vereniging werd gewijzigd" in text and "Wereldwinkel Oostakker" in text
        assert "Sport" in text and '["' not in text and "UTC" not in text
        page.screenshot(path=str(ARTIFACTS / f"portal-{device}-toetsenbord-historiek.png"), full_page=True)
        browser.close()
