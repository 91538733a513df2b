"""The staff page as a bestuur's employee meets it: Chromium logs in with the key (HTTP Basic), on a phone and
a desktop, without horizontal scrolling or serious axe-core violations."""

from __future__ import annotations

import pytest

from tests.test_meldingen import every_kind_of_change, subscribe
from tests.test_portal_browser import AXE, VIEWPORTS, _browser, _serious


def test_staff_page_in_a_browser_with_the_key_as_password(live_server, client, keys):
    from playwright.sync_api import sync_playwright

    if not AXE.exists():
        pytest.fail("axe-core is required (scripts/test installs it into .axe-core/)")
    subscribe(client, keys.reader, None, "")
    every_kind_of_change(client, keys)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        for device, viewport in VIEWPORTS.items():
            page = browser.new_page(viewport=viewport, http_credentials={"username": "OVO000003",
                                                                         "password": keys.reader})
            response = page.goto(live_server + "/meldingen")
            assert response.status == 200, device
            assert page.locator("tr.melding").count() >= 14
            assert page.locator("tr.afgeschermd").count() >= 4  # a reader sees the restricted meldingen
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, device
            # nor inside the table: on a phone every melding is a card, whoever made it and why in view
            table = page.locator(".tabel")
            assert table.evaluate("t => t.scrollWidth - t.clientWidth") <= 0, device
            door = page.locator("tr.melding td[data-label=Door]").first.bounding_box()
            assert door["x"] + door["width"] <= viewport["width"], device
            assert _serious(page) == [], device
            page.fill("#gemeente", "Aalst")
            page.click("button[type=submit]")
            assert "Aalst" in page.locator("h1 + p").inner_text()
            page.close()
        anonymous = browser.new_page()
        assert anonymous.request.get(live_server + "/meldingen").status == 401
        browser.close()
