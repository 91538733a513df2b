"""Input the register must refuse cleanly (issue 13, issue 12 low): each class, valid and invalid.

Every refusal asserts the exact status, the field path in `errors` and that the store is
byte-for-byte unchanged (conftest.dump).
"""

from __future__ import annotations

import json

import pytest

from app.domain import mapping
from app.validation import shacl
from tests.conftest import Keys, dump, valid_body


@pytest.fixture
def send(client, keys, register):
    """Send a request as the Gent initiator; refusals are checked for status, path and an unchanged store."""

    def _send(method: str, url: str, body=None, *, raw: str | None = None, headers: dict | None = None,
              content_type: str = "application/json"):
        all_headers = {**Keys.auth(keys.initiator), **(headers or {})}
        data = raw if raw is not None else (json.dumps(body, ensure_ascii=False) if body is not None else None)
        return client.open(url, method=method, data=data, headers=all_headers, content_type=content_type)

    return _send


def refused(send, register, method, url, body=None, *, status=400, path=None, **kwargs) -> dict:
    before = dump(register)
    response = send(method, url, body, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert dump(register) == before
    if status == 400:
        assert problem["errors"], problem
    if path is not None:
        assert path in [error["path"] for error in problem["errors"]], problem
    for error in problem.get("errors", []):
        assert ":" not in error["path"] and "schema" not in error["path"], error  # no RDF paths
    return problem


def accepted(send, method, url, body=None, **kwargs):
    response = send(method, url, body, **kwargs)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response


# -- identifiers are ASCII only -----------------------------------------------------------------------------
KBO = "/verenigingen/kbo"


def test_kbo_number_ascii_digits_only(send, register):
    body = {"kboNummer": "0202239951", "verenigingstype": "VZW", "naam": "Koninklijke Harmonie"}
    for spelling in ("０２０２２３９９５１", "0202239951\u0660", "٠٢٠٢٢٣٩٩٥١"):
        problem = refused(send, register, "POST", KBO, {**body, "kboNummer": spelling}, path="kboNummer")
        assert "Foutieve tekens" in problem["errors"][0]["message"]
    refused(send, register, "POST", KBO, {**body, "kboNummer": 202239951}, path="kboNummer")
    refused(send, register, "POST", KBO, {**body, "kboNummer": "0202239952"}, path="kboNummer")
    first = accepted(send, "POST", KBO, {**body, "kboNummer": "0202.239.951"})
    again = accepted(send, "POST", KBO, {**body, "kboNummer": "0202239951"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.headers["Location"] == again.headers["Location"]


@pytest.mark.parametrize("insz, message", [
    ("８５０７３００３３２８", "Foutieve tekens"),
    ("85.07.30-033.2", "11 cijfers"),
    ("85133003328", "onmogelijke geboortedatum"),
    ("01131500149", "onmogelijke geboortedatum"),
    ("85073003329", "checksum"),
    (85073003328, "tekst"),
])
def test_insz_refusals_say_what_is_wrong(send, register, vc, insz, message):
    body = {"insz": insz, "voornaam": "Jan", "achternaam": "Janssens"}
    problem = refused(send, register, "POST", f"/verenigingen/{vc}/vertegenwoordigers", body,
                      path="vertegenwoordigers.insz")
    assert message in problem["errors"][0]["message"]


@pytest.mark.parametrize("insz", ["90.02.01-997.04", "03209820396", "71432512346"])
def test_valid_insz_accepted(send, vc, insz):
    accepted(send, "POST", f"/verenigingen/{vc}/vertegenwoordigers",
             {"insz": insz, "voornaam": "Jan", "achternaam": "Janssens"})


@pytest.mark.parametrize("iban, message", [
    ("BE68-5390-0754-7034", "Foutieve tekens"),
    ("BE68_5390_0754_7034", "Foutieve tekens"),
    ("BE６８ 5390 0754 7034", "Foutieve tekens"),
    ("NL68539007547034", "Belgisch IBAN"),
    ("be68539007547034", "Belgisch IBAN"),
    ("BE6853900754703", "16 tekens"),
    ("BE69539007547034", "controlegetal"),
    ("BE68539007547035", "controlegetal"),
])
def test_iban_refusals_say_what_is_wrong(send, register, vc, iban, message):
    problem = refused(send, register, "POST", f"/verenigingen/{vc}/bankrekeningnummers",
                      {"iban": iban, "titularissen": ["Penningmeester"]}, path="bankrekeningnummers.iban")
    assert message in problem["errors"][0]["message"]


def test_official_valid_iban_examples_accepted(send, vc, client, keys):
    for iban in ("BE68539007547034", "BE71 0961 2345 6769", "BE21.0012.3456.7803"):
        accepted(send, "POST", f"/verenigingen/{vc}/bankrekeningnummers", {"iban": iban, "titularissen": ["A"]})


def test_postcode_and_house_number_ascii(send, register):
    def locatie(**adres):
        base = {"straatnaam": "Kouter", "huisnummer": "1", "postcode": "9000", "gemeente": "Gent", "land": "België"}
        return [{"locatietype": "Activiteiten", "adres": {**base, **adres}}]

    refused(send, register, "POST", "/verenigingen", valid_body(locaties=locatie(postcode="９０００")),
            path="locaties[0].adres.postcode")
    refused(send, register, "POST", "/verenigingen", valid_body(locaties=locatie(huisnummer="１２")),
            path="locaties[0].adres.huisnummer")
    refused(send, register, "POST", "/verenigingen", valid_body(locaties=locatie(busnummer="b\u00a02")),
            path="locaties[0].adres.busnummer")
    accepted(send, "POST", "/verenigingen", valid_body(naam="Buitenlandse vrienden", locaties=locatie(
        postcode="1012 AB", huisnummer="12-14", busnummer="3/1", gemeente="Amsterdam", land="Nederland")))


def test_vcode_ipdc_and_adres_id_ascii(send, register, vc):
    refused(send, register, "POST", f"/verenigingen/{vc}/lidmaatschappen", {"andereVereniging": "V０００１００１"},
            path="lidmaatschappen.andereVereniging")
    refused(send, register, "POST", f"/verenigingen/{vc}/erkenningen", {"ipdcProductNummer": "１２３"},
            path="erkenningen.ipdcProductNummer")
    refused(send, register, "POST", f"/verenigingen/{vc}/locaties",
            {"locatietype": "Activiteiten", "adresId": "https://data.vlaanderen.be/id/adres/１２"},
            path="locaties.adresId")
    assert send("PATCH", "/verenigingen/V０００１００１", {"korteNaam": "x"}).status_code == 404


# -- web addresses: accepted safely, never a 500 -------------------------------------------------------------
@pytest.mark.parametrize("value, stored", [
    ("https://www.club.be/onze leden", "https://www.club.be/onze%20leden"),
    ("https://www.club.be/{id}|x", "https://www.club.be/%7Bid%7D%7Cx"),
    ("http://www.club.be/100%zeker", "http://www.club.be/100%25zeker"),
    ("https://café.be/über", "https://café.be/über"),
])
def test_websites_with_unsafe_characters_are_stored_percent_encoded(send, client, vc, value, stored):
    response = accepted(send, "POST", f"/verenigingen/{vc}/contactgegevens",
                        {"contactgegeventype": "Website", "waarde": value})
    item = response.get_json()["id"]
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    waarden = {c["waarde"] for c in doc["contactgegevens"]}
    assert stored in waarden and item
    assert client.get(f"/doc/vereniging/{vc}.rdf").status_code == 200


@pytest.mark.parametrize("value", ["https://exa mple.be/", "https://localhost/x", "ftp://www.club.be",
                                   "http://[::1/x", "https://a.be:99999/", "www.club.be", "https://127.0.0.1/",
                                   "http://10.0.0.8:8080/intranet", "https://user:geheim@club.be/"])
def test_malformed_websites_refused(send, register, vc, value):
    refused(send, register, "POST", f"/verenigingen/{vc}/contactgegevens",
            {"contactgegeventype": "Website", "waarde": value}, path="contactgegevens.waarde")


# -- wrong JSON types: 400 with the field's path ------------------------------------------------------------
@pytest.mark.parametrize("changes, path", [
    ({"naam": 5}, "naam"),
    ({"naam": True}, "naam"),
    ({"naam": ["a"]}, "naam"),
    ({"korteNaam": {"a": 1}}, "korteNaam"),
    ({"startdatum": 20150901}, "startdatum"),
    ({"doelgroep": [12, 65]}, "doelgroep"),
    ({"doelgroep": {"minimumleeftijd": "12"}}, "doelgroep.minimumleeftijd"),
    ({"doelgroep": {"minimumleeftijd": 12.5}}, "doelgroep.minimumleeftijd"),
    ({"hoofdactiviteiten": "SPRT"}, "hoofdactiviteiten"),
    ({"hoofdactiviteiten": [1]}, "hoofdactiviteiten[0]"),
    ({"werkingsgebieden": {"code": "BE23444021"}}, "werkingsgebieden"),
    ({"locaties": "Gent"}, "locaties"),
    ({"locaties": {"locatietype": "Activiteiten"}}, "locaties"),
    ({"locaties": [5]}, "locaties[0]"),
    ({"locaties": [{"locatietype": "Activiteiten", "isPrimair": "ja", "adresId":
                    "https://data.vlaanderen.be/id/adres/1"}]}, "locaties[0].isPrimair"),
    ({"contactgegevens": [{"contactgegeventype": 1, "waarde": "a@b.be"}]}, "contactgegevens[0].contactgegeventype"),
    ({"verenigingstype": 7}, "verenigingstype"),
    ({"bankrekeningnummers": [{"iban": "BE68539007547034", "titularissen": "A"}]},
     "bankrekeningnummers[0].titularissen"),
])
def test_wrong_json_types_are_refused_with_their_path(send, register, changes, path):
    refused(send, register, "POST", "/verenigingen", valid_body(**changes), path=path)


def test_wrong_types_on_patch_and_items(send, register, vc):
    headers = {"Content-Type": "application/merge-patch+json"}
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"naam": 3}, path="naam", headers=headers)
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"hoofdactiviteiten": "SPRT"}, path="hoofdactiviteiten")
    refused(send, register, "POST", f"/verenigingen/{vc}/stop", {"einddatum": 2020}, path="einddatum")
    refused(send, register, "POST", f"/verenigingen/{vc}/stop", ["2020-01-01"])
    refused(send, register, "POST", f"/verenigingen/{vc}/contactgegevens", "https://x.be")


