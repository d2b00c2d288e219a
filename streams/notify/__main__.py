"""``python -m streams.notify``: the notifier process (one of ``greenai up``'s)."""

from __future__ import annotations

import asyncio

from streams import logs
from streams.notify.app import Notifier
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    logs.configure("notify", settings.log_level)
    asyncio.run(Notifier(settings).run())


if __name__ == "__main__":
    main()
