"""A recon's operations rules (``workflow:`` in the recon YAML), and the business calendar
they count in: approval threshold, SLAs per cause, ageing, due dates and the daily cut-off.

Pure (pydantic and the ``holidays`` library), so a recon holds it and every process reads
it the same way::

    workflow:
      approval_threshold: 10000     # a close above this materiality needs an approver
      timezone: Europe/London       # the recon's business day, cut-off and ageing
      calendar: {country: GB, holidays: [2026-12-29]}   # public holidays + extra days off
      sla: {default: 3d, FX: 2d, TIMING: 1d}            # business days to settle, by cause
      cutoff: "17:30"               # breaks still OPEN then escalate; end-of-day snapshot

>>> from datetime import UTC, datetime
>>> rules = WorkflowRules(timezone="Europe/London", calendar={"country": "GB"},
...                       sla={"default": "3d", "FX": "2d"})
>>> seen = datetime(2026, 12, 23, 10, 0, tzinfo=UTC)    # a Wednesday before Christmas
>>> rules.due(seen, "FX")           # Thu 24, then Tue 29 (Christmas, the weekend, Boxing Day)
datetime.datetime(2026, 12, 29, 10, 0, tzinfo=datetime.timezone.utc)
>>> rules.age_days(seen, datetime(2026, 12, 30, 9, 0, tzinfo=UTC))   # 24, 29, 30
3
>>> ageing_bucket(3), ageing_bucket(8)
('2-3', '>7')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.domain.vocabulary import CAUSES

BUCKETS = ("0-1", "2-3", "4-7", ">7")
DEFAULT_SLA_DAYS = 3
_DAYS = re.compile(r"^\s*(\d+)\s*d?\s*$")
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def ageing_bucket(age_days: int) -> str:
    """The ageing bucket of a break this many business days old."""
    if age_days <= 1:
        return BUCKETS[0]
    if age_days <= 3:
        return BUCKETS[1]
    return BUCKETS[2] if age_days <= 7 else BUCKETS[3]


def _days(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DAYS.match(str(value))
    if not match:
        raise ValueError(f"not a number of business days: {value!r} (use e.g. 2d)")
    return int(match.group(1))


class Calendar(BaseModel):
    """Days off: weekends, the public holidays of ``country`` (and ``subdivision``) as the
    ``holidays`` library knows them, and any extra ``holidays``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = None
    subdivision: str | None = None
    holidays: tuple[date, ...] = ()
    weekend: tuple[int, ...] = Field(default=(5, 6), description="weekdays off, Monday = 0")

    @field_validator("country")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"the holidays library knows no country {value!r}")
        return value

    @cached_property
    def _public(self) -> Mapping[date, str]:
        if self.country is None:
            return {}
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.holidays
            and (day not in self._public)
        )


class WorkflowRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approval_threshold: Decimal | None = Field(
        default=None, ge=0, description="materiality above which closing needs an approver"
    )
    timezone: str = "UTC"
    calendar: Calendar = Calendar()
    sla: dict[str, int] = Field(default_factory=dict, description="cause or default -> days")
    cutoff: str | None = Field(default=None, description="HH:MM local time, business days only")

    @field_validator("approval_threshold", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return Decimal(repr(value)) if isinstance(value, float) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/London)") from None
        return value

    @field_validator("sla", mode="before")
    @classmethod
    def _sla(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = [c for c in value if c != "default" and c not in CAUSES]
        if unknown:
            raise ValueError(f"sla: unknown cause {unknown[0]!r}")
        return {cause: _days(days) for cause, days in value.items()}

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, value: str | None) -> str | None:
        if value is not None and not _CUTOFF.match(value):
            raise ValueError(f"cutoff: {value!r} is not a time HH:MM")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def sla_days(self, cause: str | None) -> int:
        return self.sla.get(cause or "", self.sla.get("default", DEFAULT_SLA_DAYS))

    def add_business_days(self, at: datetime, days: int) -> datetime:
        """The same local time ``days`` business days after ``at`` (from a day off, the
        count starts at the next business day)."""
        local = at.astimezone(self.zone)
        day = local.date()
        while not self.calendar.is_business_day(day):
            day += timedelta(days=1)
        while days > 0:
            day += timedelta(days=1)
            if self.calendar.is_business_day(day):
                days -= 1
        moved = datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone)
        return moved.astimezone(at.tzinfo or UTC)

    def due(self, first_seen: datetime, cause: str | None) -> datetime:
        """When a break seen at ``first_seen`` must be settled, by its cause's SLA."""
        return self.add_business_days(first_seen, self.sla_days(cause))

    def age_days(self, first_seen: datetime, now: datetime) -> int:
        """Business days from the day ``first_seen`` to the day ``now`` (the first day is 0)."""
        start, end = self.local_day(first_seen), self.local_day(now)
        days, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.calendar.is_business_day(day):
                days += 1
        return days

    def cutoff_time(self) -> time | None:
        if self.cutoff is None:
            return None
        hours, minutes = self.cutoff.split(":")
        return time(int(hours), int(minutes))

    def cutoff_on(self, day: date) -> datetime | None:
        """The cut-off instant of a local ``day`` (None: no cut-off, or a day off)."""
        at = self.cutoff_time()
        if at is None or not self.calendar.is_business_day(day):
            return None
        return datetime.combine(day, at, self.zone)


DEFAULT_WORKFLOW = WorkflowRules()