@pytest.mark.parametrize("raw, code", [
    ("[" * 50_000 + "]" * 50_000, "te-diep"),
    ('{"naam": ' + "[" * 40 + "]" * 40 + "}", "te-diep"),
    ('{"naam": "a", "naam": "b"}', "dubbele-eigenschap"),
    ('{"naam": NaN}', "geen-getal"),
    ('{"doelgroep": {"minimumleeftijd": 1e999}}', "getal-te-groot"),
    ('{"doelgroep": {"minimumleeftijd": ' + "9" * 5000 + "}}", "getal-te-groot"),
])
def test_deep_nesting_and_odd_numbers_refused(send, register, raw, code):
    problem = refused(send, register, "POST", "/verenigingen", raw=raw)
    assert problem["errors"][0]["code"] == code


def test_json_syntax_errors_in_dutch(send, register):
    problem = refused(send, register, "POST", "/verenigingen", raw='{"naam": "a" "b"}')
    assert "hier werd een komma verwacht (regel 1, kolom 14)" in problem["detail"]
    assert "Expecting" not in json.dumps(problem)
    for raw in ('{"naam": }', "{'naam': 'a'}", '{"naam": "a"} x', '{"naam": "a', '{"naam": "a\\q"}', ""):
        problem = refused(send, register, "POST", "/verenigingen", raw=raw)
        assert "Expecting" not in json.dumps(problem) and "delimiter" not in json.dumps(problem)


