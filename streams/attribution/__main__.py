"""``python -m streams.attribution``: run one attribution worker process."""

from __future__ import annotations

import faust

from streams.attribution.app import create_app
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    faust.Worker(create_app(settings), loglevel=settings.log_level).execute_from_commandline()


if __name__ == "__main__":
    main()
