"""Subscriptions (abonnementen): which organisation wants which meldingen of which gemeenten, and how.

A subscription belongs to the organisation (OVO code) of the key or OAuth2 client that made it.
Whether it may receive restricted meldingen (vertegenwoordigers, bankrekeningnummers) is decided
from that caller's rights when it is made, and checked again on every delivery.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from app.auth.keys import KeyRing, Principal
from app.domain.places import gemeente_code
from app.meldingen.activity import position
from app.meldingen.events import EVENT_TYPES, RESTRICTED_TYPES, Event
from app.store.meldingen import MeldingenStore
from app.validation.errors import CommandRejected, FieldError, invalid

CHANNELS = ("pull", "ldn", "webhook")
STATUSES = ("actief", "gepauzeerd", "mislukt")
MAX_GEMEENTEN = 400
AFTER_ALL = 1_000_000  # position index meaning "after every event of that commit"


@dataclass
class Subscription:
    id: str
    ovo: str
    naam: str
    gemeenten: list[str]
    types: list[str]
    channel: str
    restricted: bool
    created: str
    inbox: str | None = None
    client: str | None = None
    status: str = "actief"
    position: tuple[int, int] = (0, -1)
    error: str | None = None
    error_since: str | None = None
    secret: str = field(default="", repr=False)
    key: str | None = None  # sha256 of the API key that made it: its rights are checked again on delivery

    def wants(self, event: Event) -> bool:
        """This subscriber is told about this event (type, gemeente and right to restricted data)."""
        return (event.type in self.types and (self.restricted or not event.restricted)
                and any(code in self.gemeenten for code in event.gemeenten))

    def entitled(self, keys: KeyRing | None) -> bool:
        """May this subscription (still) receive restricted meldingen? Its API key's rights are read again
        (a key removed from keys.toml or without the lezer role any more gets none); a subscription made with
        an OAuth2 token keeps the right its token gave when it was made."""
        if not self.restricted:
            return False
        if self.key is None or keys is None:
            return self.key is None
        holder = keys.by_digest(self.key)
        return holder is not None and holder.has("lezer")

    def owned_by(self, caller: Principal) -> bool:
        return caller.initiator.ovo == self.ovo or caller.has("admin")

    def settings_json(self) -> str:
        return json.dumps({"ovo": self.ovo, "naam": self.naam, "gemeenten": self.gemeenten, "types": self.types,
                           "kanaal": self.channel, "inbox": self.inbox, "beperkt": self.restricted,
                           "client": self.client, "aangemaakt": self.created, "sleutel": self.key},
                          ensure_ascii=False)

    def as_json(self, base: str, keys: KeyRing | None = None) -> dict:
        """The subscription as the API shows it (never the secret); whether restricted meldingen reach it
        as its key's rights stand now."""
        url = f"{base}/meldingen/abonnementen/{self.id}"
        body = {"id": self.id, "url": url, "feed": url + "/feed", "organisatie": self.ovo, "naam": self.naam,
                "gemeenten": self.gemeenten, "meldingtypes": self.types, "kanaal": self.channel,
                "afgeschermdeMeldingen": self.entitled(keys), "status": self.status,
                "positie": f"{self.position[0]}.{self.position[1]}" if 0 <= self.position[1] < AFTER_ALL
                else str(self.position[0]),
                "aangemaakt": self.created}
        if self.inbox:
            body["inbox"] = self.inbox
        if self.client:
            body["client"] = self.client
        if self.error:
            body["fout"], body["foutSinds"] = self.error, self.error_since
        return body


def from_facts(subscription_id: str, facts: dict[str, str]) -> Subscription:
    settings = json.loads(facts["instellingen"])
    head, _, tail = facts.get("positie", "0.-1").partition(".")
    return Subscription(subscription_id, settings["ovo"], settings["naam"], settings["gemeenten"], settings["types"],
                        settings["kanaal"], settings["beperkt"], settings["aangemaakt"], settings.get("inbox"),
                        settings.get("client"), facts.get("status", "actief"), (int(head), int(tail or -1)),
                        facts.get("fout"), facts.get("foutSinds"), facts.get("geheim", ""), settings.get("sleutel"))


