"""API keys → gegevensinitiator (organisation) + roles.

Keys are random tokens; the keys file keeps only their SHA-256 digests (a fast hash is the
right tool for high-entropy secrets), so a leaked file does not leak usable keys.

File format (TOML):

    [[key]]
    sha256 = "…hex digest of the key…"
    ovo = "OVO000001"
    naam = "Gemeente Gent"
    roles = ["initiator"]
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.domain.versions import Initiator

ROLES = ("lezer", "initiator", "admin")


@dataclass(frozen=True)
class Principal:
    initiator: Initiator
    roles: frozenset[str]
    client: str | None = None  # the OAuth2 client id, for callers that come with a token
    key: str | None = None  # the sha256 of the API key it came with (what keys.toml stores), never the key

    def has(self, role: str) -> bool:
        """Roles nest: admin ⊇ initiator ⊇ lezer."""
        return any(ROLES.index(held) >= ROLES.index(role) for held in self.roles)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyRing:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[tuple[str, Principal]] = []
        self._mtime: float | None = None
        self.reload()

    def reload(self) -> None:
        if not self.path.exists():
            self._entries, self._mtime = [], None
            return
        mtime = self.path.stat().st_mtime
        if mtime == self._mtime:
            return
        data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        entries = []
        for item in data.get("key", []):
            roles = frozenset(item.get("roles", []))
            unknown = roles - set(ROLES)
            if unknown:
                raise ValueError(f"{self.path}: unknown roles {sorted(unknown)}")
            entries.append((item["sha256"], Principal(Initiator(item["ovo"], item["naam"]), roles,
                                                      key=item["sha256"])))
        self._entries, self._mtime = entries, mtime

    def lookup(self, key: str) -> Principal | None:
        self.reload()
        wanted = digest(key)
        found = None
        for stored, principal in self._entries:
            if hmac.compare_digest(stored, wanted):
                found = principal
        return found


    def by_digest(self, stored: str) -> Principal | None:
        """The holder of the key with this sha256 as keys.toml says now (None: removed from the file)."""
        self.reload()
        return next((principal for entry, principal in self._entries if hmac.compare_digest(entry, stored)), None)


def add_key(path: Path, ovo: str, naam: str, roles: list[str], key: str | None = None) -> str:
    """Append a new key for an organisation to the keys file; return the key (shown once)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; choose from {ROLES}")
    key = key or "vr_" + secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    role_list = ", ".join(f'"{role}"' for role in roles)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[[key]]\nsha256 = "{digest(key)}"\novo = "{_escape(ovo)}"\n'
                     f'naam = "{_escape(naam)}"\nroles = [{role_list}]\n')
    return key


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
