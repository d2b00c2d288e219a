"""``python -m streams.diff``: run one diff worker process."""

from __future__ import annotations

import faust

from streams.diff.app import create_app
from streams.heap import fix_mmap_threshold
from streams.settings import load_settings


def main() -> None:
    fix_mmap_threshold()  # before the table and the consumer allocate
    settings = load_settings()
    app = create_app(settings)
    faust.Worker(app, loglevel=settings.log_level).execute_from_commandline()


if __name__ == "__main__":
    main()
