"""The official register's newer features (issue 13): erkenning status and schorsing, reasons for
changing an erkenning, roepnaam, in stopzetting, validation of a bankrekeningnummer.

Every feature is checked where its users meet it: the write API (exact status, error path, store
unchanged on refusal), the published RDF (JSON-LD and Turtle), the change stream, the HTML page
and, for restricted data, its absence from the public surfaces.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import rdflib

from app.auth.keys import add_key
from app.domain import erkenningen
from app.domain.clock import today
from tests.conftest import Keys, dump

FIXED_DAY = date(2026, 6, 15)  # the status rules are a pure function of the day
DAY = timedelta(days=1)
ADMS_STATUS = rdflib.URIRef("http://www.w3.org/ns/adms#status")
ERKENNINGSTATUS = "https://w3id.org/verenigingsregister/concept/erkenningstatus/"
VRX = "https://w3id.org/verenigingsregister/ns#"
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def vlo(settings) -> str:
    """A key of the organisation authorised to mark verenigingen 'in stopzetting' (OVO000067)."""
    return add_key(settings.keys_path, "OVO000067", "Vlaamse Overheid stopzetting", ["initiator"])


def turtle(client, url: str, key: str | None = None) -> rdflib.Graph:
    headers = {"Accept": "text/turtle", **(Keys.auth(key) if key else {})}
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return rdflib.Graph().parse(data=response.data, format="turtle")


def refused(client, register, method: str, url: str, key: str, body=None, *, status: int = 400,
            path: str | None = None, headers: dict | None = None) -> dict:
    before = dump(register)
    response = client.open(url, method=method, json=body, headers={**Keys.auth(key), **(headers or {})})
    assert response.status_code == status, response.get_data(as_text=True)
    assert dump(register) == before
    problem = response.get_json()
    if path is not None:
        assert path in [e["path"] for e in problem["errors"]], problem
    return problem


def erkenning(client, key: str, vcode: str, **fields) -> int:
    body = {"ipdcProductNummer": "1502", "ipdcProductNaam": "Erkenning jeugdwerk", **fields}
    response = client.post(f"/verenigingen/{vcode}/erkenningen", json=body, headers=Keys.auth(key))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


# -- derived erkenning status ------------------------------------------------------------------------------
@pytest.mark.parametrize("item, expected", [
    ({"startdatum": (FIXED_DAY + DAY).isoformat()}, "InAanvraag"),
    ({"startdatum": (FIXED_DAY - DAY).isoformat(), "einddatum": (FIXED_DAY + DAY).isoformat()}, "Actief"),
    ({"einddatum": FIXED_DAY.isoformat()}, "Actief"),
    ({"einddatum": (FIXED_DAY - DAY).isoformat()}, "Verlopen"),
    ({"schorsing": {"reden": "x", "van": FIXED_DAY.isoformat()}}, "Geschorst"),
    ({"schorsing": {"reden": "x", "van": (FIXED_DAY - 9 * DAY).isoformat(), "tot": (FIXED_DAY - DAY).isoformat()}},
     "Actief"),
    ({"schorsing": {"reden": "x", "van": (FIXED_DAY + DAY).isoformat()}}, "Actief"),
    ({"einddatum": (FIXED_DAY - DAY).isoformat(), "schorsing": {"reden": "x", "van": FIXED_DAY.isoformat()}},
     "Verlopen"),
])
def test_status_rules(item, expected):
    assert erkenningen.status(item, FIXED_DAY) == expected


def test_status_and_is_erkend_are_published_in_every_format(client, keys, vc):
    first = erkenning(client, keys.initiator, vc, startdatum=(today() - DAY).isoformat())
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["isErkend"] is True
    assert [e["status"] for e in doc["erkenningen"]] == ["Actief"]
    graph = turtle(client, f"/doc/vereniging/{vc}")
    node = rdflib.URIRef(f"http://register.test/id/vereniging/{vc}/erkenning/{first}")
    assert (node, ADMS_STATUS, rdflib.URIRef(ERKENNINGSTATUS + "Actief")) in graph
    assert (rdflib.URIRef(f"http://register.test/id/vereniging/{vc}"), rdflib.URIRef(VRX + "isErkend"),
            rdflib.Literal(True)) in graph
    stream = client.get("/ldes/verenigingen/tijd/1", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "erkenningstatus/Actief" in stream
    page = client.get(f"/doc/vereniging/{vc}").get_data(as_text=True)
    assert "Erkend" in page and "Actief" in page


def test_future_erkenning_is_in_aanvraag_and_not_erkend(client, keys, vc):
    erkenning(client, keys.initiator, vc, startdatum=(today() + 10 * DAY).isoformat())
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["isErkend"] is False and doc["erkenningen"][0]["status"] == "InAanvraag"


def test_refresh_brings_stored_statuses_up_to_date_as_days_pass(client, keys, register, vc):
    erkenning(client, keys.initiator, vc, startdatum=today().isoformat(), einddatum=(today() + 2 * DAY).isoformat())
    before = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert before["erkenningen"][0]["status"] == "Actief"
    assert erkenningen.refresh_all(register.handler) == []  # nothing to do today
    register.handler.clock = lambda: datetime.now(UTC) + 3 * DAY  # three days later
    changed = erkenningen.refresh_all(register.handler)
    assert changed == [vc]
    after = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert after["erkenningen"][0]["status"] == "Verlopen" and after["isErkend"] is False
    history = client.get(f"/doc/vereniging/{vc}/historiek.jsonld").get_data(as_text=True)
    assert "ErkenningsstatusWerdBijgewerkt" in history
    assert erkenningen.refresh_all(register.handler) == []


def test_serve_refreshes_statuses_by_itself(client, keys, register, vc):
    from app.cli.erkenningen import daily_refresh

    erkenning(client, keys.initiator, vc, startdatum=(today() + DAY).isoformat())
    assert client.get(f"/doc/vereniging/{vc}.jsonld").get_json()["erkenningen"][0]["status"] == "InAanvraag"
    register.handler.clock = lambda: datetime.now(UTC) + 2 * DAY
    thread = daily_refresh(register, interval=3600, first=0.05)
    try:
        for _ in range(100):
            if client.get(f"/doc/vereniging/{vc}.jsonld").get_json()["erkenningen"][0]["status"] == "Actief":
                break
            thread.stop.wait(0.1)
    finally:
        thread.stop.set()
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["erkenningen"][0]["status"] == "Actief" and doc["isErkend"] is True


# -- changing an erkenning needs a reason -----------------------------------------------------------------
def test_changing_an_erkenning_requires_a_reason(client, keys, register, vc):
    item = erkenning(client, keys.initiator, vc, startdatum="2024-01-01")
    url = f"/verenigingen/{vc}/erkenningen/{item}"
    refused(client, register, "PATCH", url, keys.initiator, {"einddatum": "2030-12-31"}, path="redenVanWijziging",
            headers=MERGE)
    refused(client, register, "PATCH", url, keys.initiator, {"einddatum": "2030-12-31", "redenVanWijziging": " "},
            path="redenVanWijziging", headers=MERGE)
    refused(client, register, "PATCH", url, keys.initiator, {"einddatum": "2030-12-31", "redenVanWijziging": 5},
            path="redenVanWijziging", headers=MERGE)
    response = client.patch(url, json={"einddatum": "2030-12-31", "redenVanWijziging": "verlengd na inspectie"},
                            headers={**Keys.auth(keys.initiator), **MERGE})
    assert response.status_code == 200 and response.get_json()["gewijzigd"] is True
    history = client.get(f"/doc/vereniging/{vc}/historiek.jsonld").get_data(as_text=True)
    assert "verlengd na inspectie" in history


# -- schorsing ------------------------------------------------------------------------------------------------
def test_schorsing_by_the_issuer_is_reflected_in_status_everywhere(client, keys, register, vc):
    item = erkenning(client, keys.initiator, vc, startdatum="2024-01-01")
    url = f"/verenigingen/{vc}/erkenningen/{item}/schorsingen"
    refused(client, register, "POST", url, keys.other_initiator, {"redenSchorsing": "klacht"}, status=403)
    refused(client, register, "POST", url, keys.initiator, {}, path="redenSchorsing")
    refused(client, register, "POST", url, keys.initiator, {"redenSchorsing": "x", "van": "2025-02-01",
                                                            "tot": "2025-01-01"}, path="tot")
    body = {"redenSchorsing": "onderzoek naar klacht", "tot": (today() + 30 * DAY).isoformat()}
    response = client.post(url, json=body, headers=Keys.auth(keys.initiator))
    assert response.status_code == 201, response.get_data(as_text=True)
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["erkenningen"][0]["status"] == "Geschorst" and doc["isErkend"] is False
    assert doc["erkenningen"][0]["schorsing"]["reden"] == "onderzoek naar klacht"
    graph = turtle(client, f"/doc/vereniging/{vc}")
    assert (rdflib.URIRef(f"http://register.test/id/vereniging/{vc}/erkenning/{item}"), ADMS_STATUS,
            rdflib.URIRef(ERKENNINGSTATUS + "Geschorst")) in graph
    page = client.get(f"/doc/vereniging/{vc}").get_data(as_text=True)
    assert "Geschorst" in page and "onderzoek naar klacht" in page
    stream = client.get("/ldes/verenigingen/tijd/1", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "ErkenningWerdGeschorst" in stream and "onderzoek naar klacht" in stream

    refused(client, register, "POST", url, keys.initiator, {"redenSchorsing": "nog eens"})  # already suspended
    refused(client, register, "DELETE", f"/verenigingen/{vc}/erkenningen/{item}", keys.initiator)  # suspended
    fixed = client.patch(url, json={"redenSchorsing": "onderzoek naar klachten"},
                         headers={**Keys.auth(keys.initiator), **MERGE})
    assert fixed.status_code == 200
    assert client.get(f"/doc/vereniging/{vc}.jsonld").get_json()["erkenningen"][0]["schorsing"]["reden"] == \
        "onderzoek naar klachten"
    refused(client, register, "DELETE", url, keys.other_initiator, status=403)
    assert client.delete(url, headers=Keys.auth(keys.initiator)).status_code == 200
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["erkenningen"][0]["status"] == "Actief" and "schorsing" not in doc["erkenningen"][0]
    refused(client, register, "DELETE", url, keys.initiator)  # not suspended any more


def test_expired_erkenning_cannot_be_suspended(client, keys, register, vc):
    item = erkenning(client, keys.initiator, vc, startdatum="2020-01-01", einddatum="2021-01-01")
    problem = refused(client, register, "POST", f"/verenigingen/{vc}/erkenningen/{item}/schorsingen",
                      keys.initiator, {"redenSchorsing": "te laat"})
    assert "verlopen" in problem["detail"].lower()
    refused(client, register, "POST", f"/verenigingen/{vc}/erkenningen/99/schorsingen", keys.initiator,
            {"redenSchorsing": "x"}, status=404)


# -- roepnaam ---------------------------------------------------------------------------------------------------
def test_roepnaam_for_kbo_verenigingen_only(client, keys, register, vc):
    kbo = client.post("/verenigingen/kbo", json={"kboNummer": "0202239951", "verenigingstype": "VZW",
                                                 "naam": "Koninklijke Harmonie Sint-Cecilia"},
                      headers=Keys.auth(keys.initiator)).get_json()["vCode"]
    response = client.patch(f"/verenigingen/{kbo}", json={"roepnaam": "De Harmonie"},
                            headers={**Keys.auth(keys.initiator), **MERGE})
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = client.get(f"/doc/vereniging/{kbo}.jsonld").get_json()
    assert doc["roepnaam"] == "De Harmonie" and doc["naam"] == "Koninklijke Harmonie Sint-Cecilia"
    graph = turtle(client, f"/doc/vereniging/{kbo}")
    assert (rdflib.URIRef(f"http://register.test/id/vereniging/{kbo}"), rdflib.URIRef("http://schema.org/alternateName"),
            rdflib.Literal("De Harmonie", lang="nl")) in graph
    assert "De Harmonie" in client.get(f"/doc/vereniging/{kbo}").get_data(as_text=True)
    refused(client, register, "PATCH", f"/verenigingen/{vc}", keys.initiator, {"roepnaam": "Smash"}, path="roepnaam",
            headers=MERGE)
    refused(client, register, "PATCH", f"/verenigingen/{kbo}", keys.initiator, {"roepnaam": "a\x00"},
            path="roepnaam", headers=MERGE)
    cleared = client.patch(f"/verenigingen/{kbo}", json={"roepnaam": None},
                           headers={**Keys.auth(keys.initiator), **MERGE})
    assert cleared.status_code == 200 and "roepnaam" not in client.get(f"/doc/vereniging/{kbo}.jsonld").get_json()


# -- in stopzetting -----------------------------------------------------------------------------------------------
def test_in_stopzetting_only_by_the_authorised_organisation(client, keys, register, vc, vlo):
    url = f"/verenigingen/{vc}/in-stopzetting"
    problem = refused(client, register, "POST", url, keys.initiator, {"inStopzetting": True}, status=403)
    assert "OVO000001" in problem["detail"]
    refused(client, register, "POST", url, vlo, {"inStopzetting": "ja"}, path="inStopzetting")
    refused(client, register, "POST", url, vlo, {"inStopzetting": True, "datum": (today() + DAY).isoformat()},
            path="datum")
    response = client.post(url, json={"inStopzetting": True, "reden": "Algemene vergadering besliste tot ontbinding",
                                      "datum": "2025-06-01"}, headers=Keys.auth(vlo))
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["inStopzetting"] is True and doc["status"] == "Actief"
    assert doc["stopzettingsmelding"]["datum"] == "2025-06-01"
    assert "OVO000067" in str(doc["stopzettingsmelding"]["door"])
    page = client.get(f"/doc/vereniging/{vc}").get_data(as_text=True)
    assert "in stopzetting" in page.lower() and "ontbinding" in page
    stream = client.get("/ldes/verenigingen/tijd/1", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert "VerenigingWerdInStopzettingGeplaatst" in stream

    # stopping the vereniging clears the mark; a stopped one cannot be marked
    assert client.post(f"/verenigingen/{vc}/stop", json={"einddatum": "2025-07-01"},
                       headers=Keys.auth(keys.initiator)).status_code == 200
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["inStopzetting"] is False and "stopzettingsmelding" not in doc
    refused(client, register, "POST", url, vlo, {"inStopzetting": True})


def test_in_stopzetting_can_be_undone(client, keys, vc, vlo):
    url = f"/verenigingen/{vc}/in-stopzetting"
    assert client.post(url, json={"inStopzetting": True}, headers=Keys.auth(vlo)).status_code == 200
    doc = client.get(f"/doc/vereniging/{vc}.jsonld").get_json()
    assert doc["stopzettingsmelding"]["datum"] == today().isoformat()
    assert client.post(url, json={"inStopzetting": False}, headers=Keys.auth(vlo)).status_code == 200
    assert client.get(f"/doc/vereniging/{vc}.jsonld").get_json()["inStopzetting"] is False
    again = client.post(url, json={"inStopzetting": False}, headers=Keys.auth(vlo))
    assert again.status_code == 200 and again.get_json()["gewijzigd"] is False


# -- validation of a bankrekeningnummer (restricted) ------------------------------------------------------------
def test_bankrekening_validation_by_organisations_is_restricted(client, keys, register, vc, vlo):
    added = client.post(f"/verenigingen/{vc}/bankrekeningnummers",
                        json={"iban": "BE68539007547034", "titularissen": ["VC Smashers"]},
                        headers=Keys.auth(keys.initiator))
    item = added.get_json()["id"]
    url = f"/verenigingen/{vc}/bankrekeningnummers/{item}/validaties"
    refused(client, register, "POST", url, keys.initiator, {}, path="document")
    refused(client, register, "POST", url, vlo, {"document": "bankattest"}, status=403)
    response = client.post(url, json={"document": "Bankattest KBC van 2025-03-01"}, headers=Keys.auth(keys.initiator))
    assert response.status_code == 201, response.get_data(as_text=True)
    refused(client, register, "POST", url, keys.initiator, {"document": "nog eens"})  # same organisation twice
    assert client.post(url, json={"document": "Uittreksel"}, headers=Keys.auth(keys.other_initiator)).status_code == 201

    restricted = client.get(f"/doc/vereniging/{vc}.jsonld", headers=Keys.auth(keys.reader)).get_json()
    validaties = restricted["bankrekeningnummers"][0]["validaties"]
    assert sorted(v["door"].rsplit("/", 1)[-1] for v in validaties) == ["OVO000001", "OVO000002"]
    assert {v["document"] for v in validaties} == {"Bankattest KBC van 2025-03-01", "Uittreksel"}
    assert all(v["tijdstip"].startswith(today().isoformat()[:4]) for v in validaties)
    page = client.get(f"/doc/vereniging/{vc}", headers=Keys.auth(keys.reader)).get_data(as_text=True)
    assert "Bankattest KBC" in page
    for public in (f"/doc/vereniging/{vc}.jsonld", f"/doc/vereniging/{vc}.ttl", f"/doc/vereniging/{vc}",
                   "/ldes/verenigingen/tijd/1", "/dumps/verenigingen.nq", f"/doc/vereniging/{vc}/historiek.jsonld"):
        assert "Bankattest" not in client.get(public).get_data(as_text=True), public
    beheer = client.get("/ldes/beheer/verenigingen/tijd/1", headers={**Keys.auth(keys.reader), "Accept": "text/turtle"})
    assert "Bankattest KBC" in beheer.get_data(as_text=True)

    refused(client, register, "DELETE", url, vlo)  # did not validate it
    assert client.delete(url, headers=Keys.auth(keys.other_initiator)).status_code == 200
    restricted = client.get(f"/doc/vereniging/{vc}.jsonld", headers=Keys.auth(keys.reader)).get_json()
    assert [v["door"].rsplit("/", 1)[-1] for v in restricted["bankrekeningnummers"][0]["validaties"]] == ["OVO000001"]

    # a new holder makes earlier validations worthless
    assert client.patch(f"/verenigingen/{vc}/bankrekeningnummers/{item}", json={"titularissen": ["Nieuwe VZW"]},
                        headers={**Keys.auth(keys.initiator), **MERGE}).status_code == 200
    restricted = client.get(f"/doc/vereniging/{vc}.jsonld", headers=Keys.auth(keys.reader)).get_json()
    assert not restricted["bankrekeningnummers"][0].get("validaties")


def test_new_operations_are_in_openapi(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"post", "patch", "delete"} <= set(paths["/verenigingen/{vCode}/erkenningen/{id}/schorsingen"])
    assert "post" in paths["/verenigingen/{vCode}/in-stopzetting"]
    assert {"post", "delete"} <= set(paths["/verenigingen/{vCode}/bankrekeningnummers/{id}/validaties"])


def test_shacl_results_for_the_new_nodes_name_api_fields():
    """The shapes guard what commands write; a violation is reported at the body's field path."""
    from app.domain import mapping, parse
    from app.validation import shacl

    state = parse.empty_state("VZW")
    state.update(naam="X", kboNummer="0202239951", inStopzetting=True,
                 stopzettingsmelding={"datum": "2025-01-01", "door": "OVO000067", "reden": "r" * 501})
    state["erkenningen"] = [{"id": 1, "ipdcProductNummer": "1", "geregistreerdDoor": "OVO000001", "status": "Geschorst",
                             "schorsing": {"reden": "", "van": "2025-01-01"}}]
    state["bankrekeningnummers"] = [{"id": 1, "iban": "BE68 5390 0754 7034", "titularissen": ["A"],
                                     "validaties": [{"door": "OVO000001", "tijdstip": "2025-01-01T00:00:00Z",
                                                     "document": "d" * 501}]}]
    public, restricted = mapping.state_to_quads(state, "http://register.test", "V0001001")
    paths = {e.path for e in shacl.check(public + restricted, "http://register.test/id/vereniging/V0001001")}
    assert paths == {"stopzettingsmelding.reden", "erkenningen[0].schorsing.reden",
                     "bankrekeningnummers[0].validaties[OVO000001].document"}


