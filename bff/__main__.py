"""``python -m bff``: serve the BFF with uvicorn on GREENAI_BFF_HOST:GREENAI_BFF_PORT."""

from __future__ import annotations

import uvicorn

from streams import logs, metrics, tracing
from streams.settings import load_settings


def main() -> None:
    settings = load_settings()
    config = logs.configure("bff", settings.log_level)
    from bff.app import create_app  # after the logs are JSON: its imports warn

    metrics.serve("bff", settings.greenai_home, settings.worker_id)
    tracing.configure("bff")
    uvicorn.run(
        create_app(settings),
        host=settings.bff_host,
        port=settings.bff_port,
        log_level=settings.log_level.lower(),
        log_config=config,
    )


if __name__ == "__main__":
    main()
