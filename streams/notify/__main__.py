"""``python -m streams.notify``: the notifier process (one of ``greenai up``'s)."""

from __future__ import annotations

import asyncio

from streams import logs, metrics, tracing
from streams.notify.app import Notifier
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    logs.configure("notify", settings.log_level)
    metrics.serve("notify", settings.greenai_home, settings.worker_id)
    tracing.configure("notify")
    asyncio.run(Notifier(settings).run())


if __name__ == "__main__":
    main()
