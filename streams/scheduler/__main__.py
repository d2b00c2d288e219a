"""``python -m streams.scheduler``: the scheduler process (one of ``greenai up``'s; safe to
run as several replicas)."""

from __future__ import annotations

import asyncio
import logging

from streams.scheduler.app import Scheduler
from streams.scheduler.clock import clock
from streams.scheduler.config import SchedulerConfig
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    config = SchedulerConfig()
    asyncio.run(Scheduler(settings, config, clock(config.clock)).run())


if __name__ == "__main__":
    main()