class Subscriptions:
    """Subscriptions kept in the register's store (so every process sees the same ones)."""

    def __init__(self, store: MeldingenStore) -> None:
        self.store = store

    def all(self) -> list[Subscription]:
        return sorted((from_facts(i, f) for i, f in self.store.subscriptions().items() if "instellingen" in f),
                      key=lambda s: (s.created, s.id))

    def get(self, subscription_id: str) -> Subscription | None:
        if not subscription_id.replace("-", "").isalnum():
            return None
        facts = self.store.subscription(subscription_id)
        return from_facts(subscription_id, facts) if facts and "instellingen" in facts else None

    def add(self, sub: Subscription) -> None:
        self.store.add_subscription(sub.id, {"instellingen": sub.settings_json(), "status": sub.status,
                                             "positie": f"{sub.position[0]}.{sub.position[1]}",
                                             "geheim": sub.secret})

    def set_status(self, sub: Subscription, status: str, error: str | None = None,
                   error_since: str | None = None) -> None:
        self.store.update_subscription(sub.id, {"status": status, "fout": error, "foutSinds": error_since})

    def recovered(self, sub: Subscription) -> None:
        """A failing subscription received a melding again: its error is cleared (only while still active,
        so a pause or delete always wins); its position goes with the others (`advanced`)."""
        self.store.update_subscription(sub.id, {"fout": None, "foutSinds": None}, only_if={"status": "actief"})

    def advanced(self, delivered: dict[str, Event]) -> None:
        """Progress after deliveries: several subscriptions' positions in one write (see Delivery)."""
        self.store.advance_positions({sub_id: position(event) for sub_id, event in delivered.items()})

    def failing(self, sub: Subscription, error: str, since: str) -> None:
        self.store.update_subscription(sub.id, {"fout": error, "foutSinds": since}, only_if={"status": "actief"})

    def delete(self, sub: Subscription) -> None:
        self.store.delete_subscription(sub.id)


def new_subscription(body: object, caller: Principal, start: int, idempotency_key: str | None = None) -> Subscription:
    """Validate a create request (all problems at once) into a subscription starting after `start`.

    With an Idempotency-Key the id is derived from the organisation and the key, so a retry finds
    the subscription its first attempt made (`same_request`) instead of making a second one.
    """
    if not isinstance(body, dict):
        raise invalid([FieldError("", "geen-object", "De body moet een JSON-object zijn.")])
    errors: list[FieldError] = []
    unknown = set(body) - {"gemeenten", "meldingtypes", "kanaal", "inbox"}
    errors += [FieldError(key, "onbekend", f"'{key}' is geen veld van een abonnement.") for key in sorted(unknown)]
    gemeenten = _gemeenten(body.get("gemeenten"), errors)
    restricted = caller.has("lezer")
    types = _types(body.get("meldingtypes"), restricted, errors)
    channel = body.get("kanaal", "pull")
    if not isinstance(channel, str) or channel not in CHANNELS:
        errors.append(FieldError("kanaal", "ongeldig", f"'kanaal' is één van {', '.join(CHANNELS)}."))
    inbox = body.get("inbox")
    if channel in ("ldn", "webhook"):
        problem = inbox_problem(inbox)
        if problem:
            errors.append(FieldError("inbox", "ongeldig", problem))
    elif inbox is not None:
        errors.append(FieldError("inbox", "overbodig", "Een 'inbox' hoort enkel bij kanaal 'ldn' of 'webhook'."))
    if errors:
        raise invalid(errors)
    subscription_id = (hashlib.sha256(f"{caller.initiator.ovo}\n{idempotency_key}".encode()).hexdigest()[:16]
                       if idempotency_key else secrets.token_hex(8))
    return Subscription(subscription_id, caller.initiator.ovo, caller.initiator.naam, gemeenten, types,
                        channel, restricted, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        inbox if channel != "pull" else None, caller.client, position=(start, AFTER_ALL),
                        secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(), key=caller.key)


def same_request(first: Subscription, retry: Subscription) -> bool:
    """A retry asks for what the first request with its Idempotency-Key made."""
    return (first.ovo, first.gemeenten, first.types, first.channel, first.inbox) == \
        (retry.ovo, retry.gemeenten, retry.types, retry.channel, retry.inbox)