# -- text: control characters, lone surrogates, lengths -------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\ufffe", "\u202e",
                                  "\u200b", "\u00ad", "\u2060", "\ufeff", "\u2028", "\u3164", "\U000e0041", "\ue000",
                                  "\u200f"])
def test_control_and_invisible_characters_refused(send, register, char):
    refused(send, register, "POST", "/verenigingen", valid_body(naam=f"Club{char}Gent"), path="naam")
    refused(send, register, "POST", "/verenigingen",
            valid_body(locaties=[{"locatietype": "Activiteiten", "naam": f"Zaal{char}", "adresId":
                                  "https://data.vlaanderen.be/id/adres/1"}]), path="locaties[0].naam")


def test_a_name_that_only_looks_the_same_is_still_a_duplicate(client, post):
    """Zero-width characters in a name (between every letter) passed the duplicate check and hid the record
    from search; they are refused now, and a zero-width joiner (allowed: emoji use it) is ignored in comparisons."""
    assert post(valid_body()).status_code == 201
    hidden = post(valid_body(naam="\u200b".join("Volleybalclub De Smashers")))
    assert hidden.status_code == 400 and hidden.get_json()["errors"][0]["code"] == "onzichtbaar-teken"
    joined = post(valid_body(naam="\u200d".join("Volleybalclub De Smashers")))
    assert joined.status_code == 409, joined.get_json()  # a possible duplicate of the first


