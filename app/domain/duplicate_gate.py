"""The duplicate gate: a registration resembling an active vereniging needs the confirmation token."""

from __future__ import annotations

from app.domain import duplicates
from app.domain.errors import Invalid, PossibleDuplicates
from app.store import RegisterStore


def check_duplicates(store: RegisterStore, secret: bytes, state: dict, confirmation: str | None, *,
                     token_ok: bool | None = None) -> None:
    """Refuse (409 with candidates and a token) unless `confirmation` is the token for this very state.
    `token_ok` is that comparison when it was already made (batch_check.precheck, in an import worker)."""
    if confirmation is not None:
        if token_ok is None:
            token_ok = confirmation == duplicates.confirmation_token(state, secret)
        if not token_ok:
            raise Invalid("bevestigingstoken", "Ongeldig bevestigingstoken",
                          "Het bevestigingstoken is niet geldig voor deze request.")
        return
    token = duplicates.confirmation_token(state, secret)
    candidates = duplicates.find_candidates(store, state)
    if candidates:
        raise PossibleDuplicates(
            "mogelijke-dubbels", "Mogelijke dubbele verenigingen",
            "Er bestaan al actieve verenigingen met een gelijkaardige naam in dezelfde gemeente. Stuur "
            "dezelfde aanvraag opnieuw met de header 'VR-BevestigingsToken' om toch te registreren.",
            extra={"bevestigingsToken": token, "mogelijkeDuplicateVerenigingen": candidates})
