"""What a citizen reported missing: searches that find what a person means, readable pages instead of
codes and JSON, and HTML error pages for browsers (problem+json stays for API clients)."""

from __future__ import annotations

import re

import pytest

from app.cli.main import load_demo
from tests.conftest import Keys, valid_body

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def demo(register):
    load_demo(register, quiet=True)
    return register


def total(client, query: str) -> int:
    return client.get("/api/zoeken?" + query).get_json()["totaal"]


def oostakker(post) -> str:
    """A vereniging whose address names the deelgemeente (Oostakker), not the gemeente (Gent)."""
    body = valid_body(naam="Zwemclub De Watervlo", werkingsgebieden=["NVT"], startdatum=None,
                      doelgroep={"minimumleeftijd": 0, "maximumleeftijd": 150})
    body["locaties"] = [{"locatietype": "Activiteiten", "isPrimair": True, "adres": {
        "straatnaam": "Eksaardserijweg", "huisnummer": "2", "postcode": "9041", "gemeente": "Oostakker",
        "land": "België"}}]
    response = post(body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["vCode"]


def test_activity_labels_and_codes_are_searchable(client, demo):
    sport = total(client, "hoofdactiviteit=SPRT")
    assert sport > 0
    assert total(client, "q=sport") >= sport  # the label (names such as "Sportclub" may add more)
    assert total(client, "q=SPRT") == sport  # the code
    assert total(client, "q=jeugdwerk") >= total(client, "hoofdactiviteit=JGDW") > 0


def test_province_gemeente_deelgemeente_and_postcode_names_are_searchable(client, demo, post):
    vcode = oostakker(post)
    assert total(client, "q=Oost-Vlaanderen") == total(client, "provincie=BE23") > 0
    assert total(client, "q=West-Vlaanderen") == total(client, "provincie=BE25") > 0  # a phrase, not "oost" + …
    assert total(client, "q=Gent") == total(client, "gemeente=BE23444021")  # Oostakker belongs to Gent
    for text in ("Gent", "Oostakker", "9041"):
        found = client.get(f"/api/zoeken?q={text}&limit=100").get_json()["verenigingen"]
        assert vcode in {v["vCode"] for v in found}, text


def test_typos_find_the_meant_word_with_a_suggestion(client, demo, post):
    oostakker(post)
    for typo, meant in (("Wereldwinkl", "wereldwinkel"), ("zwemklub", "zwemclub")):
        result = client.get(f"/api/zoeken?q={typo}").get_json()
        assert result["suggestie"] == meant and result["totaal"] > 0, typo
        page = client.get(f"/zoeken?q={typo}").get_data(as_text=True)
        assert "Bedoelde u" in page and f"q={meant}" in page


def names(client, query: str) -> list[str]:
    return [v["naam"] for v in client.get("/api/zoeken?limit=100&" + query).get_json()["verenigingen"]]


def test_a_word_finds_the_compounds_that_hold_it_in_names_and_descriptions(client, demo, post):
    """Dutch writes compounds as one word: 'club' is in 'Petanqueclub', 'tennis' in 'Tafeltennisclub'."""
    body = valid_body(naam="Tafeltennisclub De Smash", werkingsgebieden=["NVT"])
    body["locaties"] = [{"locatietype": "Activiteiten", "isPrimair": True, "adres": {
        "straatnaam": "Regentlaan", "huisnummer": "2", "postcode": "9300", "gemeente": "Aalst", "land": "België"}}]
    assert post(body).status_code == 201, post
    assert "Tafeltennisclub De Smash" in names(client, "q=tennis")
    assert "Tafeltennisclub De Smash" in names(client, "q=tafeltennis%20club")
    assert {"Petanqueclub De Zwaluw", "Schaakclub Het Anker"} <= set(names(client, "q=club"))
    assert "Digicafé Gent" in names(client, "q=café")
    both = set(names(client, "q=tennis%20aalst"))  # two words: both must match (the compound group, then the next)
    assert both == {"Tafeltennisclub De Smash"} and set(names(client, "q=tennis%20gent")) == set()
    assert client.get("/api/zoeken?q=tennis%20gent").get_json()["suggestie"] is None  # a known word is no typo
    # places are not taken apart: 'gent' is no part of the street 'Regentlaan' in Aalst
    assert "Tafeltennisclub De Smash" not in names(client, "q=gent")


def test_a_typo_is_never_corrected_to_a_function_word_or_a_code(client, demo):
    assert client.get("/api/zoeken?q=koor").get_json()["suggestie"] != "voor"
    for typo, meant in (("sprot", "sport"), ("Gnet", "gent")):  # two letters swapped count as one typo
        result = client.get(f"/api/zoeken?q={typo}").get_json()
        assert result["suggestie"] == meant and result["totaal"] > 0, (typo, result["suggestie"])


def test_joining_words_do_not_narrow_a_search(client, demo):
    assert total(client, "q=hobby%20en%20spel") == total(client, "q=hobby%20%26%20spel") > 0
    assert total(client, "q=gezondheid%20en%20welzijn") == total(client, "q=gezondheid%20welzijn") > 0


def test_the_word_itself_ranks_before_compounds_that_hold_it(client, demo, post):
    body = valid_body(naam="Aaa Orkest De Meesters", korteBeschrijving="Muziek")
    assert post(body).status_code == 201
    found = names(client, "q=ster")
    assert found.index("Vrienden van het Woonzorgcentrum De Ster") < found.index("Aaa Orkest De Meesters")


def test_an_empty_result_has_no_numbered_message_and_no_empty_filter_headings(client, demo):
    page = client.get("/zoeken?q=qqqxxyyzz").get_data(as_text=True)
    assert "0 verenigingen" in page and "Geen verenigingen gevonden" in page
    assert '<ol class="lijst"' not in page and 'class="card facetten"' not in page
    assert "Bedoelde u" not in page
    narrowed = client.get("/zoeken?q=sport").get_data(as_text=True)
    for heading in re.findall(r'<h2 class="facet-titel[^"]*">([^<]+)</h2>\s*<ul>\s*</ul>', narrowed):
        pytest.fail(f"empty filter heading {heading}")


def test_missing_start_dates_sort_last_in_both_directions(client, demo, post):
    vcode = oostakker(post)
    for sort in ("startdatum", "-startdatum"):
        listed = client.get(f"/api/zoeken?sort={sort}&limit=100").get_json()["verenigingen"]
        dates = [v["startdatum"] for v in listed]
        present = [d for d in dates if d]
        assert dates == present + [None] * (len(dates) - len(present)), sort
        assert present == sorted(present, reverse=sort.startswith("-")) and vcode in {
            v["vCode"] for v in listed[len(present):]}
    labels = client.get("/zoeken").get_data(as_text=True)
    assert "V-code (oudste eerst)" not in labels and "Opgericht (oudste eerst)" in labels


def test_browsers_get_html_error_pages_and_api_clients_problem_json(client, demo, keys):
    for path, status in (("/bestaat/niet", 404), ("/doc/vereniging/V9999999", 404), ("/zoeken?offset=1000", 400),
                         ("/zoeken?limit=0", 400)):
        page = client.get(path, headers=BROWSER)
        assert page.status_code == status and page.mimetype == "text/html", path
        assert "Verenigingsregister" in page.get_data(as_text=True)
        api = client.get(path)
        assert api.status_code == status and api.mimetype == "application/problem+json", path
    paging = client.get("/zoeken?offset=1000", headers=BROWSER).get_data(as_text=True)
    assert "eerste 1000 resultaten" in paging and paging.count("Verfijn") == 1
    assert "'offset'" not in paging and "'limit'" not in paging  # the API's parameter names are not the citizen's
    first = client.get("/api/zoeken?limit=1&sort=vCode").get_json()["verenigingen"][0]
    client.delete(f"/verenigingen/{first['vCode']}", headers=Keys.auth(keys.admin))
    gone = client.get(f"/doc/vereniging/{first['vCode']}", headers=BROWSER)
    text = gone.get_data(as_text=True)
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    assert "werd verwijderd" in text and first["naam"] in text and "historiek" in text
    history = client.get(f"/doc/vereniging/{first['vCode']}/historiek", headers=BROWSER)
    assert history.status_code == 200 and "Vereniging werd verwijderd" in history.get_data(as_text=True)
    problem = client.get(f"/doc/vereniging/{first['vCode']}").get_json()
    assert problem["status"] == 410 and problem["naam"] == first["naam"] and problem["verwijderdOp"]


def test_vereniging_and_history_pages_speak_dutch_not_codes(client, demo, post, keys):
    vcode = oostakker(post)
    page = client.get(f"/doc/vereniging/{vcode}", headers=BROWSER).get_data(as_text=True)
    assert "Alle leeftijden" in page and "0 – 150" not in page
    assert "Social media" in page and ">SocialMedia<" not in page
    assert '<span class="tag">Niet van toepassing</span>' in page  # no link to a non-place
    assert "zonder vzw te zijn" in page  # VZER explained
    client.patch(f"/verenigingen/{vcode}", json={"hoofdactiviteiten": ["KLDU", "WESE"], "startdatum": "2024-03-03",
                                                 "doelgroep": {"minimumleeftijd": 6, "maximumleeftijd": 150}},
                 headers={**Keys.auth(keys.initiator), "Content-Type": "application/merge-patch+json"})
    history = client.get(f"/doc/vereniging/{vcode}/historiek", headers=BROWSER).get_data(as_text=True)
    assert '["' not in history and "{&#34;" not in history and "maximumleeftijd" not in history
    assert "KLDU" not in history and "3 maart 2024" in history and "Vanaf 6 jaar" in history
    assert "UTC" not in history and re.search(r"\d{1,2} \w+ 20\d\d om \d\d:\d\d", history)


def test_erkenningen_lidmaatschappen_and_kbo_numbers_read_as_words(client, demo, post, keys):
    """The history showed API names ('ipdcProductNaam: …', 'geregistreerdDoor: OVO000001') and a Python dict
    for a schorsing; the page showed an OVO code for who gave an erkenning and a bare V-code for a membership."""
    auth = Keys.auth(keys.initiator)
    vcode = post(valid_body(naam="Jeugdhuis Den Tap")).get_json()["vCode"]
    body = {"ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning jeugdwerk", "startdatum": "2024-01-01"}
    item = client.post(f"/verenigingen/{vcode}/erkenningen", json=body, headers=auth).get_json()["id"]
    assert client.post(f"/verenigingen/{vcode}/erkenningen/{item}/schorsingen", json={"redenSchorsing": "klacht"},
                       headers=auth).status_code == 201
    assert client.post(f"/verenigingen/{vcode}/lidmaatschappen", json={"andereVereniging": "V0001001",
                       "van": "2020-01-01"}, headers=auth).status_code == 201
    history = client.get(f"/doc/vereniging/{vcode}/historiek", headers=BROWSER).get_data(as_text=True)
    for raw in ("ipdcProductNaam", "geregistreerdDoor", "andereVereniging", "{'", "OVO000001"):
        assert raw not in history, raw
    for words in ("IPDC-productnaam: Erkenning jeugdwerk", "Gemeente Gent", "1 januari 2024",
                  "reden van schorsing: klacht", "Repair Café Roeselare (V0001001)"):
        assert words in history, words
    page = client.get(f"/doc/vereniging/{vcode}", headers=BROWSER).get_data(as_text=True)
    assert "Toegekend door Gemeente Gent" in page and "Repair Café Roeselare (V0001001)" in page
    kbo = {"kboNummer": "0202239951", "verenigingstype": "VZW", "naam": "Koninklijke Harmonie De Eendracht"}
    kbo_vcode = client.post("/verenigingen/kbo", json=kbo, headers=auth).get_json()["vCode"]
    assert "0202.239.951" in client.get(f"/doc/vereniging/{kbo_vcode}", headers=BROWSER).get_data(as_text=True)
    for typed in ("0202239951", "0202.239.951"):
        assert names(client, f"q={typed}") == ["Koninklijke Harmonie De Eendracht"], typed


def test_the_open_data_examples_answer_with_data_on_the_demo_register(client, demo):
    """A consumer copies the examples: each must answer, and the search example must find something."""
    import html

    page = html.unescape(client.get("/open-data", headers=BROWSER).get_data(as_text=True))
    search = re.search(r"curl '[^']*?(/api/zoeken\?[^']+)'", page).group(1)
    assert client.get(search).get_json()["totaal"] > 0, search
    record = re.search(r"curl -L -H 'Accept: text/turtle' \S*?(/id/vereniging/V\d{7})", page).group(1)
    assert client.get(record, follow_redirects=True, headers={"Accept": "text/turtle"}).status_code == 200
    query = re.search(r"--data-urlencode 'query=([^']+)'", page).group(1)
    answer = client.post("/sparql", data={"query": query}, headers={"Accept": "text/csv"})
    assert answer.status_code == 200 and int(answer.get_data(as_text=True).split()[1]) > 0


def test_code_lists_and_concepts_are_tables_for_people_and_rdf_for_programs(client, demo):
    page = client.get("/conceptscheme/hoofdactiviteiten", headers=BROWSER).get_data(as_text=True)
    assert "<table" in page and "Sport" in page and "/zoeken?hoofdactiviteit=SPRT" in page
    assert "skos:" not in page
    concept = client.get("/concept/werkingsgebied/BE23444021", headers=BROWSER).get_data(as_text=True)
    assert "<h1>Gent</h1>" in concept and "/zoeken?gemeente=BE23444021" in concept and "Valt onder" in concept
    turtle = client.get("/concept/hoofdactiviteit/SPRT", headers={"Accept": "text/turtle"})
    assert turtle.mimetype == "text/turtle" and "prefLabel" in turtle.get_data(as_text=True)


def test_a_browser_opening_a_stream_gets_a_page_with_its_versions_and_next_pages(client, demo):
    """A browser used to download N-Quads; a harvester still gets RDF (also for */* and no Accept)."""
    page = client.get("/ldes/verenigingen/tijd/1", headers=BROWSER)
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "64 versies op deze pagina" in text and 'href="/doc/vereniging/V0001001/versie/1"' not in text
    assert 'href="/id/vereniging/V0001001/versie/1"' in text and "Repair Café Roeselare" in text
    assert "npx ldes-client" in text and 'href="/ldes/verenigingen/tijd/1?format=ttl"' in text
    entry = client.get("/ldes/verenigingen/gemeenten", headers=BROWSER).get_data(as_text=True)
    assert 'href="/ldes/verenigingen/gemeente/BE23444021"' in entry and "gelijk aan Gent" in entry
    catalog = client.get("/ldes", headers=BROWSER).get_data(as_text=True)
    assert "Catalogus" in catalog and 'href="/dumps/verenigingen.csv"' in catalog
    for headers, media in (({"Accept": "*/*"}, "application/n-quads"), ({}, "text/turtle"),
                           ({"Accept": "text/turtle, */*;q=0.1"}, "text/turtle")):
        assert client.get("/ldes/verenigingen/tijd/1", headers=headers).mimetype == media
    turtle = client.get("/ldes/verenigingen/tijd/1?format=ttl", headers=BROWSER)
    assert turtle.mimetype == "text/turtle" and turtle.headers["ETag"] != page.headers["ETag"]


def test_sparql_results_and_errors_on_the_query_page(client, demo):
    query = "SELECT ?naam WHERE { ?a <http://www.w3.org/2004/02/skos/core#prefLabel> ?naam } LIMIT 3"
    page = client.get("/sparql", query_string={"query": query, "format": "html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "3 rijen" in page.get_data(as_text=True) and "<th scope=\"col\">naam</th>" in page.get_data(as_text=True)
    browser = client.get("/sparql", query_string={"query": query}, headers=BROWSER)
    assert browser.mimetype == "text/html"  # a browser's GET gets the page, a program the results
    assert client.get("/sparql", query_string={"query": query}).mimetype == "application/sparql-results+json"
    wrong = client.get("/sparql", query_string={"query": "SELEC x", "format": "html"})
    assert wrong.status_code == 400 and "kon niet uitgevoerd worden" in wrong.get_data(as_text=True)


def test_footer_names_the_licence_and_links_privacy_accessibility_contact_and_open_data(client, demo):
    page = client.get("/").get_data(as_text=True)
    assert "Modellicentie Gratis Hergebruik" in page
    assert "https://data.vlaanderen.be/id/licentie/modellicentie-gratis-hergebruik/v1.0" in page
    assert 'href="/ldes/verenigingen"' not in page  # no raw download in the menu
    for path, words in (("/privacy", "Privacyverklaring"), ("/toegankelijkheid", "WCAG"), ("/contact", "Contact"),
                        ("/open-data", "ldes-client")):
        assert f'href="{path}"' in page
        assert words in client.get(path).get_data(as_text=True)
    assert "Flanders Art" not in client.get("/static/register.css").get_data(as_text=True)  # no unloaded font


def test_the_contact_page_gives_the_operator_s_address_when_there_is_one(client, monkeypatch):
    assert "nog geen contactadres" in client.get("/contact").get_data(as_text=True)
    monkeypatch.setattr(client.application.extensions["vr"].settings, "contact", "mailto:verenigingen@gent.example")
    page = client.get("/contact").get_data(as_text=True)
    assert 'href="mailto:verenigingen@gent.example"' in page and ">verenigingen@gent.example</a>" in page


def test_a_query_without_letters_or_digits_says_so_instead_of_matching_everything(client, post):
    assert post(valid_body()).status_code == 201
    for text in ("😀", "%", "   "):
        page = client.get("/zoeken", query_string={"q": text}).get_data(as_text=True)
        assert "1 vereniging</h2>" in page, text  # every vereniging, under no "voor „…”"
        assert ("geen letters of cijfers" in page) == bool(text.strip()), text
        assert "<title>Verenigingen zoeken" in page
