"""The FastAPI application: API routes, the break sink, the change hub, metrics and the UI.

A dependency that goes away degrades the BFF, it does not stop it: a request that needs
PostgreSQL answers 503 with a one-line reason while it is away, the SSE stream keeps its
clients, and ``/healthz`` says which dependency is missing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis.asyncio as aioredis
from confluent_kafka.admin import AdminClient
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import make_asgi_app
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from bff.hub import ChangeHub
from bff.limits import BodyLimit
from bff.routers import breaks, labels, stream
from bff.sink import BreakSink, channel
from streams.database import migrate
from streams.kafka import LIBRDKAFKA, client_config
from streams.retry import Outage, until_done
from streams.settings import Settings, load_settings

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"
MAX_BODY = 1 << 20  # bytes a request body may have
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_sink: bool = True) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await until_done(
            lambda: asyncio.to_thread(migrate, settings.database()),
            Outage("PostgreSQL (migrations)", log),
            (psycopg.OperationalError,),
        )
        app.state.settings = settings
        app.state.pool = AsyncConnectionPool(
            settings.database(),
            min_size=1,
            max_size=8,
            open=False,
            timeout=5,
            kwargs={"connect_timeout": 5},
        )
        await app.state.pool.open()
        app.state.redis = aioredis.from_url(
            settings.redis(), socket_timeout=5, socket_connect_timeout=2
        )
        app.state.kafka = KafkaProbe(settings.kafka())
        app.state.hub = ChangeHub(app.state.redis, app.state.pool, channel(settings.topic_prefix))
        app.state.hub.start()
        app.state.sink = BreakSink(settings) if run_sink else None
        if app.state.sink:
            app.state.sink.start()
        try:
            yield
        finally:
            if app.state.sink:
                app.state.sink.stop()
            await app.state.hub.stop()
            await app.state.redis.aclose()
            await app.state.pool.close()

    app = FastAPI(title="greenai BFF", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    app.include_router(breaks.router)
    app.include_router(stream.router)
    app.include_router(labels.router)
    app.mount("/metrics", make_asgi_app())

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_away(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "PostgreSQL is unavailable; retry shortly"}, 503)

    @app.get("/livez", tags=["ops"])
    async def livez() -> dict[str, str]:
        """The process answers (for a liveness probe: dependencies do not count)."""
        return {"status": "ok"}

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> JSONResponse:
        """Each dependency and the sink, honestly: 200 when all are well, 503 otherwise."""
        checks = await asyncio.gather(
            _check(_postgres(app.state.pool)),
            _check(app.state.redis.ping()),
            _check(app.state.kafka.check()),
        )
        report: dict[str, Any] = dict(zip(("postgres", "redis", "kafka"), checks, strict=True))
        sink = app.state.sink
        if sink is not None:
            status = sink.status()
            healthy = status["alive"] and not status["waiting_for"]
            report["sink"] = {"ok": healthy, **status}
        report["sse"] = {
            "ok": app.state.hub.redis_up,
            "clients": len(app.state.hub.subscriptions),
            "last_seq": app.state.hub.last_seq,
        }
        ok = all(part["ok"] for part in report.values())
        return JSONResponse({"status": "ok" if ok else "degraded", **report}, 200 if ok else 503)

    if (FRONTEND_DIST / "index.html").exists():
        app.mount("/", StaticFiles(directory=FRONTEND_DIST, html=True), name="ui")
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def not_built() -> str:
            return "<p>The ReconWorkstation is not built yet: run <code>make install</code>.</p>"

    return app


async def _postgres(pool: AsyncConnectionPool) -> None:
    async with pool.connection(timeout=2) as conn:
        await conn.execute("SELECT 1")


async def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe, timeout=3)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"ok": False, "error": reason[:200]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


class KafkaProbe:
    """Whether the Kafka cluster answers a metadata request (cached for a few seconds)."""

    ttl = 5.0

    def __init__(self, bootstrap: str) -> None:
        outage = Outage("Kafka (health)", LIBRDKAFKA)  # /healthz reports it; no log line
        self._admin = AdminClient({**client_config(outage), "bootstrap.servers": bootstrap})
        self._at = 0.0
        self._error: str | None = None

    async def check(self) -> None:
        if time.monotonic() - self._at > self.ttl:
            self._error = await asyncio.to_thread(self._ask)
            self._at = time.monotonic()
        if self._error:
            raise ConnectionError(self._error)

    def _ask(self) -> str | None:
        try:
            self._admin.list_topics(timeout=2)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None
