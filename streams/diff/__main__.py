"""``python -m streams.diff``: run one diff worker process."""

from __future__ import annotations

import faust

from streams import logs, metrics, tracing
from streams.diff.app import create_app
from streams.malloc import fix_mmap_threshold
from streams.settings import load_settings


def main() -> None:
    fix_mmap_threshold()  # before the table and the consumer allocate
    settings = load_settings()
    app = create_app(settings)
    metrics.serve("diff", settings.greenai_home, settings.worker_id)
    tracing.configure("diff")
    logging = logs.dict_config("diff", settings.log_level)
    faust.Worker(
        app, loglevel=settings.log_level, logging_config=logging, quiet=True
    ).execute_from_commandline()


if __name__ == "__main__":
    main()