def test_a_byte_order_mark_and_an_unknown_charset(client, post, keys):
    """PowerShell 5 writes a UTF-8 BOM before a JSON body: it is read, not 'ongeldige JSON (kolom 1)'."""
    body = b"\xef\xbb\xbf" + json.dumps(valid_body()).encode()
    assert post(body, content_type="application/json").status_code == 201
    odd = post(json.dumps(valid_body(naam="Andere club")).encode(), content_type="application/json; charset=x-bogus")
    assert odd.status_code == 400 and "x-bogus" in odd.get_json()["detail"]


def test_lone_surrogate_refused_not_500(send, register):
    raw = json.dumps(valid_body()).replace('"Volleybalclub De Smashers"', '"a\\ud800b"')
    refused(send, register, "POST", "/verenigingen", raw=raw, path="naam")
    refused(send, register, "POST", "/verenigingen", raw='{"na\\udfffam": "x"}')


def test_reason_header_with_control_characters_refused(send, register, vc):
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "x"}, headers={"VR-Reden": "a\x1bb"},
            path="reden")


def test_a_compressed_body_is_415_not_a_decoding_error(send, register, vc):
    import gzip
    raw = gzip.compress(json.dumps({"korteNaam": "x"}).encode()).decode("latin-1")
    problem = refused(send, register, "PATCH", f"/verenigingen/{vc}", raw=raw, status=415,
                      headers={"Content-Encoding": "gzip"}, content_type="application/merge-patch+json")
    assert "Content-Encoding" in problem["detail"]


def test_if_none_match_star_on_an_existing_vereniging_is_412(send, register, vc):
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "x"}, status=412,
            headers={"If-None-Match": "*"})


def test_a_reason_header_in_utf8_is_stored_as_written(send, client, vc):
    """Header bytes reach the app read as Latin-1 (WSGI); curl and browsers send UTF-8: 'reünie' used to be
    stored as 'reÃ¼nie', and a '€' was refused as a control character. Latin-1 bytes still read as Latin-1."""
    for reason in ("reünie geïnformeerd café", "bijdrage € 5"):
        wire = reason.encode("utf-8").decode("latin-1")  # what a server hands the app for these bytes
        accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteNaam": reason[:10]}, headers={"VR-Reden": wire})
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "latin"}, headers={"VR-Reden": "café"})
    history = client.get(f"/doc/vereniging/{vc}/historiek.nt").get_data(as_text=True)
    assert all(text in history for text in ("reünie geïnformeerd café", "bijdrage € 5", '"café"'))
    assert "Ã" not in history


