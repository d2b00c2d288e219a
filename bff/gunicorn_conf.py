"""gunicorn's settings for the BFF in production:

    gunicorn --config python:bff.gunicorn_conf bff.asgi:app

uvicorn workers (the uvicorn-worker package) on ``GREENAI_BFF_HOST:GREENAI_BFF_PORT``;
``GREENAI_WEB_CONCURRENCY`` worker processes (default: one per CPU this process may use);
``GREENAI_GRACEFUL_TIMEOUT`` seconds for a worker to finish its requests when it is told
to stop (SSE streams are cut then: clients resume from their ``Last-Event-ID``).
"""

from __future__ import annotations

import os
from pathlib import Path

from streams.settings import load_settings


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_settings = load_settings()

worker_class = "uvicorn_worker.UvicornWorker"
bind = [_bind(_settings.bff_host, _settings.bff_port)]
workers = _int("GREENAI_WEB_CONCURRENCY", len(os.sched_getaffinity(0)))
graceful_timeout = _int("GREENAI_GRACEFUL_TIMEOUT", 30)
timeout = 60  # a worker whose event loop is stuck this long is restarted
keepalive = 5
# Each worker builds its own application (its connection pools, its Redis subscription).
preload_app = False
# Behind a load balancer or ingress: whose X-Forwarded-* headers to believe.
forwarded_allow_ips = os.environ.get("GREENAI_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The workers' heartbeat files: in memory, as the root filesystem may be read-only.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
loglevel = _settings.log_level.lower()
errorlog = "-"
accesslog = None  # the BFF logs what it needs; the load balancer logs requests
proc_name = "greenai-bff"
