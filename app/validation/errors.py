"""Errors a command can be rejected with; the HTTP layer turns them into problem+json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of the request, addressed like `locaties[0].adres.postcode`."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class CommandRejected(Exception):
    """A command that must not change the store; carries everything the client needs to fix it."""

    status: int
    slug: str
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)  # e.g. WWW-Authenticate on a 401

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def invalid(errors: list[FieldError], detail: str = "De aanvraag bevat ongeldige gegevens.") -> CommandRejected:
    return CommandRejected(400, "validatie", "Validatie mislukt", detail, errors)


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