# -- the stream's member shape reaches every node of a version --------------------------------------------
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def _shape_links(graph: rdflib.Graph, node) -> dict:
    """path → nested links, as the stream's tree:shape declares them (what ldes-client follows)."""
    out: dict = {}
    for prop in graph.objects(node, SH.property):
        inner = graph.value(prop, SH.node)
        out[graph.value(prop, SH.path)] = _shape_links(graph, inner) if inner is not None else {}
    return out


def _reached(graph: rdflib.Graph, start, links: dict) -> set:
    found = {start}
    for path, inner in links.items():
        for target in graph.objects(start, path):
            found |= _reached(graph, target, inner)
    return found


def test_the_member_shape_reaches_every_node_of_a_version(client, keys, vc, vlo):
    """ldes-client extracts a member through the shape: a node it does not reach never arrives (the
    stopzettingsmelding, a schorsing and a bank validation were missing). Every feature, every version."""
    auth = Keys.auth(keys.initiator)
    item = erkenning(client, keys.initiator, vc, startdatum="2024-01-01")
    assert client.post(f"/verenigingen/{vc}/erkenningen/{item}/schorsingen", json={"redenSchorsing": "klacht"},
                       headers=auth).status_code == 201
    bank = client.post(f"/verenigingen/{vc}/bankrekeningnummers", json={"iban": "BE68539007547034",
                       "titularissen": ["VC Smashers"]}, headers=auth).get_json()["id"]
    assert client.post(f"/verenigingen/{vc}/bankrekeningnummers/{bank}/validaties", json={"document": "Attest"},
                       headers=auth).status_code == 201
    assert client.post(f"/verenigingen/{vc}/lidmaatschappen", json={"andereVereniging": vc, "van": "2020-01-01"},
                       headers=auth).status_code in (201, 400)
    assert client.post(f"/verenigingen/{vc}/in-stopzetting", json={"inStopzetting": True, "reden": "ontbinding"},
                       headers=Keys.auth(vlo)).status_code == 200
    stream = turtle(client, "/ldes/beheer/verenigingen", keys.reader)
    links = _shape_links(stream, stream.value(None, rdflib.URIRef("https://w3id.org/tree#shape")) or
                         next(stream.objects(None, rdflib.URIRef("https://w3id.org/tree#shape"))))
    latest = int(client.get(f"/doc/vereniging/{vc}.jsonld").headers["ETag"].split('"')[1].split("-")[0])
    for number in range(1, latest + 1):
        url = f"/doc/vereniging/{vc}/versie/{number}"
        member = turtle(client, url, keys.reader)
        version = next(s for s in member.subjects() if str(s).endswith(f"/versie/{number}"))
        own = {s for s in member.subjects() if str(s).startswith(str(version))}
        missed = own - _reached(member, version, links)
        assert not missed, (number, sorted(missed))
