"""Every process's Prometheus metrics and health, on a port of its own.

``serve`` starts a small HTTP server (a daemon thread) on ``GREENAI_METRICS_HOST`` (127.0.0.1)
and ``GREENAI_METRICS_PORT`` (0: a free port) answering ``/metrics`` (the process's registry,
or every worker's under gunicorn's multiprocess mode), ``/healthz`` (200 when every dependency
the process waits for is reachable, else 503 with which is not) and ``/livez``. The port is
written to ``<GREENAI_HOME>/metrics/<process>-<worker>.json`` as a Prometheus file-based
service discovery target, which the local Prometheus of ``greenai up --observability``
watches; on Kubernetes the ServiceMonitor finds the port instead.

Shared by every process: ``greenai_dependency_up`` (1, or 0 while an :class:`Outage` of it
is ongoing), ``greenai_dead_letters_total`` by stage, ``greenai_consumer_lag`` by topic and
partition, and the standard process collector (``process_start_time_seconds`` tells restarts).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

log = logging.getLogger(__name__)

DEPENDENCY_UP = Gauge(
    "greenai_dependency_up",
    "1 while the dependency answers, 0 while the process waits for it (an outage)",
    ["dependency"],
    multiprocess_mode="livemin",
)
DEAD_LETTERS = Counter(
    "greenai_dead_letters", "Inputs this process dead-lettered, by stage", ["stage"]
)
CONSUMER_LAG = Gauge(
    "greenai_consumer_lag",
    "Messages in the partition not processed yet by this process",
    ["topic", "partition"],
    multiprocess_mode="livesum",
)
Health = Callable[[], dict[str, Any]]


def outages() -> dict[str, Any]:
    """The dependencies this process waits for now (from the outages it tracks)."""
    from streams.retry import Outage  # the outages register themselves there

    away = sorted(o.what for o in Outage.tracked() if o.ongoing)
    return {"ok": not away, "waiting_for": away}


def registry() -> CollectorRegistry:
    """The registry to expose: under gunicorn (``PROMETHEUS_MULTIPROC_DIR``) every worker's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


class _Handler(BaseHTTPRequestHandler):
    health: Health = staticmethod(outages)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(registry()), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            report = type(self).health()
            body = json.dumps(report, default=str).encode()
            self._send(200 if report.get("ok") else 503, body, "application/json")
        elif path == "/livez":
            self._send(200, b'{"status": "ok"}', "application/json")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
        pass


def serve(
    process: str,
    home: Path,
    worker: str = "1",
    *,
    health: Health | None = None,
    port: int | None = None,
    host: str | None = None,
) -> int:
    """Serve this process's metrics and health; returns the port it listens on."""
    port = int(os.environ.get("GREENAI_METRICS_PORT", "0")) if port is None else port
    host = host or os.environ.get("GREENAI_METRICS_HOST", "127.0.0.1")
    handler = type("Handler", (_Handler,), {"health": staticmethod(health or outages)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    bound = int(server.server_port)
    _announce(home, process, worker, host, bound)
    log.info("metrics and health of %s on http://%s:%d/metrics", process, host, bound)
    return bound


def _announce(home: Path, process: str, worker: str, host: str, port: int) -> None:
    """The Prometheus file-based discovery target of this process (the local stack's)."""
    where = home / "metrics"
    where.mkdir(parents=True, exist_ok=True)
    address = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    target = [{"targets": [f"{address}:{port}"], "labels": {"process": process, "worker": worker}}]
    partial = where / f".{process}-{worker}.json"
    partial.write_text(json.dumps(target))
    partial.replace(where / f"{process}-{worker}.json")  # whole, or not at all
