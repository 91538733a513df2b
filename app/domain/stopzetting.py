"""In stopzetting: the organisation authorised for it marks a vereniging as being wound up.

Reference §1.3/§7: only that organisation (OVO000067 in the official register; VR_STOPZETTING_OVO
here) may set or clear the mark, only while the vereniging is Actief; stopping the vereniging clears
it (Stop in named_commands.py). The mark is public: `inStopzetting` plus a stopzettingsmelding
saying since when, why and who.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.errors import not_permitted, refused, small_body
from app.domain.versions import Initiator
from app.validation import formats

REASON_MAX = 500
DEFAULT_AUTHORITY = "OVO000067"


@dataclass(frozen=True)
class InStopzetting:
    """POST /verenigingen/{vCode}/in-stopzetting {"inStopzetting": bool, "reden"?, "datum"?}."""

    vcode: str
    in_stopzetting: bool
    reden: str | None
    datum: str
    authority: str = DEFAULT_AUTHORITY

    @property
    def activity(self) -> str:  # type: ignore[override]
        return "in-stopzetting" if self.in_stopzetting else "uit-stopzetting"

    @classmethod
    def from_body(cls, vcode: str, body: Any, today: date, authority: str = DEFAULT_AUTHORITY) -> InStopzetting:
        small_body(body, {"inStopzetting", "reden", "datum"}, '{"inStopzetting": true}')
        flag = body.get("inStopzetting")
        if not isinstance(flag, bool):
            raise refused("geen-boolean", "'inStopzetting' is verplicht en moet true of false zijn.", "inStopzetting")
        reden = body.get("reden")
        if reden is not None and (not isinstance(reden, str) or formats.contains_html(reden)
                                  or len(reden) > REASON_MAX):
            raise refused("ongeldige-reden", f"'reden' is tekst zonder HTML, hoogstens {REASON_MAX} tekens.", "reden")
        datum = today.isoformat()
        if body.get("datum") not in (None, ""):
            try:
                datum = formats.parse_date(body["datum"]).isoformat()
            except ValueError as exc:
                raise refused("datumformaat", str(exc), "datum") from None
            if datum > today.isoformat():
                raise refused("toekomst", "De datum van de stopzetting mag niet in de toekomst liggen.", "datum")
        return cls(vcode, flag, (reden or "").strip() or None, datum, authority)

    def apply(self, state: dict, actor: Initiator) -> dict:
        if actor.ovo != self.authority:
            raise not_permitted(f"OvoCode '{actor.ovo}' is niet gemachtigd om deze actie uit te voeren.")
        if not self.in_stopzetting:
            return dict(state, inStopzetting=False, stopzettingsmelding=None)
        if state["status"] != "Actief":
            raise refused("niet-actief", "Enkel een actieve vereniging kan in stopzetting geplaatst worden.")
        melding = {"datum": self.datum, "door": actor.ovo, **({"reden": self.reden} if self.reden else {})}
        return dict(state, inStopzetting=True, stopzettingsmelding=melding)