def test_tabs_and_newlines_allowed_in_descriptions_and_text_is_nfc(send, client, vc):
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteBeschrijving": "Lijn 1\nLijn 2\tmet tab"})
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "Cafe\u0301"})
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["korteNaam"] == "Caf\u00e9"
    assert client.get(f"/doc/vereniging/{vc}.rdf").status_code == 200


def test_length_limits(send, register, vc):
    refused(send, register, "POST", "/verenigingen", valid_body(naam="a" * 100_000), path="naam")
    refused(send, register, "POST", "/verenigingen", valid_body(naam="a" * 251), path="naam")
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "k" * 101}, path="korteNaam")
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteBeschrijving": "k" * 1001},
            path="korteBeschrijving")
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"naam": "n" * 250})


# -- foreign phone numbers, references to other registers ----------------------------------------------------
@pytest.mark.parametrize("number", ["+1 202 555 0143", "+44 20 7946 0958", "+31 20 123 4567", "09 223 45 67"])
def test_foreign_and_local_phone_numbers_accepted(send, vc, number):
    accepted(send, "POST", f"/verenigingen/{vc}/contactgegevens", {"contactgegeventype": "Telefoon",
                                                                   "waarde": number})


def test_andere_vereniging_must_be_in_this_register(send, register, client, keys, vc):
    other = client.post("/verenigingen", json=valid_body(naam="Tweede club", locaties=[]),
                        headers=Keys.auth(keys.initiator)).get_json()["vCode"]
    for foreign in (f"https://evil.example/id/vereniging/{other}", f"http://register.test.evil/id/vereniging/{other}",
                    f"https://register.test/id/vereniging/{other}"):
        refused(send, register, "POST", f"/verenigingen/{vc}/lidmaatschappen", {"andereVereniging": foreign},
                path="andereVereniging")
    refused(send, register, "POST", "/verenigingen", valid_body(
        naam="Derde", lidmaatschappen=[{"andereVereniging": f"https://evil.example/id/vereniging/{other}"}]),
        path="lidmaatschappen[0].andereVereniging")
    accepted(send, "POST", f"/verenigingen/{vc}/lidmaatschappen",
             {"andereVereniging": f"http://register.test/id/vereniging/{other}", "van": "2020-01-01"})
    accepted(send, "POST", f"/verenigingen/{vc}/lidmaatschappen",
             {"andereVereniging": other, "van": "2010-01-01", "tot": "2011-01-01"})


# -- If-Match ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("header", ['"1"', "1", 'W/"a"', 'W/"-1"', 'W/1', 'W/"1", W/"2"'])
def test_if_match_must_be_a_weak_etag(send, register, vc, header):
    problem = refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "x"}, status=412,
                      headers={"If-Match": header})
    assert "ongeldige waarde" in problem["detail"] and problem["errors"][0]["path"] == "If-Match"


def test_if_match_weak_etag_and_star(send, register, vc):
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "x"}, headers={"If-Match": 'W/"1"'})
    refused(send, register, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "y"}, status=412,
            headers={"If-Match": 'W/"1"'})
    accepted(send, "PATCH", f"/verenigingen/{vc}", {"korteNaam": "z"}, headers={"If-Match": "*"})


# -- messages --------------------------------------------------------------------------------------------------
def test_missing_verenigingstype_says_it_is_required(send, register):
    problem = refused(send, register, "POST", KBO, {"kboNummer": "0202239951", "naam": "X"}, path="verenigingstype")
    assert "verplicht" in problem["errors"][0]["message"] and "None" not in json.dumps(problem)
    problem = refused(send, register, "POST", KBO, {"verenigingstype": "VZW", "naam": "X"}, path="kboNummer")
    assert "verplicht" in problem["errors"][0]["message"]


