"""``python -m streams.attribution``: run one attribution worker process."""

from __future__ import annotations

import faust

from streams import logs, metrics, tracing
from streams.attribution.app import create_app
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    metrics.serve("attribution", settings.greenai_home, settings.worker_id)
    tracing.configure("attribution")
    logging = logs.dict_config("attribution", settings.log_level)
    faust.Worker(
        create_app(settings), loglevel=settings.log_level, logging_config=logging, quiet=True
    ).execute_from_commandline()


if __name__ == "__main__":
    main()
