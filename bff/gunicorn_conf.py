"""gunicorn's settings for the BFF in production:

    gunicorn --config python:bff.gunicorn_conf bff.asgi:app

uvicorn workers (the uvicorn-worker package) on ``GREENAI_BFF_HOST:GREENAI_BFF_PORT``;
``GREENAI_WEB_CONCURRENCY`` worker processes (default: one per CPU this process may use);
``GREENAI_GRACEFUL_TIMEOUT`` seconds for a worker to finish its requests when it is told
to stop (SSE streams are cut then: clients resume from their ``Last-Event-ID``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# Every worker's metrics together (prometheus_client's multiprocess mode): the directory must
# be known before any worker imports the client; the master serves them on the metrics port.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="greenai-bff-metrics-"))

from prometheus_client import multiprocess

from streams import logs, metrics, tracing
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
# gunicorn's own loggers through the same JSON lines as the application's
_logs = logs.dict_config("bff", _settings.log_level)
logconfig_dict = _logs | {
    "loggers": _logs["loggers"]
    | {
        "gunicorn.error": {"level": _settings.log_level.upper(), "propagate": True},
        "gunicorn.access": {"level": "WARNING", "propagate": True},
    }
}
errorlog = "-"
accesslog = None  # the BFF logs what it needs; the load balancer logs requests
proc_name = "greenai-bff"


def when_ready(server: Any) -> None:
    """The master serves every worker's metrics (and the master's health) on its port."""
    metrics.serve("bff", _settings.greenai_home, _settings.worker_id)


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)


def post_fork(server: Any, worker: Any) -> None:
    """Each worker exports its own spans (a span processor's thread does not survive fork)."""
    tracing.configure("bff")
