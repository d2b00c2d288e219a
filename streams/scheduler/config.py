"""The scheduler's own knobs (environment ``GREENAI_SCHEDULER_*``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SchedulerConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GREENAI_SCHEDULER_", extra="ignore")

    tick_seconds: float = 1.0  # how often due jobs and asked-for runs are looked for
    gauge_seconds: float = 30.0  # how often each recon's state is measured for Prometheus
    sla_seconds: int = 60  # how often newly overdue breaks are looked for
    ageing_seconds: int = 900  # how often each recon's ageing is kept
    retention_cron: str = "0 2 * * *"  # when old snapshots and runs are forgotten (UTC)
    snapshot_retention_days: int = 400  # end-of-day and ageing snapshots are kept this long
    run_retention_days: int = 30  # the runs of jobs are kept this long
    connector_timeout_seconds: float = 3600  # a scheduled connector pass may take this long
    clock: str | None = None  # a file holding the instant it is (tests); else the real time
