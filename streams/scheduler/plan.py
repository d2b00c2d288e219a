"""The scheduler's jobs (pure): which jobs the recons and settings call for, and when each
is due.

A job's *slots* are the moments it is meant to run: a recon's daily cut-off (business days,
local time), a connector's cron expression (in the recon's time zone), or a fixed interval
(epoch-aligned). At any moment a job's due slot is its latest slot not after now; it runs
when that slot is newer than the last one it ran for, so a scheduler that was down runs a
missed slot once when it is back, never a backlog of them.

>>> from datetime import UTC, datetime
>>> job = Every("sla", "sla", 60)
>>> job.latest(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
datetime.datetime(2026, 12, 7, 9, 0, tzinfo=datetime.timezone.utc)
>>> job.following(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
datetime.datetime(2026, 12, 7, 9, 1, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from streams.domain.workflow_rules import WorkflowRules
from streams.recon import Recon

LOOK_BACK_DAYS = 15  # a cut-off further back than this is not looked for


@dataclass(frozen=True)
class Job(ABC):
    name: str
    kind: str  # cutoff | connector | sla | ageing | retention

    recon: str | None = None
    source: str | None = None

    @property
    @abstractmethod
    def schedule(self) -> str:
        """When it runs, said for people."""

    @abstractmethod
    def latest(self, now: datetime) -> datetime | None:
        """Its latest slot not after ``now`` (None: none yet)."""

    @abstractmethod
    def following(self, now: datetime) -> datetime | None:
        """Its first slot after ``now``."""

    def due(self, now: datetime, last: datetime | None) -> datetime | None:
        """The slot to run now: the latest one, if it is newer than ``last``."""
        slot = self.latest(now)
        return slot if slot is not None and (last is None or slot > last) else None


@dataclass(frozen=True)
class Every(Job):
    seconds: int = 60

    @property
    def schedule(self) -> str:
        return f"every {self.seconds}s"

    def latest(self, now: datetime) -> datetime:
        step = timedelta(seconds=self.seconds)
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return epoch + (now - epoch) // step * step

    def following(self, now: datetime) -> datetime:
        return self.latest(now) + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron(Job):
    expression: str = "0 2 * * *"
    timezone: str = "UTC"

    @property
    def schedule(self) -> str:
        return f"{self.expression} ({self.timezone})"

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def latest(self, now: datetime) -> datetime:
        local = self._local(now) + timedelta(microseconds=1)  # a slot at `now` is due now
        slot: datetime = croniter(self.expression, local).get_prev(datetime)
        return slot.astimezone(UTC)

    def following(self, now: datetime) -> datetime:
        slot: datetime = croniter(self.expression, self._local(now)).get_next(datetime)
        return slot.astimezone(UTC)


@dataclass(frozen=True)
class Cutoff(Job):
    rules: WorkflowRules | None = None

    @property
    def schedule(self) -> str:
        assert self.rules is not None
        return f"{self.rules.cutoff} {self.rules.timezone}, business days"

    def latest(self, now: datetime) -> datetime | None:
        assert self.rules is not None
        day = self.rules.local_day(now)
        for back in range(LOOK_BACK_DAYS):
            at = self.rules.cutoff_on(day - timedelta(days=back))
            if at is not None and at <= now:
                return at.astimezone(UTC)
        return None

    def following(self, now: datetime) -> datetime | None:
        assert self.rules is not None
        day = self.rules.local_day(now)
        for ahead in range(LOOK_BACK_DAYS):
            at = self.rules.cutoff_on(day + timedelta(days=ahead))
            if at is not None and at > now:
                return at.astimezone(UTC)
        return None


@dataclass(frozen=True)
class Intervals:
    """How often the platform's own jobs run (GREENAI_SCHEDULER_* settings)."""

    sla_seconds: int = 60
    ageing_seconds: int = 900
    retention_cron: str = "0 2 * * *"


def plan(recons: dict[str, Recon], every: Intervals) -> list[Job]:
    """Every job the recons and the settings call for, by name."""
    jobs: list[Job] = [
        Every("sla", "sla", seconds=every.sla_seconds),
        Every("ageing", "ageing", seconds=every.ageing_seconds),
        Cron("retention", "retention", expression=every.retention_cron),
    ]
    for name, recon in sorted(recons.items()):
        rules = recon.rules
        if rules.cutoff is not None:
            jobs.append(Cutoff(f"cutoff:{name}", "cutoff", name, rules=rules))
        for source, spec in recon.sources.items():
            cron = (spec.connector or {}).get("schedule")
            if cron and croniter.is_valid(cron):
                jobs.append(
                    Cron(
                        f"connector:{name}/{source}",
                        "connector",
                        name,
                        source,
                        expression=cron,
                        timezone=rules.timezone,
                    )
                )
    return jobs
