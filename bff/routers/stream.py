"""``/api/stream``: breaks as they change, over Server-Sent Events (fed by Redis pub/sub)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse

from bff.sink import channel

router = APIRouter(prefix="/api", tags=["stream"])


@router.get("/stream")
async def stream(request: Request) -> EventSourceResponse:
    redis = request.app.state.redis
    prefix = request.app.state.settings.topic_prefix

    async def events() -> AsyncIterator[dict[str, str]]:
        pubsub = redis.pubsub()
        await pubsub.subscribe(channel(prefix))
        try:
            yield {"event": "ready", "data": "{}"}
            async for message in pubsub.listen():
                if message["type"] == "message":
                    yield {"event": "break", "data": message["data"].decode()}
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    return EventSourceResponse(events(), ping=15)
