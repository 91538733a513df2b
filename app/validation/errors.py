"""Request-level refusals (body too large, wrong media type, malformed JSON, no API key).

They happen before a command exists, so they carry their HTTP status themselves. What the
domain refuses is an app.domain.errors.DomainError, mapped to a status in problems.py.
"""

from __future__ import annotations

from app.domain.errors import DomainError, FieldError, FieldErrors, invalid

__all__ = ["CommandRejected", "FieldError", "FieldErrors", "invalid"]


class CommandRejected(DomainError):
    """A request that must not reach the domain; carries everything the client needs to fix it."""

    def __init__(self, status: int, slug: str, title: str, detail: str, errors: list[FieldError] | None = None,
                 extra: dict | None = None, headers: dict | None = None) -> None:
        super().__init__(slug, title, detail, list(errors or []), dict(extra or {}))
        self.status = status
        self.headers = dict(headers or {})  # e.g. WWW-Authenticate on a 401

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"