def test_every_400_has_errors(send, register):
    token = send("POST", "/verenigingen", valid_body(), headers={"VR-BevestigingsToken": "fout"})
    assert token.status_code == 400 and token.get_json()["errors"]
    bad_key = send("POST", "/verenigingen", valid_body(), headers={"Idempotency-Key": "met spatie"})
    assert bad_key.status_code == 400 and bad_key.get_json()["errors"][0]["path"] == "Idempotency-Key"


def test_every_403_says_why_in_errors(client, keys, vc):
    """A role that may not write, and an organisation the rules do not authorise: both name the refusal."""
    reader = client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.reader))
    other = client.post(f"/verenigingen/{vc}/in-stopzetting", json={"inStopzetting": True},
                        headers=Keys.auth(keys.initiator))
    for response in (reader, other):
        problem = response.get_json()
        assert response.status_code == 403 and problem["errors"], problem
        assert problem["errors"][0]["message"] == problem["detail"]


def test_shacl_results_use_api_paths_and_dutch_messages(register):
    """A state that slipped past parsing (here: a phone number SHACL refuses) is reported by field path."""
    state = json.loads(json.dumps(EXAMPLE_STATE))
    public, restricted = mapping.state_to_quads(state, "http://register.test", "V0001001")
    errors = shacl.check(public + restricted, "http://register.test/id/vereniging/V0001001")
    paths = {e.path: e.message for e in errors}
    assert paths == {"contactgegevens[1].waarde": "Een telefoonnummer wordt internationaal genoteerd (+32 …).",
                     "locaties[0].naam": "Locatienaam mag niet langer dan 128 karakters zijn.",
                     "bankrekeningnummers[0].doel": "Doel mag niet langer dan 128 karakters zijn."}


EXAMPLE_STATE = {
    "verenigingstype": "VZER", "status": "Actief", "naam": "X", "korteNaam": None, "korteBeschrijving": None,
    "startdatum": None, "einddatum": None, "kboNummer": None, "sleutels": [],
    "doelgroep": {"minimumleeftijd": 0, "maximumleeftijd": 150}, "hoofdactiviteiten": [], "werkingsgebieden": [],
    "locaties": [{"id": 3, "locatietype": "Activiteiten", "isPrimair": False, "naam": "z" * 129, "adres": None,
                  "adresId": "https://data.vlaanderen.be/id/adres/1"}],
    "contactgegevens": [{"id": 2, "contactgegeventype": "E-mail", "waarde": "a@b.be", "beschrijving": None,
                         "isPrimair": False},
                        {"id": 7, "contactgegeventype": "Telefoon", "waarde": "0032 9", "beschrijving": None,
                         "isPrimair": False}],
    "vertegenwoordigers": [], "lidmaatschappen": [], "erkenningen": [],
    "bankrekeningnummers": [{"id": 1, "iban": "BE68 5390 0754 7034", "doel": "d" * 129, "titularissen": ["A"]}],
}