def _gemeenten(value: object, errors: list[FieldError]) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > MAX_GEMEENTEN:
        errors.append(FieldError("gemeenten", "verplicht", "'gemeenten' is een lijst van 1 tot 400 gemeenten: "
                                 "namen, NIS-codes of werkingsgebiedcodes (bv. Gent, 44021 of BE23444021)."))
        return []
    out = []
    for index, text in enumerate(value):
        if not isinstance(text, str):
            errors.append(FieldError(f"gemeenten[{index}]", "geen-tekst", "Elke gemeente is een tekst tussen "
                                     "aanhalingstekens: een naam (\"Gent\"), NIS-code (\"44021\") of "
                                     "werkingsgebiedcode."))
            continue
        code = gemeente_code(text)
        if code is None:
            errors.append(FieldError(f"gemeenten[{index}]", "onbekend", f"'{text}' is geen gekende gemeente; geef "
                                     "de naam (bv. Gent), de NIS-code (44021) of de werkingsgebiedcode (BE23444021)."))
        elif code not in out:
            out.append(code)
    return out


def _types(value: object, restricted: bool, errors: list[FieldError]) -> list[str]:
    allowed = [t for t in EVENT_TYPES if restricted or t not in RESTRICTED_TYPES]
    if value is None:
        return allowed
    if not isinstance(value, list) or not value:
        errors.append(FieldError("meldingtypes", "ongeldig", "'meldingtypes' is een niet-lege lijst."))
        return []
    out = []
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in EVENT_TYPES:
            shown = f"'{name}'" if isinstance(name, str) else "Deze waarde (geen tekst)"
            errors.append(FieldError(f"meldingtypes[{index}]", "onbekend", f"{shown} is geen meldingtype; kies "
                                     f"uit {', '.join(EVENT_TYPES)}."))
        elif name not in allowed:
            errors.append(FieldError(f"meldingtypes[{index}]", "afgeschermd", f"'{name}' gaat over afgeschermde "
                                     "gegevens; daarvoor is een sleutel met leesrecht (rol 'lezer') nodig."))
        elif name not in out:
            out.append(name)
    return out


def inbox_problem(url: object) -> str | None:
    """Why this inbox URL cannot be used, or None (the host is resolved again before each delivery)."""
    if url is not None and not isinstance(url, str):
        return "De 'inbox' is een https-URL als tekst tussen aanhalingstekens, geen getal, lijst of object."
    if not isinstance(url, str) or not url or len(url) > 2000:
        return "Een 'inbox' (https-URL van hoogstens 2000 tekens) is verplicht voor kanaal 'ldn' of 'webhook'."
    if _NOT_IN_URL.search(url):
        return ("De 'inbox' bevat een spatie of een teken dat niet in een URL mag staan; schrijf het gecodeerd "
                "(bv. %20 voor een spatie).")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number)
        (parts.hostname or "").encode("idna")  # a name no resolver can look up (empty label, too long)
    except (ValueError, UnicodeError):
        return "De 'inbox' is geen geldige URL."
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return "De 'inbox' moet een https-URL zonder gebruikersnaam of wachtwoord zijn."
    if local_allowed():
        return None
    if _is_localhost(parts.hostname) or is_private_address(parts.hostname):
        return PRIVATE
    if parts.scheme != "https":
        return ("De 'inbox' moet een https-URL zijn: meldingen gaan enkel versleuteld naar een adres op het "
                "internet.")
    return None


_NOT_IN_URL = re.compile(r'[\s<>"{}|\\^`\x00-\x1f\x7f]')
PRIVATE = "De 'inbox' wijst naar een intern of privé-adres; dat aanvaardt het register niet."


def local_allowed() -> bool:
    """Inboxes on loopback or private networks: only when the operator allows it (tests, intranets)."""
    return os.environ.get("VR_MELDINGEN_LOKAAL") == "1"


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".").lower()  # "localhost." is the same name
    return name == "localhost" or name.endswith(".localhost")  # RFC 6761: always loopback


def is_private_address(host: str) -> bool:
    """An address (in any notation) that is not on the public internet, also where an IPv6 address
    carries an IPv4 one that is not (IPv4-mapped, -compatible, 6to4, Teredo, NAT64)."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        try:  # the other ways to write an IPv4 address that resolvers and URL parsers accept: 127.1, 0x7f000001,
            address = ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0177.0.0.1, 0
        except OSError:
            return False  # a name, not an address: delivery checks the address it connects to
    if not address.is_global:
        return True
    if isinstance(address, ipaddress.IPv4Address):
        return False
    return address.is_site_local or any(not inner.is_global for inner in _carried(address))


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")


def _carried(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (a translator or tunnel would reach those)."""
    inner = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _COMPATIBLE or any(address in net for net in _NAT64):
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [found for found in inner if found is not None]


def not_found(subscription_id: str) -> CommandRejected:
    return CommandRejected(404, "niet-gevonden", "Niet gevonden", f"Abonnement '{subscription_id}' bestaat niet.")
