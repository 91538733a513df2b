"""Why the domain refuses a command, in domain terms; the HTTP layer maps each kind to a status.

Every refusal carries what a client needs to fix its request (a slug, a Dutch title and
detail, field errors) but no HTTP status: app/publication/problems.py owns that mapping, so
the importer and the KBO sync can report the same refusals without speaking HTTP.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of the request, addressed like `locaties[0].adres.postcode`."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class DomainError(Exception):
    """A command that must not change the register."""

    slug: str
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}"


class Invalid(DomainError):
    """The data breaks a format, a code list, an invariant or a shape."""


class NotPermitted(DomainError):
    """The actor may not touch this data (another organisation's erkenning, …)."""


class NotFound(DomainError):
    """No such vereniging or item."""


class Gone(DomainError):
    """The vereniging was removed; its V-code is never reused."""


class PossibleDuplicates(DomainError):
    """Similar active verenigingen exist; the caller must confirm with the token in `extra`."""


class VersionMismatch(DomainError):
    """The caller pinned a version that is no longer the current one."""


class KeyReused(DomainError):
    """An idempotency key that was used for a different request."""


class Busy(DomainError):
    """Too many concurrent changes to one vereniging; retrying later will work."""


def invalid(errors: list[FieldError], detail: str = "De aanvraag bevat ongeldige gegevens.") -> Invalid:
    return Invalid("validatie", "Validatie mislukt", detail, errors)


def refused(slug: str, detail: str, path: str = "") -> Invalid:
    """A rule about one field (or the whole request) that the state breaks."""
    return Invalid(slug, "Ongeldige aanvraag", detail, [FieldError(path, slug, detail)])


def small_body(body: Any, allowed: set[str], shape: str) -> dict:
    """The body of a small named command: a JSON object holding only `allowed` keys.

    `shape` shows the expected object in the message (e.g. '{"redenSchorsing": "…"}'); the first
    unknown key is named, as the official register does.
    """
    if not isinstance(body, dict):
        raise refused("geen-object", f"De body moet een object {shape} zijn.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise refused("onbekende-eigenschap", f"'{unknown[0]}' is geen gekende eigenschap op deze plaats.",
                      unknown[0])
    return body


def not_permitted(detail: str) -> NotPermitted:
    return NotPermitted("geen-machtiging", "Geen toegang", detail)


def not_found(detail: str) -> NotFound:
    return NotFound("niet-gevonden", "Niet gevonden", detail)


class FieldErrors:
    """Collects field errors so one response can report every problem at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.items.append(FieldError(path, code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid(self.items)
