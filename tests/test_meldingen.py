"""Meldingen end to end: subscriptions over HTTP, events from the write path, push to a real receiver."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from app.auth.keys import add_key, digest
from app.meldingen.delivery import Delivery
from app.meldingen.events import RESTRICTED_TYPES
from app.store.meldingen import MeldingenStore
from tests.conftest import Keys, valid_body

GENT, AALST = "BE23444021", "BE23141002"
MERGE = "application/merge-patch+json"


class Receiver:
    """A webhook / LDN inbox on loopback that verifies signatures and can fail on purpose."""

    def __init__(self) -> None:
        self.received: list[dict] = []  # only the deliveries it accepted (2xx)
        self.attempts = 0
        self.fail_next = 0
        self.always_fail = False
        self.fail_status = 503  # what a failing inbox answers
        self.secrets: dict[str, str] = {}  # path → subscription secret
        self.lock = threading.Lock()
        receiver = self

        class Inbox(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.attempts += 1
                    failing = receiver.always_fail or receiver.fail_next > 0
                    receiver.fail_next -= 1 if receiver.fail_next > 0 else 0
                    if not failing:
                        secret = receiver.secrets[self.path]
                        verified = Webhook(secret).verify(body, dict(self.headers.items()))
                        receiver.received.append({"path": self.path, "id": self.headers["webhook-id"],
                                                  "type": self.headers["Content-Type"], "body": verified})
                self.send_response(receiver.fail_status if failing else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Inbox)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["path"] == path]

    def wait(self, path: str, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.of(path)) < count:
            time.sleep(0.05)
        return self.of(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    inbox = Receiver()
    yield inbox
    inbox.close()


@pytest.fixture
def delivery(register, monkeypatch):
    monkeypatch.setenv("VR_MELDINGEN_LOKAAL", "1")
    monkeypatch.setenv("VR_MELDINGEN_RETRY", "0.05")
    monkeypatch.setenv("VR_MELDINGEN_POLL", "0.2")
    worker = Delivery(MeldingenStore(register.store), register.settings.base, register.settings.data_dir,
                      register.keys, register.meldingen)
    register.handler.listeners.append(worker.wake)
    worker.start()
    yield worker
    worker.stop()


def subscribe(client, key: str, receiver: Receiver | None, path: str, **body) -> dict:
    body.setdefault("gemeenten", [GENT])
    if receiver is not None:
        body.setdefault("kanaal", "webhook")
        body["inbox"] = receiver.url + path
    response = client.post("/meldingen/abonnementen", json=body, headers=Keys.auth(key))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    if receiver is not None:
        receiver.secrets[path] = created["geheim"]
    return created


def every_kind_of_change(client, keys) -> None:
    """One write per melding type, through the HTTP API (the one write path)."""
    init, admin = Keys.auth(keys.initiator), Keys.auth(keys.admin)
    patch = {**init, "Content-Type": MERGE}

    def ok(response):
        assert response.status_code in (200, 201), response.get_data(as_text=True)

    ok(client.post("/verenigingen", json=valid_body(), headers=init))  # V0001001: nieuwe-vereniging
    ok(client.post("/verenigingen", json=valid_body(naam="Harmonie Sint-Cecilia", vertegenwoordigers=[]),
                   headers=init))  # V0001002
    ok(client.patch("/verenigingen/V0001001", json={"naam": "VC De Smashers"}, headers=patch))
    ok(client.patch("/verenigingen/V0001001/locaties/1", json={"adres": {"huisnummer": "12"}}, headers=patch))
    ok(client.patch("/verenigingen/V0001001/contactgegevens/1", json={"waarde": "bestuur@vcsmashers.be"},
                    headers=patch))
    ok(client.patch("/verenigingen/V0001001", json={"korteBeschrijving": "Volleybal voor iedereen."},
                    headers=patch))
    ok(client.post("/verenigingen/V0001001/vertegenwoordigers", headers=init, json={
        "insz": "90020112305", "voornaam": "Bart", "achternaam": "Claes", "rol": "Penningmeester",
        "email": "bart@example.be"}))
    ok(client.patch("/verenigingen/V0001001/vertegenwoordigers/2", json={"rol": "Secretaris"}, headers=patch))
    ok(client.delete("/verenigingen/V0001001/vertegenwoordigers/2", headers=init))
    ok(client.post("/verenigingen/V0001001/bankrekeningnummers", headers=init,
                   json={"iban": "BE71096123456769", "titularissen": ["VC De Smashers"]}))
    ok(client.post("/verenigingen/V0001001/erkenningen", headers=init, json={
        "ipdcProductNummer": "1502", "startdatum": "2024-01-01", "einddatum": "2026-12-31"}))
    ok(client.post("/verenigingen/V0001001/lidmaatschappen", headers=init,
                   json={"andereVereniging": "V0001002", "van": "2024-01-01"}))
    ok(client.post("/verenigingen/V0001002/stop", json={"einddatum": "2024-01-31"}, headers=init))
    ok(client.post("/verenigingen/V0001002/heractivering", headers=init))
    ok(client.delete("/verenigingen/V0001002", headers=admin))


def test_every_event_type_arrives_once_signed_in_order(client, keys, receiver, delivery, settings):
    full = subscribe(client, keys.reader, receiver, "/volledig")
    ldn = subscribe(client, keys.reader, receiver, "/ldn", kanaal="ldn", meldingtypes=["nieuwe-vereniging"])
    every_kind_of_change(client, keys)
    expected = {"nieuwe-vereniging", "naam-gewijzigd", "adres-gewijzigd", "contactgegevens-gewijzigd",
                "gegevens-gewijzigd", "nieuwe-vertegenwoordiger", "vertegenwoordiger-gewijzigd",
                "vertegenwoordiger-vertrokken", "bankrekening-gewijzigd", "erkenning-toegekend",
                "lidmaatschap-gewijzigd", "gestopt", "heractiveerd", "verwijderd"}
    feed = client.get(full["feed"].removeprefix(settings.base) + "?na=0", headers=Keys.auth(keys.reader)).get_json()
    items = feed["orderedItems"]
    assert {item["meldingtype"] for item in items} == expected
    received = receiver.wait("/volledig", len(items))
    time.sleep(0.5)  # nothing more may come
    received = receiver.of("/volledig")
    assert [r["body"]["id"] for r in received] == [item["id"] for item in items]  # each once, in outbox order
    assert len({r["id"] for r in received}) == len(received)
    per_vereniging = defaultdict(list)
    for r in received:
        position = tuple(int(p) for p in r["body"]["positie"].split("."))
        per_vereniging[r["body"]["object"]["vCode"]].append(position)
    assert all(positions == sorted(positions) for positions in per_vereniging.values())
    first = received[0]["body"]
    assert first["type"] == "Create" and first["actor"]["id"].endswith("OVO000001")
    assert first["location"][0]["name"] == "Gent" and first["object"]["name"] == "Volleybalclub De Smashers"
    assert "85073003328" not in json.dumps([r["body"] for r in received])  # never personal data in a melding
    assert [r["body"]["meldingtype"] for r in receiver.wait("/ldn", 2)] == ["nieuwe-vereniging"] * 2
    assert receiver.of("/ldn")[0]["type"].startswith("application/ld+json")
    delivered = [e for e in _audit(settings) if e["operatie"] == "melding-bezorgd"]
    assert {e["meldingtype"] for e in delivered} == RESTRICTED_TYPES  # every restricted delivery is audited
    shown = client.get(f"/meldingen/abonnementen/{ldn['id']}", headers=Keys.auth(keys.reader)).get_json()
    assert shown["status"] == "actief" and "geheim" not in shown


def test_a_public_only_subscriber_never_receives_a_restricted_event(client, keys, receiver, delivery, settings):
    public_key = add_key(settings.keys_path, "OVO000044", "Gemeente Gent (publiek)", [])
    public = subscribe(client, public_key, receiver, "/publiek")
    assert not set(public["meldingtypes"]) & RESTRICTED_TYPES and public["afgeschermdeMeldingen"] is False
    refused = client.post("/meldingen/abonnementen", headers=Keys.auth(public_key),
                          json={"gemeenten": [GENT], "meldingtypes": ["nieuwe-vertegenwoordiger"]})
    assert refused.status_code == 400 and refused.get_json()["errors"][0]["code"] == "afgeschermd"
    restricted = subscribe(client, keys.reader, receiver, "/afgeschermd")
    every_kind_of_change(client, keys)
    everything = receiver.wait("/afgeschermd", 16)
    assert {r["body"]["meldingtype"] for r in everything} & RESTRICTED_TYPES == RESTRICTED_TYPES
    time.sleep(0.5)
    seen = {r["body"]["meldingtype"] for r in receiver.of("/publiek")}
    assert seen and not seen & RESTRICTED_TYPES
    feed = client.get(f"/meldingen/abonnementen/{public['id']}/feed?na=0", headers=Keys.auth(public_key))
    assert not {i["meldingtype"] for i in feed.get_json()["orderedItems"]} & RESTRICTED_TYPES
    one_restricted = next(r["body"]["id"] for r in everything if r["body"]["afgeschermd"])
    path = one_restricted.removeprefix(settings.base)
    assert client.get(path).status_code == 401 and client.get(path, headers=Keys.auth(public_key)).status_code == 403
    assert client.get(path, headers=Keys.auth(keys.reader)).status_code == 200
    assert restricted["afgeschermdeMeldingen"] is True


def test_a_key_that_loses_its_right_gets_no_more_restricted_meldingen(client, keys, receiver, delivery, settings):
    key = add_key(settings.keys_path, "OVO000045", "Gemeente Gent (welzijn)", ["lezer"])
    sub = subscribe(client, key, receiver, "/welzijn", meldingtypes=["nieuwe-vereniging", "nieuwe-vertegenwoordiger"])
    assert sub["afgeschermdeMeldingen"] is True
    init = Keys.auth(keys.initiator)

    def vereniging_with_new_vertegenwoordiger(naam: str, insz: str) -> None:
        created = client.post("/verenigingen", json=valid_body(naam=naam), headers=init)
        assert created.status_code == 201
        added = client.post(f"/verenigingen/{created.get_json()['vCode']}/vertegenwoordigers", headers=init,
                            json={"insz": insz, "voornaam": "Bart", "achternaam": "Claes"})
        assert added.status_code == 201, added.get_data(as_text=True)

    vereniging_with_new_vertegenwoordiger("Volleybalclub De Smashers", "90020112305")
    assert [r["body"]["meldingtype"] for r in receiver.wait("/welzijn", 2)] == ["nieuwe-vereniging",
                                                                                "nieuwe-vertegenwoordiger"]
    # the beheerder takes the lezer role away in keys.toml; the register is not restarted
    text = settings.keys_path.read_text(encoding="utf-8")
    block = text[text.index(f'sha256 = "{digest(key)}"'):]
    settings.keys_path.write_text(text.replace(block, block.replace('roles = ["lezer"]', "roles = []", 1), 1),
                                  encoding="utf-8")
    vereniging_with_new_vertegenwoordiger("Harmonie Sint-Cecilia", "90020199704")
    receiver.wait("/welzijn", 3)
    time.sleep(0.5)  # nothing more may come
    assert [r["body"]["meldingtype"] for r in receiver.of("/welzijn")][2:] == ["nieuwe-vereniging"]
    feed = client.get(f"/meldingen/abonnementen/{sub['id']}/feed?na=0", headers=Keys.auth(key)).get_json()
    assert [i["meldingtype"] for i in feed["orderedItems"]] == ["nieuwe-vereniging"] * 2  # pull: rights of now
    shown = client.get(f"/meldingen/abonnementen/{sub['id']}", headers=Keys.auth(key)).get_json()
    assert shown["afgeschermdeMeldingen"] is False  # what it shows is what it gets


def test_a_failing_receiver_gets_it_after_retries_and_a_dead_one_is_marked_failed(
        client, keys, receiver, delivery, monkeypatch):
    sub = subscribe(client, keys.reader, receiver, "/wankel", meldingtypes=["nieuwe-vereniging"])
    receiver.fail_next = 3
    assert client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).status_code == 201
    got = receiver.wait("/wankel", 1)
    assert len(got) == 1 and receiver.attempts >= 4
    time.sleep(0.3)
    assert len(receiver.of("/wankel")) == 1
    shown = client.get(sub["url"].split("register.test")[1], headers=Keys.auth(keys.reader)).get_json()
    assert shown["status"] == "actief" and "fout" not in shown and shown["positie"].startswith("1.")

    delivery.give_up = 0.5
    receiver.always_fail = True
    assert client.post("/verenigingen", json=valid_body(naam="Imkers Gentbrugge"),
                       headers=Keys.auth(keys.initiator)).status_code == 201
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shown = client.get(sub["url"].split("register.test")[1], headers=Keys.auth(keys.reader)).get_json()
        if shown["status"] == "mislukt":
            break
        time.sleep(0.1)
    assert shown["status"] == "mislukt" and "HTTP-status 503" in shown["fout"] and shown["foutSinds"]
    receiver.always_fail = False
    resumed = client.patch(sub["url"].split("register.test")[1], json={"status": "actief"},
                           headers=Keys.auth(keys.reader))
    assert resumed.status_code == 200
    assert [r["body"]["object"]["vCode"] for r in receiver.wait("/wankel", 2)] == ["V0001001", "V0001002"]


def test_fout_says_what_went_wrong_last_and_since_when_it_fails(client, keys, receiver, delivery):
    sub = subscribe(client, keys.reader, receiver, "/verhuisd", meldingtypes=["nieuwe-vereniging"])
    url = sub["url"].split("register.test")[1]
    receiver.always_fail, receiver.fail_status = True, 302
    assert client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).status_code == 201

    def shown_when(says: str) -> dict:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            shown = client.get(url, headers=Keys.auth(keys.reader)).get_json()
            if says in shown.get("fout", ""):
                return shown
            time.sleep(0.05)
        raise AssertionError(f"'fout' never said {says!r}: {shown}")

    redirected = shown_when("doorverwijzing (HTTP-status 302)")
    receiver.fail_status = 500
    failing = shown_when("HTTP-status 500")
    assert failing["foutSinds"] == redirected["foutSinds"]  # since the first failure, not the last
    receiver.always_fail = False
    assert len(receiver.wait("/verhuisd", 1)) == 1


def test_subscription_api_pull_feed_paging_pause_delete_and_errors(client, keys, settings):
    auth = Keys.auth(keys.initiator)
    assert client.post("/meldingen/abonnementen", json={"gemeenten": [GENT]}).status_code == 401
    bad = client.post("/meldingen/abonnementen", headers=auth, json={
        "gemeenten": ["BE99999999", 12], "meldingtypes": ["alles"], "kanaal": "duif", "extra": 1})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    assert {e["path"] for e in bad.get_json()["errors"]} == {"gemeenten[0]", "gemeenten[1]", "meldingtypes[0]",
                                                               "kanaal", "extra"}
    for inbox in ("http://127.0.0.1:9/x", "https://127.1/x", "https://0x7f000001/x", "https://2130706433/x",
                  "https://0177.0.0.1/x", "https://0/x", "https://localhost./x", "https://api.LOCALHOST/x",
                  "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://10.1/x", "https://169.254.169.254/x"):
        private = client.post("/meldingen/abonnementen", headers=auth,
                              json={"gemeenten": [GENT], "kanaal": "webhook", "inbox": inbox})
        assert private.status_code == 400 and "privé" in private.get_json()["errors"][0]["message"], inbox
    for inbox, says in [*((f"https://[{address}]/x", "privé") for address in (
            "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1", "fec0::1", "2001:0:4136:e378:8000:63bf:80ff:fffe")),
            ("http://crm.gent.be/meldingen", "https-URL"), ("https://crm.gent.be/mijn inbox", "spatie"),
            ("https://crm..gent.be/x", "geen geldige URL")]:
        refused = client.post("/meldingen/abonnementen", headers=auth,
                              json={"gemeenten": [GENT], "kanaal": "webhook", "inbox": inbox})
        assert refused.status_code == 400 and says in refused.get_json()["errors"][0]["message"], inbox
    public_v6 = client.post("/meldingen/abonnementen", headers=auth, json={
        "gemeenten": ["Gent", "44021", "sint niklaas", "BE23444021"], "kanaal": "webhook",
        "inbox": "https://[2002:808:808::1]/x"})  # 6to4 of a public address, Gent three ways
    assert public_v6.status_code == 201 and public_v6.get_json()["gemeenten"] == [GENT, "BE23646021"]
    client.delete(public_v6.get_json()["url"].removeprefix(settings.base), headers=auth)
    sub = subscribe(client, keys.initiator, None, "", gemeenten=[GENT, AALST])
    for i, naam in enumerate(("Schaakclub De Loper", "Harmonie Sint-Cecilia", "Imkersbond Gentbrugge")):
        body = valid_body(naam=naam, werkingsgebieden=[AALST] if i == 2 else [GENT])
        assert client.post("/verenigingen", json=body, headers=auth).status_code == 201
    feed_path = sub["feed"].removeprefix(settings.base)
    root = client.get(feed_path, headers=auth)
    assert root.get_json()["type"] == "OrderedCollection" and root.mimetype == "application/ld+json"
    first = client.get(feed_path + "?na=0", headers=auth).get_json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 3
    assert {place["name"] for place in first["orderedItems"][2]["location"]} == {"Aalst", "Gent"}  # werkingsgebied
    after_two = client.get(feed_path + "?na=" + first["orderedItems"][1]["positie"], headers=auth).get_json()
    assert [i["object"]["vCode"] for i in after_two["orderedItems"]] == ["V0001003"]
    tail = client.get(after_two["next"].removeprefix(settings.base), headers=auth).get_json()
    assert tail["orderedItems"] == [] and "next" not in tail
    assert client.get(feed_path + "?na=x", headers=auth).status_code == 400
    other = Keys.auth(keys.other_initiator)
    assert client.get(feed_path, headers=other).status_code == 404  # another organisation's subscription
    listing = client.get("/meldingen/abonnementen", headers=auth).get_json()["abonnementen"]
    assert [s["id"] for s in listing] == [sub["id"]]
    assert client.get("/meldingen/abonnementen", headers=other).get_json()["abonnementen"] == []
    url = f"/meldingen/abonnementen/{sub['id']}"
    assert client.patch(url, json={"status": "gepauzeerd"}, headers=auth).get_json()["status"] == "gepauzeerd"
    assert client.patch(url, json={"status": "weg"}, headers=auth).status_code == 400
    assert client.delete(url, headers=other).status_code == 404
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 404
    spec = client.get("/openapi.json").get_json()
    assert {"/meldingen/abonnementen", "/meldingen/abonnementen/{id}", "/meldingen/abonnementen/{id}/feed"} \
        <= set(spec["paths"])


def test_a_subscription_request_is_json_and_its_mistakes_are_named_plainly(client, keys):
    auth = Keys.auth(keys.initiator)
    plain = client.post("/meldingen/abonnementen", headers={**auth, "Content-Type": "text/plain"},
                        data='{"gemeenten": ["Gent"]}')
    assert plain.status_code == 415 and plain.mimetype == "application/problem+json"
    broken = client.post("/meldingen/abonnementen", headers={**auth, "Content-Type": "application/json"},
                         data=b'{"gemeenten": ["G\xffent"]}')
    assert broken.status_code == 400 and "UTF-8" in broken.get_json()["detail"]
    odd = client.post("/meldingen/abonnementen", headers=auth, json={
        "gemeenten": [44021, None, ["Gent"]], "meldingtypes": [["gestopt"]], "kanaal": "webhook", "inbox": 5})
    messages = " ".join(e["message"] for e in odd.get_json()["errors"])
    for python in ("None", "['", "{}", "'44021' is geen gekende"):
        assert python not in messages, messages
    assert "tekst" in messages and "geen getal" in messages
    made = client.post("/meldingen/abonnementen", headers=auth, json={"gemeenten": [GENT]}).get_json()
    for position in ("%D9%A3", "%EF%BC%91%EF%BC%92", "66."):  # ٣ and １２ are digits to Python, not to a URL
        assert client.get(f"/meldingen/abonnementen/{made['id']}/feed?na={position}", headers=auth).status_code == 400


def test_a_bad_meldingen_setting_is_one_dutch_line_at_start(monkeypatch, capsys, settings):
    from app.cli.main import main

    for value, says in (("abc", "geen getal"), ("0", "minstens")):
        monkeypatch.setenv("VR_MELDINGEN_RETRY", value)
        assert main(["serve", "--data-dir", str(settings.data_dir), "--port", "1"]) == 2
        assert says in capsys.readouterr().err


def test_staff_page_lists_recent_meldingen_of_their_gemeente(client, keys, settings):
    subscribe(client, keys.reader, None, "")
    every_kind_of_change(client, keys)
    assert client.get("/meldingen").status_code == 401
    page = client.get("/meldingen", headers=Keys.auth(keys.reader))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Gent" in html and "Nieuwe vertegenwoordiger" in html
    assert 'href="/doc/vereniging/V0001001"' in html and "85073003328" not in html
    public_key = add_key(settings.keys_path, "OVO000044", "Gemeente Gent (publiek)", [])
    public = client.get(f"/meldingen?gemeente={GENT}", headers=Keys.auth(public_key)).get_data(as_text=True)
    assert "Naam gewijzigd" in public and "Nieuwe vertegenwoordiger" not in public
    by_name = client.get("/meldingen?gemeente=gent", headers=Keys.auth(public_key)).get_data(as_text=True)
    assert "Naam gewijzigd" in by_name
    by_nis = client.get("/meldingen?gemeente=44021&gemeente=44021", headers=Keys.auth(public_key))
    assert "Naam gewijzigd" in by_nis.get_data(as_text=True)
    # the page's one field: several gemeenten by name, postcode or deelgemeente, and it shows them all again
    several = client.get("/meldingen", query_string={"gemeente": "Gentbrugge, 8800"},
                         headers=Keys.auth(public_key)).get_data(as_text=True)
    assert "Naam gewijzigd" in several and 'value="Gent, Roeselare"' in several
    too_many = client.get("/meldingen?" + "&".join(f"gemeente=x{i}" for i in range(401)),
                          headers=Keys.auth(public_key))
    assert too_many.status_code == 400 and "ten hoogste 400" in too_many.get_data(as_text=True)
    unknown = client.get("/meldingen?gemeente=Atlantis", headers=Keys.auth(public_key)).get_data(as_text=True)
    assert "'Atlantis' is geen gekende gemeente" in unknown and "Naam gewijzigd" not in unknown
    assert any(e["operatie"] == "meldingen-pagina" for e in _audit(settings))
    basic = requests.auth._basic_auth_str("OVO000003", keys.reader)
    assert client.get("/meldingen", headers={"Authorization": basic}).status_code == 200


def _audit(settings) -> list[dict]:
    path = settings.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_retried_subscription_with_its_idempotency_key_is_made_once(client, keys):
    """Idempotency-Key on every POST: a client that lost the 201 retries and gets the same subscription
    (and secret); the same key for another request is refused; keys are per organisation."""
    body = {"gemeenten": [GENT], "kanaal": "webhook", "inbox": "https://crm.gent.example/meldingen"}
    once = {**Keys.auth(keys.initiator), "Idempotency-Key": "abonnement-1"}
    first = client.post("/meldingen/abonnementen", json=body, headers=once)
    again = client.post("/meldingen/abonnementen", json=body, headers=once)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    other = client.post("/meldingen/abonnementen", json={**body, "gemeenten": [AALST]}, headers=once)
    assert other.status_code == 422 and other.get_json()["errors"][0]["path"] == "Idempotency-Key"
    bad = client.post("/meldingen/abonnementen", json=body,
                      headers={**Keys.auth(keys.initiator), "Idempotency-Key": "met spatie"})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["path"] == "Idempotency-Key"
    listed = client.get("/meldingen/abonnementen", headers=Keys.auth(keys.initiator)).get_json()["abonnementen"]
    assert [s["id"] for s in listed] == [first.get_json()["id"]]
    aalst = client.post("/meldingen/abonnementen", json=body,
                        headers={**Keys.auth(keys.other_initiator), "Idempotency-Key": "abonnement-1"})
    assert aalst.status_code == 201 and aalst.get_json()["id"] != first.get_json()["id"]
    assert "Idempotent-Replayed" not in aalst.headers


def test_delivery_checks_the_address_it_connected_to(receiver, monkeypatch):
    """Against DNS rebinding: whatever a name resolved to when the inbox was checked, the connection itself
    is refused when its peer is not public, before one byte is sent; the control (local inboxes allowed)
    reaches the same receiver."""
    from app.meldingen.public_session import PrivateAddress, PublicClient

    monkeypatch.delenv("VR_MELDINGEN_LOKAAL", raising=False)
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    client = PublicClient()
    for url in (f"http://localhost:{port}/a", f"http://127.0.0.1:{port}/a", f"http://127.1:{port}/a"):
        with pytest.raises(PrivateAddress):
            client.post(url, b"{}", {}, 5)
    time.sleep(0.2)
    assert receiver.attempts == 0
    monkeypatch.setenv("VR_MELDINGEN_LOKAAL", "1")
    receiver.always_fail = True  # answers 503 without checking a signature: only the arrival counts here
    assert client.post(f"http://127.0.0.1:{port}/a", b"{}", {}, 5) == 503
    assert receiver.attempts == 1


def test_positions_move_on_only_for_active_subscriptions_and_never_revive_a_deleted_one(register):
    store = MeldingenStore(register.store)
    for name, status in (("actief1", "actief"), ("actief2", "actief"), ("gepauzeerd", "gepauzeerd"),
                         ("weg", "actief")):
        store.add_subscription(name, {"status": status, "positie": "1-0"})
    store.delete_subscription("weg")
    store.advance_positions({"actief1": "7-0", "actief2": "9-1", "gepauzeerd": "7-0", "weg": "7-0"})
    assert store.subscription("actief1") == {"status": "actief", "positie": "7-0"}
    assert store.subscription("actief2") == {"status": "actief", "positie": "9-1"}
    assert store.subscription("gepauzeerd") == {"status": "gepauzeerd", "positie": "1-0"}  # a pause wins
    assert store.subscription("weg") is None  # a delete wins: nothing of it comes back
    store.advance_positions({})
    assert store.subscription("actief1")["positie"] == "7-0"
