"""``python -m streams.notify``: the notifier process (one of ``greenai up``'s)."""

from __future__ import annotations

import asyncio
import logging

from streams.notify.app import Notifier
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(Notifier(settings).run())


if __name__ == "__main__":
    main()
