"""OAuth2 access tokens (JWT) from the Flemish ACM/IDM, next to the register's own API keys.

Machines of other platforms authenticate with the client-credentials flow and send
`Authorization: Bearer <JWT>`. A token is accepted only when its signature verifies against a
key of the configured JWKS (a file or an https URL), it was issued by the configured issuer for
the configured audience and it has not expired. Only asymmetric algorithms are allowed, so
`alg: none` and an HS256 token signed with the public key as "secret" never verify.

Configuration (environment):

    VR_JWKS          path or URL of the JSON Web Key Set (OAuth2 is off without it)
    VR_JWT_ISSUER    expected `iss`
    VR_JWT_AUDIENCE  expected `aud`
    VR_JWT_OVO_CLAIM claim with the organisation's OVO code (default `vo_ovocode`, as ACM/IDM)
    VR_JWT_NAME_CLAIM claim with the organisation's name (default `vo_orgnaam`; the OVO code if absent)
    VR_JWT_SCOPES    scope=role pairs, comma separated (default below)
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from app.auth.keys import ROLES, Principal
from app.domain.versions import Initiator
from app.validation import formats, json_body
from app.validation.errors import CommandRejected, FieldError

# Asymmetric only: a symmetric algorithm would let anyone holding the (public) JWKS sign tokens.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
DEFAULT_SCOPES = {
    "dv_verenigingsregister_lezer": "lezer",
    "dv_verenigingsregister_beheer": "initiator",
    "dv_verenigingsregister_admin": "admin",
}
OVO = re.compile(r"OVO[0-9]{6}")  # fullmatch: ASCII digits, no trailing newline
LEEWAY_SECONDS = 30
# RFC 9110 §11.6.1: a 401 names the schemes that would work. Basic first: browsers read only the
# first challenge of a header line, and then ask for the key (as password) to open the staff pages.
CHALLENGE = 'Basic realm="verenigingsregister", charset="UTF-8", Bearer realm="verenigingsregister"'


class TokenRejected(CommandRejected):
    """A token that does not authenticate anybody: always 401, with the reason in Dutch."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, "niet-geauthenticeerd", "Niet geauthenticeerd", detail,
                         headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})


def looks_like_jwt(credential: str) -> bool:
    """Three base64url segments: a compact JWS. API keys (`vr_…`) never contain a dot."""
    return credential.count(".") == 2


@dataclass
class OAuthSettings:
    jwks: str
    issuer: str
    audience: str
    ovo_claim: str = "vo_ovocode"
    name_claim: str = "vo_orgnaam"
    scopes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SCOPES))

    @classmethod
    def from_env(cls) -> OAuthSettings | None:
        jwks = os.environ.get("VR_JWKS", "").strip()
        if not jwks:
            return None
        issuer, audience = os.environ.get("VR_JWT_ISSUER", ""), os.environ.get("VR_JWT_AUDIENCE", "")
        if not issuer or not audience:
            raise ValueError("VR_JWKS vereist ook VR_JWT_ISSUER en VR_JWT_AUDIENCE")
        settings = cls(jwks, issuer, audience)
        settings.ovo_claim = os.environ.get("VR_JWT_OVO_CLAIM", settings.ovo_claim)
        settings.name_claim = os.environ.get("VR_JWT_NAME_CLAIM", settings.name_claim)
        if os.environ.get("VR_JWT_SCOPES"):
            settings.scopes = parse_scopes(os.environ["VR_JWT_SCOPES"])
        return settings


def parse_scopes(text: str) -> dict[str, str]:
    """`scope=role,scope=role` → {scope: role}; an unknown role is a configuration error."""
    mapping = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        scope, _, role = pair.partition("=")
        if role.strip() not in ROLES:
            raise ValueError(f"VR_JWT_SCOPES: onbekende rol '{role.strip()}' (kies uit {', '.join(ROLES)})")
        mapping[scope.strip()] = role.strip()
    return mapping


