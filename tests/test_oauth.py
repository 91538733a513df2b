"""OAuth2 access tokens (JWT) verified against a JWKS the test generates, next to API keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import Keys, valid_body

ISSUER = "https://authenticatie.vlaanderen.test/op"
AUDIENCE = "verenigingsregister"


class IdentityProvider:
    """Signs tokens like ACM/IDM: an RSA and an EC key, published as a JWKS."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.jwks = {"keys": [self._jwk(self.rsa, "rsa-1", "RS256"), self._jwk(self.ec, "ec-1", "ES256")]}

    @staticmethod
    def _jwk(key, kid: str, alg: str) -> dict:
        algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        jwk = json.loads(algorithm.to_jwk(key.public_key()))
        return {**jwk, "kid": kid, "alg": alg, "use": "sig"}

    def claims(self, **changes) -> dict:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, "client_id": "gent-crm",
                  "vo_ovocode": "OVO000001", "vo_orgnaam": "Gemeente Gent", "scope": "dv_verenigingsregister_beheer"}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, alg: str = "RS256", key=None, kid: str | None = None, **changes) -> str:
        key = key or (self.rsa if alg.startswith("RS") else self.ec)
        kid = kid or ("rsa-1" if alg.startswith("RS") else "ec-1")
        return jwt.encode(self.claims(**changes), key, algorithm=alg, headers={"kid": kid})

    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, sign=lambda data: b"") -> str:
    """A compact JWS built by hand, for the attacks a library refuses to produce."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


@pytest.fixture
def idp(settings, monkeypatch) -> IdentityProvider:
    provider = IdentityProvider()
    path = settings.data_dir / "jwks.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(provider.jwks))
    monkeypatch.setenv("VR_JWKS", str(path))
    monkeypatch.setenv("VR_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("VR_JWT_AUDIENCE", AUDIENCE)
    return provider


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_valid_tokens_act_in_their_role_for_the_ovo_code_in_the_claim(client, keys, idp):
    initiator = idp.token(alg="ES256")
    created = client.post("/verenigingen", json=valid_body(), headers=bearer(initiator))
    assert created.status_code == 201, created.get_json()
    history = client.get("/doc/vereniging/V0001001/historiek.jsonld").get_data(as_text=True)
    assert "OVO000001" in history

    reader = idp.token(scope="dv_verenigingsregister_lezer", vo_ovocode="OVO000003")
    restricted = client.get("/doc/vereniging/V0001001.ttl", headers=bearer(reader))
    assert restricted.status_code == 200 and "85073003328" in restricted.get_data(as_text=True)
    assert "85073003328" not in client.get("/doc/vereniging/V0001001.ttl").get_data(as_text=True)
    refused = client.post("/verenigingen", json=valid_body(naam="Andere club"), headers=bearer(reader))
    assert refused.status_code == 403 and "OVO000003" in refused.get_json()["detail"]

    admin = idp.token(scope="openid dv_verenigingsregister_admin", vo_ovocode="OVO002949")
    events = client.get("/audit", headers=bearer(admin)).get_json()["gebeurtenissen"]
    read = next(e for e in events if e["operatie"] == "lezen")
    assert (read["initiator"], read["client"]) == ("OVO000003", "gent-crm")
    assert client.get("/audit", headers=bearer(initiator)).status_code == 403
    no_scope = idp.token(scope="openid unrelated_scope")
    assert client.get("/ldes/beheer/verenigingen/tijd/1", headers=bearer(no_scope)).status_code == 403
    for path in ("/doc/vereniging/V0001001.ttl", "/doc/vereniging/V0001001/historiek.ttl",
                 "/doc/vereniging/V0001001/versie/1.ttl"):  # a token without the register's roles reads as the public
        public = client.get(path, headers=bearer(no_scope))
        assert public.status_code == 200 and "85073003328" not in public.get_data(as_text=True), path

    # API keys keep working next to tokens, and a token may also be the password of HTTP Basic.
    assert client.get("/audit", headers=Keys.auth(keys.admin)).status_code == 200
    basic = base64.b64encode(f"OVO002949:{admin}".encode()).decode()
    assert client.get("/audit", headers={"Authorization": f"Basic {basic}"}).status_code == 200


def _attacks(idp: IdentityProvider) -> dict[str, str]:
    other = IdentityProvider()
    claims = idp.claims()
    return {
        "verkeerde 'iss'": idp.token(iss="https://evil.example/op"),
        "verkeerde 'aud'": idp.token(aud="een-ander-register"),
        "handtekening": idp.token(key=other.rsa),  # same kid, signed by a key the register does not trust
        "verlopen": idp.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "OVO-code": idp.token(vo_ovocode=None),
        "algoritme 'none'": unsigned({"alg": "none", "kid": "rsa-1"}, claims),
        "HS256": unsigned({"alg": "HS256", "kid": "rsa-1"}, claims,
                          lambda data: hmac.new(idp.public_pem(), data, hashlib.sha256).digest()),
        "gekende sleutel": idp.token(kid="onbekend"),
        "geen geldig JWT": "abc.def.ghi",
        "'exp'": idp.token(exp=None),
        "stuurteken": idp.token(vo_orgnaam="Ctl\u0001x"),
        "tekstrichting": idp.token(vo_orgnaam="Gemeente \u202eevil"),
        "HTML": idp.token(vo_orgnaam="<script>alert(1)</script>"),
        # an RS256 token naming the EC key, an ES256 one naming the RSA key, PS256 under a key marked RS256
        "handtekening EC-sleutel": unsigned({"alg": "RS256", "kid": "ec-1"}, claims, lambda data: b"x" * 256),
        "handtekening RSA-sleutel": unsigned({"alg": "ES256", "kid": "rsa-1"}, claims, lambda data: b"x" * 64),
        "handtekening PS256": idp.token(alg="PS256", key=idp.rsa, kid="rsa-1"),
        "OVO-code met regeleinde": idp.token(vo_ovocode="OVO000010\n"),
        "OVO-code met andere cijfers": idp.token(vo_ovocode="OVO\u0661\u0662\u0663\u0664\u0665\u0666"),
        "geen geldig JWT: de kop vraagt uitbreidingen": jwt.encode(claims, idp.rsa, algorithm="RS256",
                                                                   headers={"kid": "rsa-1", "crit": ["exp"]}),
        "'kid' is geen tekst": unsigned({"alg": "RS256", "kid": 7}, claims, lambda data: b"x" * 256),
    }


def test_bad_tokens_are_401_problems_in_dutch_and_change_nothing(client, idp):
    for reason, token in _attacks(idp).items():
        response = client.post("/verenigingen", json=valid_body(), headers=bearer(token))
        assert response.status_code == 401, (reason, response.get_json())
        assert response.mimetype == "application/problem+json" and response.headers["Content-Language"] == "nl"
        assert "Bearer" in response.headers["WWW-Authenticate"]
        detail = response.get_json()["detail"]
        assert detail.startswith(("Het token", "De handtekening")), (reason, detail)
        fragment = {"handtekening": "handtekening", "HS256": "HS256", "algoritme 'none'": "'none'",
                    "tekstrichting": "tekstrichting", "HTML": "HTML"}.get(reason, reason)
        fragment = "handtekening" if reason.startswith("handtekening") else \
            "OVO-code" if reason.startswith("OVO-code") else fragment
        assert fragment in detail, (reason, detail)
        assert client.get("/ldes/beheer/verenigingen/tijd/1", headers=bearer(token)).status_code == 401
    assert client.get("/doc/vereniging/V0001001.ttl").status_code == 404


def test_without_a_jwks_tokens_are_refused_and_keys_work(client, keys, monkeypatch):
    monkeypatch.delenv("VR_JWKS", raising=False)
    token = IdentityProvider().token()
    response = client.post("/verenigingen", json=valid_body(), headers=bearer(token))
    assert response.status_code == 401 and "VR_JWKS" in response.get_json()["detail"]
    assert client.post("/verenigingen", json=valid_body(), headers=Keys.auth(keys.initiator)).status_code == 201


def test_jwks_from_a_url_is_fetched_and_cached(client, monkeypatch):
    provider = IdentityProvider()
    fetched = []

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            fetched.append(self.path)
            body = json.dumps(provider.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("VR_JWKS", f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json")
        monkeypatch.setenv("VR_JWT_ISSUER", ISSUER)
        monkeypatch.setenv("VR_JWT_AUDIENCE", AUDIENCE)
        for naam in ("Schaakclub De Loper", "Harmonie Sint-Cecilia", "Imkersbond Gentbrugge"):
            created = client.post("/verenigingen", json=valid_body(naam=naam), headers=bearer(provider.token()))
            assert created.status_code == 201, created.get_json()
        assert fetched == ["/.well-known/jwks.json"]
        assert client.get("/audit", headers=bearer(provider.token(kid="nieuw"))).status_code == 401
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_jwks_is_503_not_500(client, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VR_JWKS", f"http://127.0.0.1:{port}/jwks.json")
    monkeypatch.setenv("VR_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("VR_JWT_AUDIENCE", AUDIENCE)
    response = client.get("/audit", headers=bearer(IdentityProvider().token()))
    assert response.status_code == 503 and "niet bereikbaar" in response.get_json()["detail"]


def test_a_changed_name_claim_does_not_rewrite_who_wrote_earlier_versions(client, idp):
    """The organisation's name is a label on its IRI, shared by every version it wrote: the first recorded
    name stays, so a published version and the history keep their attribution."""
    assert client.post("/verenigingen", json=valid_body(), headers=bearer(idp.token())).status_code == 201
    renamed = bearer(idp.token(vo_orgnaam="Stad Gent (nieuw)"))
    patch = client.patch("/verenigingen/V0001001", json={"korteNaam": "Smash"},
                         headers={**renamed, "Content-Type": "application/merge-patch+json"})
    assert patch.status_code == 200
    first = client.get("/doc/vereniging/V0001001/versie/1.nt").get_data(as_text=True)
    assert "Stad Gent (nieuw)" not in first and '"Gemeente Gent"@nl' in first
    history = client.get("/doc/vereniging/V0001001/historiek.ttl").get_data(as_text=True)
    assert "Stad Gent (nieuw)" not in history



def test_a_keys_file_broken_while_serving_keeps_the_last_good_keys(client, keys, settings, capsys):
    """An edit that breaks keys.toml used to make every request with a key a 500; a new key is not added to a
    broken file (it could never work), and a register does not start on one (one Dutch line)."""
    import os

    from app.auth.keys import KeysFileInvalid, add_key
    from app.cli.main import main

    assert client.get("/audit", headers=Keys.auth(keys.admin)).status_code == 200
    with settings.keys_path.open("a", encoding="utf-8") as handle:
        handle.write("garbage [\n")
    stat = settings.keys_path.stat()
    os.utime(settings.keys_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # surely seen as changed
    assert client.get("/audit", headers=Keys.auth(keys.admin)).status_code == 200
    with pytest.raises(KeysFileInvalid, match="regel"):
        add_key(settings.keys_path, "OVO000001", "Gemeente Gent", ["initiator"])
    os.environ["VR_KEYS_FILE"] = str(settings.keys_path)
    try:
        assert main(["keys", "add", "--ovo", "OVO000001", "--naam", "X"]) == 2
    finally:
        del os.environ["VR_KEYS_FILE"]
    assert "geen geldig TOML-bestand" in capsys.readouterr().err


def test_a_key_removed_with_vr_keys_remove_stops_working_at_once(client, keys, settings):
    from app.auth.keys import digest, remove_keys

    auth = {"Authorization": f"Bearer {keys.reader}"}
    assert client.get("/audit", headers=Keys.auth(keys.admin)).status_code == 200
    assert client.get("/ldes/beheer/verenigingen", headers=auth).status_code == 200
    gone = remove_keys(settings.keys_path, digest(keys.reader)[:10])
    assert [p.initiator.ovo for p in gone] == ["OVO000003"]
    assert client.get("/ldes/beheer/verenigingen", headers=auth).status_code == 401
    assert client.get("/audit", headers=Keys.auth(keys.admin)).status_code == 200  # the others stay
