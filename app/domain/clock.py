"""The register's clock: moments are UTC, but a rule's "today" is the calendar day in Belgium.

Between midnight in Brussels and midnight UTC the two dates differ; a date rule ("niet in de toekomst",
an erkenning that starts today) must use the day a Flemish user sees on the calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def now() -> datetime:
    """The current moment, timezone-aware UTC (what versions and provenance record)."""
    return datetime.now(UTC)


def today(moment: datetime | None = None) -> date:
    """The calendar day in Belgium at `moment` (default: now)."""
    moment = moment or now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BRUSSELS).date()
