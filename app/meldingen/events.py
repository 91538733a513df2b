"""What happened, from a committed change: the meldingen (events) a version gives rise to.

A change is classified from the version's diff (the state before and after), so every write
command yields its events without knowing about meldingen. An event names the vereniging, the
version, when, who (the gegevensinitiator) and why, the gemeenten it concerns and which fields
changed, never a value of personal data: whoever may read it follows the version link with a key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

# Event type → may only reach subscribers who may read restricted data.
EVENT_TYPES: dict[str, bool] = {
    "nieuwe-vereniging": False,
    "naam-gewijzigd": False,
    "adres-gewijzigd": False,
    "contactgegevens-gewijzigd": False,
    "erkenning-toegekend": False,
    "erkenning-gewijzigd": False,
    "lidmaatschap-gewijzigd": False,
    "gegevens-gewijzigd": False,
    "gestopt": False,
    "heractiveerd": False,
    "status-gewijzigd": False,
    "in-stopzetting": False,
    "verwijderd": False,
    "nieuwe-vertegenwoordiger": True,
    "vertegenwoordiger-gewijzigd": True,
    "vertegenwoordiger-vertrokken": True,
    "bankrekening-gewijzigd": True,
}
RESTRICTED_TYPES = frozenset(name for name, restricted in EVENT_TYPES.items() if restricted)
# State fields whose values are personal data (the restricted graphs).
RESTRICTED_FIELDS = frozenset({"vertegenwoordigers", "bankrekeningnummers", "einddatum"})
# Fields a specific event type already covers; any other changed field is "gegevens-gewijzigd".
_COVERED = {"naam", "korteNaam", "inStopzetting", "stopzettingsmelding", "locaties", "contactgegevens",
            "erkenningen", "lidmaatschappen", "status", *RESTRICTED_FIELDS}


@dataclass(frozen=True)
class Event:
    """One melding; `index` orders the events of one commit (sequence)."""

    type: str
    sequence: int
    index: int
    time: str
    vcode: str
    vereniging: str  # IRI
    version: str  # IRI of the version the change produced
    naam: str | None
    initiator: str  # OVO code (or KBO)
    initiator_iri: str
    initiator_naam: str
    activity: str
    reason: str | None = None
    gemeenten: tuple[str, ...] = ()
    fields: tuple[str, ...] = field(default_factory=tuple)

    @property
    def restricted(self) -> bool:
        return self.type in RESTRICTED_TYPES

    @property
    def position(self) -> tuple[int, int]:
        return self.sequence, self.index

    @property
    def key(self) -> str:
        """Stable id of the event: the same on every delivery, so receivers can deduplicate."""
        return f"{self.sequence}-{self.index}"

    def as_dict(self) -> dict:
        """Shallow (every field is a str, int, None or tuple of str): dataclasses.asdict deep-copies,
        which cost more than the rest of recording a new vereniging's event in an import."""
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["gemeenten"], data["fields"] = list(self.gemeenten), list(self.fields)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Event:
        return cls(**{**data, "gemeenten": tuple(data.get("gemeenten", ())), "fields": tuple(data.get("fields", ()))})



_FIELD_NAMES = tuple(f.name for f in fields(Event))

def classify(old: dict | None, new: dict | None, activity: str) -> list[tuple[str, tuple[str, ...]]]:
    """The event types of one change, each with the fields it concerns, in a fixed order."""
    if old is None:
        return [("nieuwe-vereniging", ())]
    if new is None or activity == "verwijdering":
        return [("verwijderd", ())]
    found: list[tuple[str, tuple[str, ...]]] = []
    if old.get("status") != new.get("status"):
        kind = "gestopt" if new.get("status") == "Gestopt" else \
            "heractiveerd" if old.get("status") == "Gestopt" else "status-gewijzigd"
        ended = ("inStopzetting", "stopzettingsmelding") if old.get("inStopzetting") and not new.get("inStopzetting") \
            else ()  # a real stop ends the winding-down: the melding says so
        found.append((kind, ("status", *ended)))
    if new.get("inStopzetting") and not old.get("inStopzetting"):
        found.append(("in-stopzetting", ("inStopzetting",)))
    names = tuple(f for f in ("naam", "korteNaam") if old.get(f) != new.get(f))
    if names:
        found.append(("naam-gewijzigd", names))
    if _addresses(old) != _addresses(new):
        found.append(("adres-gewijzigd", ("locaties",)))
    if old.get("contactgegevens") != new.get("contactgegevens"):
        found.append(("contactgegevens-gewijzigd", ("contactgegevens",)))
    found += _items(old, new, "erkenningen", "erkenning-toegekend", "erkenning-gewijzigd", "erkenning-gewijzigd")
    if old.get("lidmaatschappen") != new.get("lidmaatschappen"):
        found.append(("lidmaatschap-gewijzigd", ("lidmaatschappen",)))
    found += _items(old, new, "vertegenwoordigers", "nieuwe-vertegenwoordiger", "vertegenwoordiger-gewijzigd",
                    "vertegenwoordiger-vertrokken")
    if old.get("bankrekeningnummers") != new.get("bankrekeningnummers"):
        found.append(("bankrekening-gewijzigd", ("bankrekeningnummers",)))
    others = {k for k in set(old) | set(new) if k not in _COVERED and old.get(k) != new.get(k)}
    if old.get("locaties") != new.get("locaties") and _addresses(old) == _addresses(new):
        others.add("locaties")  # a site's name or type, not where it is
    if others:
        found.append(("gegevens-gewijzigd", tuple(sorted(others))))
    return found


def _addresses(state: dict) -> list:
    return sorted(repr(sorted((loc.get("adres") or {}).items())) for loc in state.get("locaties", []))


def _items(old: dict, new: dict, kind: str, added: str, changed: str, removed: str) -> list[tuple[str, tuple]]:
    before = {item.get("id"): item for item in old.get(kind, [])}
    after = {item.get("id"): item for item in new.get(kind, [])}
    out = []
    if set(after) - set(before):
        out.append((added, (kind,)))
    if any(before[i] != after[i] for i in set(before) & set(after)):
        out.append((changed, (kind,)))
    if set(before) - set(after):
        out.append((removed, (kind,)))
    return out
