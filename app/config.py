"""Settings, read from the environment (VR_*) with defaults that work on a fresh checkout."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from app import paths


class SettingInvalid(ValueError):
    """An environment variable with a value the register cannot use: one Dutch line at start-up."""


def env_number(name: str, default: float, minimum: float = 0, kind: type = float):
    """A number from the environment (`kind` int or float), at least `minimum`; SettingInvalid otherwise
    (it used to be a Python traceback, or a 0 that retried a failing inbox twenty times a second)."""
    text = os.environ.get(name)
    if text is None or text.strip() == "":
        return kind(default)
    try:
        value = kind(text.strip())
    except ValueError:
        raise SettingInvalid(f"{name}={text!r} is geen {'geheel ' if kind is int else ''}getal.") from None
    if value < minimum:
        raise SettingInvalid(f"{name}={text!r} moet minstens {minimum:g} zijn.")
    return value


@dataclass
class Settings:
    # absolute: files under it are served by paths (a relative one resolved against the app package: 500s)
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("VR_DATA_DIR", paths.ROOT / "var")).absolute())
    # None: take the base IRI stored in the register (a new register gets default_base_url).
    base_url: str | None = field(default_factory=lambda: os.environ.get("VR_BASE_URL") or None)
    default_base_url: str = "http://localhost:8080"
    # A remote SPARQL 1.1 store (e.g. `oxigraph serve`) instead of the embedded one.
    store_url: str | None = field(default_factory=lambda: os.environ.get("VR_STORE_URL") or None)
    # the store server's own query timeout (`vr store-server --timeout-s`): how long a query we gave up on
    # may still run there, so how long it keeps its place among the SPARQL workers
    store_query_timeout: float = field(default_factory=lambda: env_number("VR_STORE_QUERY_TIMEOUT", 12, 0.1))
    keys_file: Path | None = field(default_factory=lambda: Path(os.environ["VR_KEYS_FILE"])
                                   if os.environ.get("VR_KEYS_FILE") else None)
    max_body_bytes: int = field(default_factory=lambda: env_number("VR_MAX_BODY_BYTES", 256 * 1024, 1, int))
    # Processes that run SHACL validation in parallel; 0 validates in the request thread.
    shacl_workers: int = field(default_factory=lambda: env_number("VR_SHACL_WORKERS", 0, kind=int))
    sparql_timeout: float = field(default_factory=lambda: env_number("VR_SPARQL_TIMEOUT", 10, 0.1))
    sparql_max_rows: int = field(default_factory=lambda: env_number("VR_SPARQL_MAX_ROWS", 10000, 1, int))
    sparql_workers: int = field(default_factory=lambda: env_number("VR_SPARQL_WORKERS", 2, kind=int))
    # Personal data of removed verenigingen and of vertegenwoordigers who left is erased from the
    # restricted history this many days after the removal (vr wissen retentie / POST /beheer/wissing/retentie).
    retention_days: int = field(default_factory=lambda: env_number("VR_RETENTION_DAYS", 365, kind=int))
    # The organisation authorised to mark verenigingen 'in stopzetting' (the official register: OVO000067).
    stopzetting_ovo: str = field(default_factory=lambda: os.environ.get("VR_STOPZETTING_OVO", "OVO000067"))
    # Where to report a vulnerability (mailto: or https: URI), published in /.well-known/security.txt.
    security_contact: str = field(default_factory=lambda: os.environ.get("VR_SECURITY_CONTACT", ""))
    contact: str = field(default_factory=lambda: os.environ.get("VR_CONTACT", ""))  # mailto: or https: for /contact
    # Queries that may wait for a free worker; beyond workers + this, /sparql answers 503 at once.
    sparql_waiting: int = field(default_factory=lambda: env_number("VR_SPARQL_WAITING", 2, kind=int))
    # Per client (IP, or API key on /sparql/beheer), moving windows; "" switches the limit off.
    sparql_rate_limit: str = field(default_factory=lambda: os.environ.get("VR_SPARQL_RATE_LIMIT",
                                                                          "300/minute;30/second"))
    # SPARQL may lag writes by this many seconds (0: every query sees every committed write).
    sparql_max_lag: float = field(default_factory=lambda: env_number("VR_SPARQL_MAX_LAG", 0))
    in_memory: bool = False

    @property
    def base_url_from_env(self) -> bool:
        return bool(os.environ.get("VR_BASE_URL"))

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "oxigraph"

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.data_dir / "keys.toml"

    def secret(self) -> bytes:
        """Key for confirmation tokens: VR_SECRET, else a random one kept in the data dir."""
        if os.environ.get("VR_SECRET"):
            return os.environ["VR_SECRET"].encode()
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip().encode()

    @property
    def base(self) -> str:
        return (self.base_url or self.default_base_url).rstrip("/")
