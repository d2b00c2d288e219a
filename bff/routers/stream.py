"""``/api/stream``: breaks as they change, over Server-Sent Events.

Each event's id is the change's ``seq``. A client that reconnects sends it back as
``Last-Event-ID`` (EventSource does so by itself; a new EventSource can pass
``?last_event_id=``) and gets every change it missed, in order, before the live ones. A
user limited to some recons sees only theirs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from sse_starlette.sse import EventSourceResponse

from bff.deps import Reader
from bff.hub import stream_changes
from bff.routers import COMMON

router = APIRouter(prefix="/api", tags=["stream"], responses=COMMON)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    who: Reader,
    last_event_id: Annotated[str | None, Header()] = None,
    resume: Annotated[str | None, Query(alias="last_event_id")] = None,
) -> EventSourceResponse:
    given = last_event_id or resume
    since: int | None = None
    if given:
        if not given.isdigit():
            raise HTTPException(400, "Last-Event-ID must be the id of an event of this stream")
        since = int(given)
    events = stream_changes(request.app.state.hub, request.app.state.pool, since, who.recons)
    return EventSourceResponse(events, ping=15)
