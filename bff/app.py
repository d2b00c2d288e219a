"""The FastAPI application: the API routes, the break sink, the change hub, the audit
shipper, metrics and the UI — with sign-in, authorisation and HTTP hardening throughout.

A dependency that goes away degrades the BFF, it does not stop it: a request that needs
PostgreSQL answers 503 with a one-line reason while it is away, the SSE stream keeps its
clients, and ``/healthz`` says which dependency is missing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis.asyncio as aioredis
from confluent_kafka.admin import AdminClient
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match, Mount
from starlette.types import Scope

from bff.actions import Sender
from bff.audit.trail import Shipper
from bff.auth import oidc
from bff.auth.bootstrap import create_first_accounts
from bff.auth.sessions import SessionStore
from bff.config import BffConfig
from bff.deps import Admin, Reader
from bff.hardening import Hardening
from bff.hub import ChangeHub
from bff.limits import BodyLimit
from bff.metrics import Timing
from bff.recons import ReconCache
from bff.routers import (
    alerts,
    audit,
    auth,
    breaks,
    labels,
    operations,
    recons,
    reports,
    schedule,
    stream,
    users,
    workflow,
)
from bff.sink import BreakSink, channel
from streams import tracing
from streams.database import migrate
from streams.kafka import LIBRDKAFKA, SafeProducer, client_config
from streams.retry import Outage, until_done
from streams.settings import NotConfigured, Settings, load_settings
from streams.topics import Topics
from streams.urls import url_user

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"
MAX_BODY = 1 << 20  # bytes a request body may have
log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, config: BffConfig | None = None, *, run_sink: bool = True
) -> FastAPI:
    settings = settings or load_settings()
    config = config or BffConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate_if_owner(settings)
        app.state.settings = settings
        app.state.config = config
        app.state.audit_key = config.audit_key.encode() if config.audit_key else None
        if app.state.audit_key is None:
            log.warning("GREENAI_AUDIT_KEY is not set: the audit chain is hashed, not keyed")
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
        prefix = settings.topic_prefix
        app.state.sessions = SessionStore(
            app.state.redis, prefix, config.session_idle, config.session_absolute
        )
        app.state.sso = oidc.provider(config, app.state.redis, prefix)
        await until_done(
            lambda: create_first_accounts(app.state.pool, config, app.state.audit_key),
            Outage("PostgreSQL (accounts)", log),
            (psycopg.OperationalError, PoolTimeout),
        )
        app.state.kafka = KafkaProbe(settings.kafka())
        app.state.recons = ReconCache(settings.database())
        app.state.sender = Sender(SafeProducer(settings.kafka()), Topics(prefix))
        app.state.hub = ChangeHub(
            app.state.redis, app.state.pool, channel(prefix), app.state.recons
        )
        app.state.hub.start()
        app.state.shipper = Shipper(
            app.state.pool, SafeProducer(settings.kafka()), Topics(prefix).name("audit")
        )
        app.state.shipper.start()
        embedded = run_sink and config.run_sink
        app.state.sink = BreakSink(settings, app.state.recons) if embedded else None
        if app.state.sink:
            app.state.sink.start()
        try:
            yield
        finally:
            if app.state.sink:
                app.state.sink.stop()
            await app.state.shipper.stop()
            await app.state.hub.stop()
            await app.state.redis.aclose()
            await app.state.pool.close()

    app = FastAPI(
        title="greenai BFF",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in users only
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY)
    app.add_middleware(
        SessionMiddleware,  # holds only the marker of a single sign-on flow in progress
        secret_key=config.secret_key or secrets.token_urlsafe(32),
        session_cookie="greenai_sso_flow",
        max_age=oidc.FLOW_SECONDS,
        same_site="lax",
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings, config))
    app.add_middleware(Hardening)
    app.add_middleware(Timing)
    if tracing.exporting():  # a span per request (the SSE stream, the actions...)
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,livez,metrics")
    routers = (
        auth,
        users,
        breaks,
        workflow,
        labels,
        audit,
        stream,
        recons,
        operations,
        alerts,
        schedule,
        reports,
    )
    for router in routers:
        app.include_router(router.router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:  # Allow: every method of the path, not one route's
            allowed = methods_at(app, request.url.path)
            return JSONResponse(
                {"detail": "Method Not Allowed"}, 405, headers={"Allow": ", ".join(allowed)}
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(psycopg.DataError)
    async def unstorable(request: Request, exc: Exception) -> JSONResponse:
        """A value PostgreSQL cannot hold (a NUL character in a text, a number out of
        range): the request's fault, said as such, not a server error."""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid value"
        log.info("%s %s refused: %s", request.method, request.url.path, reason)
        return JSONResponse({"detail": f"a value cannot be stored: {reason}"}, 422)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_away(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "PostgreSQL is unavailable; retry shortly"}, 503)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(who: Reader) -> dict[str, Any]:
        return get_openapi(title=app.title, version=app.version, routes=app.routes)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(who: Admin) -> Response:
        """Prometheus metrics (scrape with an admin API token as bearer credentials)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

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
        app.router.routes.append(Frontend(StaticFiles(directory=FRONTEND_DIST, html=True)))
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def not_built() -> str:
            return "<p>The ReconWorkstation is not built yet: run <code>make install</code>.</p>"

    return app


class Frontend(Mount):
    """The built ReconWorkstation at ``/``, for every path but the API's (so that a method
    an API route does not support is that route's 405, not the static files')."""

    NOT_MINE = ("/api/", "/openapi.json", "/metrics", "/healthz", "/livez")

    def __init__(self, files: StaticFiles) -> None:
        super().__init__("/", app=files, name="ui")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get("path", "").startswith(self.NOT_MINE):
            return Match.NONE, {}
        return super().matches(scope)


def methods_at(app: FastAPI, path: str) -> list[str]:
    """The methods the API's routes serve at ``path`` (HEAD goes without saying)."""
    found: set[str] = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            found |= (route.methods or set()) - {"HEAD"}
    return sorted(found)


def allowed_hosts(settings: Settings, config: BffConfig) -> list[str]:
    """The Host headers answered: the configured ones and the address the BFF listens on."""
    hosts = list(config.allowed_hosts)
    if settings.bff_host not in ("0.0.0.0", "::", "") and settings.bff_host not in hosts:
        hosts.append(settings.bff_host)
    return hosts


async def migrate_if_owner(settings: Settings) -> None:
    """Apply the migrations when this BFF is given the owner role (else whoever deploys it
    runs them: ``greenai up`` does, before it starts the BFF)."""
    try:
        owner = settings.database_owner()
    except NotConfigured:
        return
    app_role = url_user(settings.database())
    await until_done(
        lambda: asyncio.to_thread(migrate, owner, app_role),
        Outage("PostgreSQL (migrations)", log),
        (psycopg.OperationalError,),
    )


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