class KeySet:
    """The JWKS: a local file (re-read when it changes) or a URL (cached, refetched for a new `kid`)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._remote = location.startswith(("http://", "https://"))
        self._client = jwt.PyJWKClient(location, cache_keys=True, lifespan=300, timeout=5) if self._remote else None
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._keys: list[jwt.PyJWK] = []

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        keys = self._remote_keys(kid) if self._remote else self._file_keys()
        if kid is not None:
            keys = [key for key in keys if key.key_id == kid]
        if len(keys) != 1:
            raise TokenRejected("Het token is niet ondertekend met een gekende sleutel van de identiteitsprovider."
                                if kid is not None or not keys else
                                "Het token vermeldt geen sleutel-id ('kid') en de sleutelset bevat er meerdere.")
        return keys[0]

    def _file_keys(self) -> list[jwt.PyJWK]:
        path = Path(self.location.removeprefix("file://"))
        with self._lock:
            mtime = path.stat().st_mtime
            if mtime != self._mtime:
                self._keys = list(jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8")).keys)
                self._mtime = mtime
            return self._keys

    def _remote_keys(self, kid: str | None) -> list[jwt.PyJWK]:
        try:
            if kid is not None:
                return [self._client.get_signing_key(kid)]
            return self._client.get_signing_keys()
        except jwt.PyJWKClientConnectionError as exc:
            raise CommandRejected(503, "sleutelset-onbereikbaar", "Sleutelset onbereikbaar",
                                  "De sleutelset (JWKS) van de identiteitsprovider is nu niet bereikbaar; "
                                  "probeer later opnieuw.") from exc
        except jwt.PyJWKClientError:
            return []


class TokenVerifier:
    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self.keys = KeySet(settings.jwks)

    def principal(self, token: str) -> Principal:
        """The organisation and roles a valid token stands for; TokenRejected otherwise."""
        claims = self._claims(token)
        ovo = claims.get(self.settings.ovo_claim)
        if not isinstance(ovo, str) or not OVO.fullmatch(ovo):
            raise TokenRejected(f"Het token bevat geen geldige OVO-code in de claim '{self.settings.ovo_claim}'.")
        naam = _organisation_name(claims.get(self.settings.name_claim), self.settings.name_claim)
        roles = frozenset(self.settings.scopes[s] for s in scopes_of(claims) if s in self.settings.scopes)
        client = claims.get("client_id") or claims.get("azp") or claims.get("sub")
        return Principal(Initiator(ovo, naam if isinstance(naam, str) and naam else ovo), roles,
                         client=str(client) if client else None)

    def _claims(self, token: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as exc:
            raise TokenRejected("Het token is geen geldig JWT.") from exc
        except jwt.InvalidTokenError as exc:  # e.g. a 'crit' header with extensions no verifier knows (RFC 7515)
            reason = ("de kop vraagt uitbreidingen ('crit') die het register niet kent" if "crit" in str(exc).lower()
                      else "de kop is ongeldig ('kid' is geen tekst, of een ander veld heeft een verkeerd type)")
            raise TokenRejected(f"Het token is geen geldig JWT: {reason}.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise TokenRejected(f"Het token gebruikt algoritme '{header.get('alg')}', dat het register niet "
                                f"aanvaardt (enkel {', '.join(ALGORITHMS)}).")
        key = self.keys.key_for(header.get("kid"))
        if (getattr(key, "_jwk_data", None) or {}).get("alg") not in (None, header["alg"]) or \
                _FAMILY.get(header["alg"][:2]) not in (None, getattr(key, "key_type", None)):
            # the key is for another algorithm ('alg' in the JWKS) or of another type (an EC key named by an
            # RS256 token): no signature under it can be valid
            raise TokenRejected("De handtekening van het token is ongeldig.")
        try:
            return jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.settings.audience,
                              issuer=self.settings.issuer, leeway=LEEWAY_SECONDS,
                              options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("Het token is verlopen.") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("Het token is niet bestemd voor dit register (verkeerde 'aud').") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("Het token is niet uitgegeven door de vertrouwde identiteitsprovider "
                                "(verkeerde 'iss').") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"Het token mist de verplichte claim '{exc.claim}'.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenRejected("Het token is nog niet geldig ('nbf' of 'iat' ligt in de toekomst).") from exc
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as exc:
            raise TokenRejected("De handtekening van het token is ongeldig.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("Het token is ongeldig.") from exc
        except (TypeError, ValueError) as exc:  # a key PyJWT cannot use for this algorithm
            raise TokenRejected("De handtekening van het token is ongeldig.") from exc


_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC"}  # a token's algorithm → the JWK key type ('kty') it needs


def _organisation_name(value: object, claim: str) -> object:
    """The name claim, held to the rules of any text the register publishes: it becomes the organisation's
    label in the public provenance, so a control character, a direction override or HTML is refused."""
    if not isinstance(value, str) or not value:
        return value
    errors: list[FieldError] = []
    cleaned = json_body.text_problem(value.strip(), claim, errors, max_len=200)
    if errors or formats.contains_html(value):
        raise TokenRejected(f"Het token bevat in de claim '{claim}' geen geldige naam van een organisatie: "
                            + (errors[0].message if errors else "HTML is niet toegestaan."))
    return cleaned


def scopes_of(claims: dict) -> list[str]:
    """`scope` as a space-separated string (RFC 9068) or a list; `scp` as some providers send it."""
    found: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            found += value.split()
        elif isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    return found