# -- Idempotency-Key on every POST ---------------------------------------------------------------------------
def test_idempotency_key_on_sub_resource_posts(send, register, vc):
    headers = {"Idempotency-Key": "contact-1"}
    body = {"contactgegeventype": "E-mail", "waarde": "bestuur@vcsmashers.be"}
    first = send("POST", f"/verenigingen/{vc}/contactgegevens", body, headers=headers)
    before = dump(register)
    second = send("POST", f"/verenigingen/{vc}/contactgegevens", body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert dump(register) == before
    assert first.headers["Location"] == second.headers["Location"] and first.headers["ETag"] == second.headers["ETag"]
    assert second.headers["Idempotent-Replayed"] == "true" and second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json() == first.get_json()  # the first result, "gewijzigd": true included
    refused(send, register, "POST", f"/verenigingen/{vc}/contactgegevens", {**body, "waarde": "x@vcsmashers.be"},
            status=422, headers=headers)
    refused(send, register, "POST", f"/verenigingen/{vc}/stop", {"einddatum": "2020-01-01"}, status=422,
            headers=headers)
    stop = {"Idempotency-Key": "stop-1"}
    assert send("POST", f"/verenigingen/{vc}/stop", {"einddatum": "2024-01-01"}, headers=stop).status_code == 200
    before = dump(register)
    again = send("POST", f"/verenigingen/{vc}/stop", {"einddatum": "2024-01-01"}, headers=stop)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and dump(register) == before
    assert again.get_json()["gewijzigd"] is True


def test_idempotency_keys_are_per_organisation(client, keys, vc):
    body = {"contactgegeventype": "E-mail", "waarde": "een@vcsmashers.be"}
    first = client.post(f"/verenigingen/{vc}/contactgegevens", json=body,
                        headers={**Keys.auth(keys.initiator), "Idempotency-Key": "k"})
    other = client.post(f"/verenigingen/{vc}/contactgegevens", json={**body, "waarde": "twee@vcsmashers.be"},
                        headers={**Keys.auth(keys.other_initiator), "Idempotency-Key": "k"})
    assert first.status_code == other.status_code == 201
    assert first.get_json()["id"] != other.get_json()["id"]


def test_ovo_codes_are_ascii(tmp_path, capsys):
    from app.cli.main import main
    from app.validation import formats

    for bad in ("OVO００００01", "ovo000001", "OVO00001", "OVO0000012"):
        with pytest.raises(ValueError):
            formats.ovo_code(bad)
        assert main(["keys", "add", "--data-dir", str(tmp_path), "--ovo", bad, "--naam", "X"]) == 2
    assert "OVO" in capsys.readouterr().err
    assert not (tmp_path / "keys.toml").exists()
    assert formats.ovo_code("OVO000001") == "OVO000001"


@pytest.mark.parametrize("raw, reason", [
    ('@prefix fv: <https://data.vlaanderen.be/ns/FeitelijkeVerenigingen#> .\n[] a fv:Vereniging ; fv:naam "open .',
     "houdt onverwacht op (een niet afgesloten tekst, IRI of haakje?) (regel 2"),
    ("[] a fv:Vereniging .", "het prefix 'fv:' is niet gedeclareerd"),
    ("<https://x.example/onze leden> a <https://x.example/T> .", "een IRI (tussen < >) bevat een teken"),
    ("@prefix p: <https://x.example/> .\n\n  p:s p:p p:o p:o .",
     "punt verwacht aan het einde van een uitspraak (regel 3"),
    ("@prefix p: <https://x.example/> . p:s p:p p:o ; ; ] .", "(regel 1"),
])
def test_turtle_syntax_errors_in_dutch(send, register, raw, reason):
    """A Turtle body gets what a JSON body gets: a Dutch reason with line and column, not the parser's text."""
    problem = refused(send, register, "POST", "/verenigingen", raw=raw, content_type="text/turtle")
    assert reason in problem["detail"] and problem["errors"][0]["message"] == problem["detail"], problem
    assert "Parser error" not in json.dumps(problem) and "expected" not in json.dumps(problem).lower()


@pytest.mark.parametrize("context, reason", [
    ("https://evil.example/ctx.jsonld", "een context op een ander adres wordt niet opgehaald"),
    (5, "de @context is geen object, lijst of IRI"),
    ({"naam": {"@id": 5}}, "een term in de @context"),
    ({"naam": {"@id": "https://x.example/naam", "@type": 5}}, "een @type in de @context is ongeldig"),
    ({"@vocab": "https://x.example/", "@language": 5}, "volgt de regels van JSON-LD 1.1 niet"),  # generic
])
def test_json_ld_errors_in_dutch(send, register, context, reason):
    """A JSON-LD body's refusal says in Dutch what is wrong, never pyld's English text or exception type."""
    body = {"@context": context, "naam": "Club", "verenigingstype": "VZER"}
    problem = refused(send, register, "POST", "/verenigingen", body, content_type="application/ld+json")
    text = json.dumps(problem, ensure_ascii=False)
    assert "Could not" not in text and "Type: jsonld" not in text and "CompactError" not in text, problem
    assert reason in problem["detail"], problem
