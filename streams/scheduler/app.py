"""The scheduler process: every recon's cut-off, scheduled connector runs, SLA breaches,
ageing and retention — and the runs people ask for.

Every tick it plans the jobs from the recons (:mod:`streams.scheduler.plan`), publishes the
plan to ``schedule_jobs`` and runs each job whose slot came since it last ran, and every run
someone asked for. A run holds the job's PostgreSQL advisory lock and claims its (job, slot)
in ``schedule_runs``, so several replicas never run a job twice; its outcome (OK or FAILED,
with what it did or why it failed) is recorded there. What jobs do:

- **cutoff:<recon>** — breaks still OPEN are escalated (an ESCALATE command to each break's
  owner, like any action), the end-of-day snapshot is stored (the day's figures, the ageing,
  every unsettled break), a CUTOFF_SUMMARY alert and, when it escalated any, an ESCALATION
  alert.
- **connector:<recon>/<source>** — one pass of the source's connector
  (``greenai ingest run --once``) at each slot of its cron expression.
- **sla** — an SLA_BREACH alert for each break that became overdue since the last run.
- **ageing** — each recon's ageing now, kept in ``ageing_snapshots`` (the trend).
- **retention** — snapshots and runs older than their retention are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from streams import alerts, commands
from streams.commands import Target
from streams.database import load_recons
from streams.domain.vocabulary import CAUSES
from streams.domain.workflow import Action, Command
from streams.domain.workflow_rules import WorkflowRules, ageing_bucket
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.retry import Outage
from streams.scheduler import metrics as measured
from streams.scheduler import plan
from streams.scheduler.clock import Clock
from streams.scheduler.config import SchedulerConfig
from streams.settings import Settings
from streams.stats import ageing, recon_stats
from streams.store import schedule
from streams.store.breaks import BreakFilter, all_breaks, came_due, open_breaks
from streams.topics import Topics

log = logging.getLogger(__name__)
SOURCE = "scheduler"
SNAPSHOT_FIELDS = (
    "break_id",
    "recon",
    "key",
    "kind",
    "status",
    "missing_in",
    "cause",
    "confidence",
    "disposition",
    "priority",
    "materiality",
    "owner",
    "tags",
    "first_seen",
    "updated_at",
    "due",
    "version",
    "revision",
    "close_reason",
    "proposal",
    "fields",
)


class Failed(Exception):
    """A job that could not do its work: the message says why, in one line."""


class Scheduler:
    def __init__(self, settings: Settings, config: SchedulerConfig, clock: Clock) -> None:
        self.settings = settings
        self.config = config
        self.clock = clock
        self.worker = f"{settings.topic_prefix}/scheduler/{settings.worker_id}"
        self.topics = Topics(settings.topic_prefix)
        self.pool = AsyncConnectionPool(
            settings.database(),
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True, "connect_timeout": 5},
        )
        self.producer = SafeProducer(settings.kafka())
        self.recons: dict[str, Recon] = {}
        self.every = plan.Intervals(
            config.sla_seconds, config.ageing_seconds, config.retention_cron
        )
        self.started = clock.now()
        self.gauged = float("-inf")
        self.outage = Outage("PostgreSQL (scheduler)", log)
        self.actions: dict[str, Callable[[plan.Job, datetime], Awaitable[str]]] = {
            "cutoff": self.cutoff,
            "connector": self.connector,
            "sla": self.sla,
            "ageing": self.ageing,
            "retention": self.retention,
        }

    async def run(self) -> None:
        await self.pool.open()
        log.info("scheduler %s: planning every %.1fs", self.worker, self.config.tick_seconds)
        try:
            while True:
                try:
                    await self.tick()
                except (psycopg.OperationalError, OSError) as exc:
                    self.outage.failed(exc)  # the next tick tries again
                else:
                    self.outage.recovered()
                await asyncio.sleep(self.config.tick_seconds)
        finally:
            await self.pool.close()

    async def tick(self) -> None:
        """Plan the jobs, run those due, and the runs asked for."""
        now = self.clock.now()
        self.recons = {
            name: recon
            for name, (_, recon) in (
                await asyncio.to_thread(load_recons, self.settings.database())
            ).items()
        }
        jobs = {j.name: j for j in plan.plan(self.recons, self.every)}
        async with self.pool.connection() as conn:
            await schedule.plan_jobs(conn, [self._row(j, now) for j in jobs.values()])
        for job in jobs.values():
            async with self.pool.connection() as conn:
                last = await schedule.last_slot(conn, job.name)
            slot = job.due(now, last or self.started)
            if slot is not None:
                await self.run_job(job, slot)
        async with self.pool.connection() as conn:
            asked = await schedule.pending_requests(conn)
        if time.monotonic() - self.gauged >= self.config.gauge_seconds:
            await self.gauge(now)
        for request in asked:
            wanted = jobs.get(request["job"])
            await self.run_job(wanted, request["requested_at"], request, name=request["job"])

    def _row(self, job: plan.Job, now: datetime) -> dict[str, Any]:
        return {
            "job": job.name,
            "kind": job.kind,
            "recon": job.recon,
            "source": job.source,
            "schedule": job.schedule,
            "next_run": job.following(now),
        }

    async def run_job(
        self,
        job: plan.Job | None,
        slot: datetime,
        request: dict[str, Any] | None = None,
        *,
        name: str | None = None,
    ) -> None:
        """Run ``job`` for ``slot`` unless another replica runs it now or ran that slot;
        record the outcome. A request for a job that is not planned fails with that reason."""
        name = name or (job.name if job else "?")
        async with self.pool.connection() as conn:
            if not await schedule.try_lock(conn, name):
                return
            try:
                run_id = await schedule.claim_run(
                    conn, name, slot, self.worker, self.clock.now(), request
                )
                if run_id is None:
                    return
                started = time.perf_counter()
                ok, detail = await self._outcome(job, name, slot)
                await schedule.finish_run(conn, run_id, ok, detail, self.clock.now())
                kind = job.kind if job else "unknown"
                measured.RUNS.labels(kind, "OK" if ok else "FAILED").inc()
                measured.RUN_SECONDS.labels(kind).observe(time.perf_counter() - started)
                if ok:
                    measured.LAST_SUCCESS.labels(name).set(time.time())
            finally:
                await schedule.unlock(conn, name)

    async def _outcome(self, job: plan.Job | None, name: str, slot: datetime) -> tuple[bool, str]:
        if job is None:
            return False, f"no job {name!r} is planned (see `greenai schedule list`)"
        log.info("running %s for %s", name, slot.isoformat())
        try:
            detail = await self.actions[job.kind](job, slot)
        except Failed as exc:
            log.warning("%s failed: %s", name, exc)
            return False, str(exc)
        except Exception as exc:  # a job's bug is its run's failure, not the scheduler's end
            log.exception("%s failed", name)
            return False, f"{type(exc).__name__}: {exc}"[:500]
        log.info("%s: %s", name, detail)
        return True, detail

    async def gauge(self, now: datetime) -> None:
        """Each recon's state now, as the dashboards show it (today: its local day). Every
        known label starts at 0, so that a first increase shows."""
        self.gauged = time.monotonic()
        for name, recon in self.recons.items():
            found = await recon_stats(self.pool, recon, 1, now)
            today, open_ = found["days"][-1], found["open"]
            for bucket, n in open_["by_bucket"].items():
                measured.OPEN_BREAKS.labels(name, bucket).set(n)
            for cause in (*CAUSES, "UNATTRIBUTED"):  # a cause that cleared reads 0
                measured.BY_CAUSE.labels(name, cause).set(open_["by_cause"].get(cause, 0))
            measured.OVERDUE.labels(name).set(open_["overdue"])
            measured.OPENED_TODAY.labels(name).set(today["opened"])
            rates = (
                (measured.MATCH_RATE, today["match_rate"]),
                (measured.AUTO_CLOSE_RATE, today["auto_close_rate"]),
                (measured.SETTLE_HOURS, today["mean_hours_to_settle"]),
            )
            for gauge, value in rates:
                gauge.labels(name).set(float("nan") if value is None else value)
            measured.SLA_BREACHES.labels(name).inc(0)
            measured.ESCALATIONS.labels(name).inc(0)

    # -- the jobs ------------------------------------------------------------------------

    def _recon(self, job: plan.Job) -> Recon:
        recon = self.recons.get(job.recon or "")
        if recon is None:
            raise Failed(f"recon {job.recon!r} is not registered")
        return recon

    async def cutoff(self, job: plan.Job, slot: datetime) -> str:
        recon = self._recon(job)
        rules, now = recon.rules, self.clock.now()
        day = rules.local_day(slot)
        unsettled = await all_breaks(self.pool, BreakFilter(recon=recon.name, status="open"))
        still_open = [
            b for b in unsettled if b["status"] == "OPEN" and b["disposition"] != "ESCALATE"
        ]
        why = f"still OPEN at the {rules.cutoff} {rules.timezone} cut-off of {day}"
        escalations = [
            (
                Target(b["recon"], b["key"], b["break_id"]),
                Command(commands.new_id(), Action.ESCALATE, SOURCE, now, reason=why),
            )
            for b in still_open
        ]
        stats = await recon_stats(self.pool, recon, 1, now)
        summary = {"day": stats["days"][-1], "open": stats["open"], "escalated": len(escalations)}
        snapshot = [self._snapshot_row(b, rules, now) for b in unsettled]
        async with self.pool.connection() as conn:
            await schedule.save_eod(conn, recon.name, day, now, summary, snapshot)
        found = stats["open"]
        sent = [
            alerts.alert(
                f"cutoff@{recon.name}/{day}",
                "CUTOFF_SUMMARY",
                "INFO",
                SOURCE,
                f"{recon.name} at the {rules.cutoff} cut-off of {day}: {found['total']} open "
                f"({len(escalations)} escalated, {found['overdue']} overdue); match rate "
                f"{summary['day']['match_rate']}",
                recon=recon.name,
                details={k: v for k, v in summary["day"].items() if v is not None}
                | {"open": found["total"], "overdue": found["overdue"]},
                worker=self.worker,
                at=now,
            )
        ]
        if escalations:
            sent.append(
                alerts.alert(
                    f"escalation@{recon.name}/{day}",
                    "ESCALATION",
                    "WARNING",
                    SOURCE,
                    f"{len(escalations)} breaks of {recon.name} escalated: {why}",
                    recon=recon.name,
                    details={
                        "count": len(escalations),
                        "breaks": " ".join(t.break_id for t, _ in escalations[:20]),
                    },
                    worker=self.worker,
                    at=now,
                )
            )
        await asyncio.to_thread(self._publish, escalations, sent)
        measured.ESCALATIONS.labels(recon.name).inc(len(escalations))
        return (
            f"escalated {len(escalations)} of {len(unsettled)} unsettled; end-of-day snapshot "
            f"of {day} stored"
        )

    def _snapshot_row(
        self, row: dict[str, Any], rules: WorkflowRules, now: datetime
    ) -> dict[str, Any]:
        age = rules.age_days(row["first_seen"], now)
        overdue = row["due"] is not None and row["due"] < now
        return {k: row.get(k) for k in SNAPSHOT_FIELDS} | {
            "age_days": age,
            "ageing_bucket": ageing_bucket(age),
            "overdue": overdue,
        }

    def _publish(
        self, escalations: list[tuple[Target, Command]], raised: list[dict[str, Any]]
    ) -> None:
        for target, cmd in escalations:
            self.producer.send(
                self.topics.commands, commands.message_key(target), commands.encode(target, cmd)
            )
        for a in raised:
            self.producer.send(self.topics.name("alerts"), alerts.key(a), alerts.encode(a))
        self.producer.flush(timeout=60)

    async def connector(self, job: plan.Job, slot: datetime) -> str:
        argv = [sys.executable, "-m", "greenai", "ingest", "run"]
        argv += ["--recon", job.recon or "", "--source", job.source or "", "--once"]
        try:
            done = await asyncio.to_thread(
                subprocess.run,
                argv,
                capture_output=True,
                text=True,
                timeout=self.config.connector_timeout_seconds,
                env=os.environ.copy(),
            )
        except subprocess.TimeoutExpired:
            raise Failed(
                f"the pass did not end within {self.config.connector_timeout_seconds:.0f}s"
            ) from None
        said = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
            raise Failed(last[0][:500])
        return said[-1][:1000] if said else "one pass, nothing said"

    async def sla(self, job: plan.Job, slot: datetime) -> str:
        async with self.pool.connection() as conn:
            since = await schedule.last_ok_slot(conn, job.name)
        now = self.clock.now()
        overdue = await came_due(self.pool, since, now)
        raised = [
            alerts.alert(
                f"sla-breach@{b['break_id']}@{b['due'].isoformat()}",
                "SLA_BREACH",
                "WARNING",
                SOURCE,
                f"break {b['break_id']} of {b['recon']} ({b['cause'] or 'cause unknown'}, "
                f"owner {b['owner'] or 'none'}) is past its due date {b['due']:%Y-%m-%d %H:%M} UTC",
                recon=b["recon"],
                details={
                    "break_id": b["break_id"],
                    "due": b["due"].isoformat(),
                    "owner": b["owner"] or "",
                    "cause": b["cause"] or "",
                    "materiality": b["materiality"] if b["materiality"] is not None else "",
                },
                worker=self.worker,
                at=now,
            )
            for b in overdue
        ]
        if raised:
            await asyncio.to_thread(self._publish, [], raised)
        for b in overdue:
            measured.SLA_BREACHES.labels(b["recon"]).inc()
        return f"{len(raised)} breaks newly overdue"

    async def ageing(self, job: plan.Job, slot: datetime) -> str:
        now = self.clock.now()
        for name, recon in self.recons.items():
            kept = ageing(await open_breaks(self.pool, name), recon.rules, now)
            async with self.pool.connection() as conn:
                await schedule.save_ageing(conn, name, slot, kept)
        return f"ageing of {len(self.recons)} recons kept"

    async def retention(self, job: plan.Job, slot: datetime) -> str:
        now = self.clock.now()
        async with self.pool.connection() as conn:
            gone = await schedule.prune(
                conn,
                now - timedelta(days=self.config.snapshot_retention_days),
                now - timedelta(days=self.config.run_retention_days),
            )
        return ", ".join(f"{n} {table}" for table, n in gone.items()) + " forgotten"
