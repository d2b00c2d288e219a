"""``python -m streams.diff``: run one diff worker process."""

from __future__ import annotations

import faust

from streams.diff.app import create_app
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    app = create_app(settings)
    faust.Worker(app, loglevel=settings.log_level).execute_from_commandline()


if __name__ == "__main__":
    main()
