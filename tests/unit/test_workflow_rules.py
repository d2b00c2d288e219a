"""A recon's operations rules: business days, SLAs and due dates, ageing, cut-offs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from streams.domain.workflow_rules import Calendar, WorkflowRules, ageing_bucket
from streams.recon import Recon

LONDON = WorkflowRules(
    timezone="Europe/London",
    calendar=Calendar(country="GB", holidays=(date(2026, 12, 31),)),
    sla={"default": 3, "FX": 2, "TIMING": 0},
    cutoff="17:30",
    approval_threshold=Decimal("10000"),
)


def test_weekends_public_holidays_and_extra_days_are_off() -> None:
    off = [date(2026, 12, d) for d in (25, 26, 27, 28, 31)]  # Christmas, w/e, Boxing Day sub.
    on = [date(2026, 12, d) for d in (24, 29, 30)]
    assert not any(LONDON.calendar.is_business_day(d) for d in off)
    assert all(LONDON.calendar.is_business_day(d) for d in on)


def test_due_counts_the_causes_sla_in_business_days_from_first_seen() -> None:
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert LONDON.due(friday, "FX") == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)  # Tue
    assert LONDON.due(friday, "FAT_FINGER") == datetime(2026, 12, 9, 16, 0, tzinfo=UTC)
    assert LONDON.due(friday, "TIMING") == friday  # same business day
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert LONDON.due(saturday, "TIMING") == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_due_keeps_the_local_time_across_a_clock_change() -> None:
    seen = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday 12:00 in London (GMT)
    due = LONDON.due(seen, "FX")  # Tuesday 12:00 in London, now BST (UTC+1)
    assert due == datetime(2026, 3, 31, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, "0-1"), (1, "0-1"), (2, "2-3"), (3, "2-3"), (4, "4-7"), (7, "4-7")]
)
def test_ageing_buckets(days: int, bucket: str) -> None:
    assert ageing_bucket(days) == bucket
    assert ageing_bucket(8) == ">7"


def test_age_is_business_days_since_the_break_was_first_seen() -> None:
    seen = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)
    assert LONDON.age_days(seen, seen) == 0
    assert LONDON.age_days(seen, datetime(2026, 12, 29, 8, 0, tzinfo=UTC)) == 2  # 24, 29
    assert LONDON.age_days(seen, datetime(2027, 1, 4, 8, 0, tzinfo=UTC)) == 4  # 30, Jan 4


def test_the_cut_off_is_local_time_on_business_days_only() -> None:
    assert LONDON.cutoff_on(date(2026, 7, 1)) == datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    assert LONDON.cutoff_on(date(2026, 12, 25)) is None


@pytest.mark.parametrize(
    ("block", "why"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"sla": {"GREMLINS": "2d"}}, "unknown cause"),
        ({"sla": {"FX": "two days"}}, "not a number of business days"),
        ({"cutoff": "25:00"}, "not a time"),
        ({"calendar": {"country": "XX"}}, "knows no country"),
        ({"approval_threshold": -1}, "greater than or equal to 0"),
    ],
)
def test_a_recons_workflow_block_is_checked(block: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        WorkflowRules.model_validate(block)


def test_a_recon_without_a_workflow_block_has_the_defaults(recon: Recon) -> None:
    assert recon.rules.sla_days("FX") == 3 and recon.rules.timezone == "UTC"
    assert recon.rules.approval_threshold is None and recon.rules.cutoff is None
