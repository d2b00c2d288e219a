"""The FastAPI application: API routes, the break sink, metrics and the built frontend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import make_asgi_app
from psycopg_pool import AsyncConnectionPool

from bff.routers import breaks, labels, stream
from bff.sink import BreakSink
from streams.database import migrate
from streams.settings import Settings, load_settings

FRONTEND_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def create_app(settings: Settings | None = None, *, run_sink: bool = True) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings.database())
        app.state.settings = settings
        app.state.pool = AsyncConnectionPool(
            settings.database(), min_size=1, max_size=8, open=False
        )
        await app.state.pool.open()
        app.state.redis = aioredis.from_url(settings.redis())
        sink = BreakSink(settings) if run_sink else None
        if sink:
            sink.start()
        try:
            yield
        finally:
            if sink:
                sink.stop()
            await app.state.redis.aclose()
            await app.state.pool.close()

    app = FastAPI(title="greenai BFF", version="0.1.0", lifespan=lifespan)
    app.include_router(breaks.router)
    app.include_router(stream.router)
    app.include_router(labels.router)
    app.mount("/metrics", make_asgi_app())

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        async with app.state.pool.connection() as conn:
            await conn.execute("SELECT 1")
        await app.state.redis.ping()
        return {"status": "ok"}

    if (FRONTEND_DIST / "index.html").exists():
        app.mount("/", StaticFiles(directory=FRONTEND_DIST, html=True), name="ui")
    else:

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        async def not_built() -> str:
            return "<p>The ReconWorkstation is not built yet: run <code>make install</code>.</p>"

    return app
