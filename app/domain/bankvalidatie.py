"""Validation of a bankrekeningnummer by an organisation, on the strength of a document.

Reference §1.4.5/§7: any organisation except the one that handles stopzettingen may confirm that
it saw a document proving the account (bank statement, certificate); the same organisation only
once; only it can undo its confirmation. Who, when and which document are kept with the account,
in the restricted graph like the account itself. A change of titularissen makes earlier
validations worthless, so ChangeItem drops them (the official register's
BankrekeningnummerValidatieWerdOngedaanGemaaktDoorWijzigingTitularis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from app.domain import items
from app.domain.errors import not_permitted, refused, small_body
from app.domain.versions import Initiator
from app.validation import formats

DOCUMENT_MAX = 500
EXCLUDED = "OVO000067"  # the official register's exception: the organisation for stopzettingen


def _find(state: dict, item_id: int) -> dict:
    return items.find(state, "bankrekeningnummers", item_id)


def _replace(state: dict, updated: dict) -> dict:
    return items.replace(state, "bankrekeningnummers", updated)


@dataclass(frozen=True)
class ValideerBankrekeningnummer:
    """POST …/bankrekeningnummers/{id}/validaties {"document": "…"}."""

    vcode: str
    item_id: int
    document: str
    tijdstip: str  # when the organisation validated (the request's time, UTC)
    excluded: str = EXCLUDED
    activity: ClassVar[str] = "validatie-bankrekening"

    @classmethod
    def from_body(cls, vcode: str, item_id: int, body: Any, tijdstip: str, excluded: str = EXCLUDED
                  ) -> ValideerBankrekeningnummer:
        small_body(body, {"document"}, '{"document": "…"}')
        document = body.get("document")
        if document is None or (isinstance(document, str) and not document.strip()):
            raise refused("verplicht", "'document' is verplicht: op welk document steunt de validatie?", "document")
        if not isinstance(document, str) or formats.contains_html(document) or len(document) > DOCUMENT_MAX:
            raise refused("ongeldig-document", f"'document' is tekst zonder HTML, hoogstens {DOCUMENT_MAX} tekens.",
                          "document")
        return cls(vcode, item_id, document.strip(), tijdstip, excluded)

    def apply(self, state: dict, actor: Initiator) -> dict:
        if actor.ovo == self.excluded:
            raise not_permitted(f"OvoCode '{actor.ovo}' is niet gemachtigd om deze actie uit te voeren.")
        item = _find(state, self.item_id)
        validaties = list(item.get("validaties") or [])
        if any(v["door"] == actor.ovo for v in validaties):
            raise refused("al-gevalideerd", "Deze organisatie bevestigde dit bankrekeningnummer al.")
        validaties.append({"door": actor.ovo, "tijdstip": self.tijdstip, "document": self.document})
        return _replace(state, dict(item, validaties=validaties))


@dataclass(frozen=True)
class MaakValidatieOngedaan:
    """DELETE …/bankrekeningnummers/{id}/validaties: only the organisation that validated."""

    vcode: str
    item_id: int
    activity: ClassVar[str] = "ongedaan-validatie"

    def apply(self, state: dict, actor: Initiator) -> dict:
        item = _find(state, self.item_id)
        validaties = item.get("validaties") or []
        if not any(v["door"] == actor.ovo for v in validaties):
            raise refused("niet-gevalideerd", f"OvoCode '{actor.ovo}' heeft dit bankrekeningnummer niet gevalideerd.")
        return _replace(state, dict(item, validaties=[v for v in validaties if v["door"] != actor.ovo]))
