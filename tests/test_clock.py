"""The register's "today" is the calendar day in Belgium, not the UTC date."""

from datetime import UTC, date, datetime

import pytest

from app.domain import rules
from app.domain.clock import today
from app.domain.errors import Invalid
from app.domain.parse import parse_registration
from tests.conftest import VALID_BODY


def test_half_past_midnight_in_brussels_is_already_the_next_day():
    assert today(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert today(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == date(2026, 7, 1)  # summer time: UTC+2
    assert today(datetime(2026, 7, 1, 22, 0, tzinfo=UTC)) == date(2026, 7, 2)


def test_a_start_date_of_today_in_belgium_is_not_in_the_future():
    state = parse_registration({**VALID_BODY, "startdatum": "2026-12-01"})
    rules.check(state, today(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)))  # accepted: 1 December in Brussels
    with pytest.raises(Invalid) as refused:
        rules.check(state, date(2026, 11, 30))
    assert [e.path for e in refused.value.errors] == ["startdatum"]
