"""``python -m streams.scheduler``: the scheduler process (one of ``greenai up``'s; safe to
run as several replicas)."""

from __future__ import annotations

import asyncio

from streams import logs, metrics, tracing
from streams.scheduler.app import Scheduler
from streams.scheduler.clock import clock
from streams.scheduler.config import SchedulerConfig
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    logs.configure("scheduler", settings.log_level)
    metrics.serve("scheduler", settings.greenai_home, settings.worker_id)
    tracing.configure("scheduler")
    config = SchedulerConfig()
    asyncio.run(Scheduler(settings, config, clock(config.clock)).run())


if __name__ == "__main__":
    main()
