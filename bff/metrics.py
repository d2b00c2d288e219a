"""Prometheus metrics of the BFF (served by :mod:`streams.metrics`, every gunicorn worker's
together in multiprocess mode), and the middleware that times every request by its route."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Histogram(
    "greenai_http_request_seconds",
    "Time to answer an API request, by method, route and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SSE_CLIENTS = Gauge(
    "greenai_sse_clients", "Live SSE streams held open", multiprocess_mode="livesum"
)
ACTIONS = Counter("greenai_actions", "People's actions on breaks sent to their owner", ["action"])
SINK_STORED = Counter("greenai_sink_breaks_stored", "Break changes the sink stored")
SINK_MATCHES = Counter("greenai_sink_matches", "Matches the sink stored")
SINK_BATCH_SECONDS = Histogram(
    "greenai_sink_batch_seconds",
    "Time to store one consumed batch and fan it out",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class Timing:
    """Pure ASGI middleware: each HTTP request's duration, labelled with its route's path
    template (``/api/breaks/{break_id}``, never the id itself) once routing found it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            REQUESTS.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
