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
import logging
import re
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


log = logging.getLogger(__name__)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeysFileInvalid(ValueError):
    """The keys file cannot be read: one Dutch line naming the file and where."""


def read_entries(path: Path) -> list[tuple[str, Principal]]:
    """The keys in the file; KeysFileInvalid (in Dutch, with the line) for a file that is no valid keys file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        at = f" (fout op regel {where[1]}, kolom {where[2]})" if where else ""
        raise KeysFileInvalid(f"Het sleutelbestand {path} is geen geldig TOML-bestand{at}.") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise KeysFileInvalid(f"Het sleutelbestand {path} kan niet gelezen worden ({type(exc).__name__}).") from None
    entries = []
    for index, item in enumerate(data.get("key", []), start=1):
        if not isinstance(item, dict) or not {"sha256", "ovo", "naam"} <= set(item):
            raise KeysFileInvalid(f"Sleutel {index} in {path} mist 'sha256', 'ovo' of 'naam'.")
        roles = frozenset(item.get("roles", []))
        unknown = roles - set(ROLES)
        if unknown:
            raise KeysFileInvalid(f"Sleutel {index} in {path} heeft onbekende rollen {sorted(unknown)}; "
                                  f"kies uit {', '.join(ROLES)}.")
        entries.append((item["sha256"], Principal(Initiator(item["ovo"], item["naam"]), roles, key=item["sha256"])))
    return entries


class KeyRing:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[tuple[str, Principal]] = []
        self._mtime: tuple[int, int, int] | None = None
        self.reload(strict=True)

    def reload(self, strict: bool = False) -> None:
        """Read the file again when it changed. At start a broken file stops the register (strict); while
        serving, a file broken by an edit keeps the last good keys and logs one line, until it is fixed."""
        if not self.path.exists():
            self._entries, self._mtime = [], None
            return
        stat = self.path.stat()
        mtime = (stat.st_mtime_ns, stat.st_ino, stat.st_size)  # a file replaced by a rename (vr keys remove) too
        if mtime == self._mtime:
            return
        try:
            entries = read_entries(self.path)
        except KeysFileInvalid as exc:
            if strict:
                raise
            log.error("%s De vorige sleutels blijven gelden tot het bestand hersteld is.", exc)
            self._mtime = mtime  # said once per change of the file
            return
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
    if path.exists():
        read_entries(path)  # never append to a broken file: the key would not work and the register not start
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(_entry(digest(key), ovo, naam, roles))
    return key


def _entry(stored: str, ovo: str, naam: str, roles) -> str:
    role_list = ", ".join(f'"{role}"' for role in roles)
    return f'\n[[key]]\nsha256 = "{stored}"\novo = "{_escape(ovo)}"\nnaam = "{_escape(naam)}"\nroles = [{role_list}]\n'


def remove_keys(path: Path, prefix: str) -> list[Principal]:
    """Take the keys whose digest starts with `prefix` (at least 8 hex characters, as `vr keys list` shows
    them) out of the keys file, written anew in one rename; the removed ones are returned. Every process of
    the register reads the file again when it changes, so the key stops working at once."""
    prefix = prefix.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", prefix):
        raise ValueError("Geef minstens de eerste 8 tekens van de sleutel zoals 'vr keys list' ze toont.")
    entries = read_entries(path)
    gone = [principal for stored, principal in entries if stored.startswith(prefix)]
    if len(gone) > 1:
        raise ValueError(f"'{prefix}' past bij {len(gone)} sleutels; geef meer tekens.")
    kept = [(stored, principal) for stored, principal in entries if not stored.startswith(prefix)]
    text = "".join(_entry(stored, p.initiator.ovo, p.initiator.naam, sorted(p.roles)) for stored, p in kept)
    fresh = path.with_name(path.name + ".nieuw")
    fresh.write_text(text, encoding="utf-8")
    fresh.replace(path)
    return gone


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
