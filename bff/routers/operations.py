"""Running the pipeline: how far it is (``greenai wait``), replaying a recon's history, and
the attribution model's versions and rollback. Replay and rollback are for admins and are
audited."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from confluent_kafka import KafkaException
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from bff.deps import Admin, Audit, Pool, Reader, actor
from bff.routers import COMMON, Instant
from streams.attribution import versions
from streams.database import load_recon
from streams.feedback import rollback_event
from streams.progress import measure
from streams.replay import replay
from streams.topics import Topics

router = APIRouter(tags=["operations"], responses=COMMON)
Reason = Annotated[str, Field(max_length=2000)]


class ProgressOut(BaseModel):
    diff_lag: int
    attribution_lag: int
    sink_lag: int
    open_windows: int
    unreported_partitions: int
    settled: bool


class ReplayIn(BaseModel):
    recon: str = Field(max_length=200)
    since: Instant = Field(alias="from")


class Replayed(BaseModel):
    recon: str
    since: datetime = Field(serialization_alias="from")
    replayed: int


class RollbackIn(BaseModel):
    version: int = Field(ge=1)
    reason: Reason | None = None


@router.get("/api/progress", response_model=ProgressOut)
async def progress(request: Request, who: Reader, windows: bool = True) -> dict[str, Any]:
    """Lag of every stage and the match windows still open: settled when all are zero."""
    settings = request.app.state.settings
    try:
        found = await asyncio.to_thread(measure, settings, count_windows=windows)
    except (KafkaException, RedisError, OSError) as exc:  # a wait asks again
        raise HTTPException(503, f"cannot measure the progress now: {exc}") from None
    return found.as_dict()


@router.post("/api/replay", response_model=Replayed)
async def replay_history(
    body: ReplayIn, request: Request, who: Admin, pool: Pool, audit: Audit
) -> Replayed:
    """Publish the recon's records since ``from`` again: the diff re-evaluates them under
    the recon's current definition, without duplicating a break."""
    settings = request.app.state.settings
    try:
        recon = await asyncio.to_thread(load_recon, settings.database(), body.recon)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    since = body.since if body.since.tzinfo else body.since.astimezone()
    topic = Topics(settings.topic_prefix).records
    count = await asyncio.to_thread(replay, settings.kafka(), topic, recon.name, since)
    async with pool.connection() as conn, conn.transaction():
        await audit(
            conn,
            actor(who),
            "replay.run",
            target=("recon", recon.name),
            recon=recon.name,
            after={"from": since.isoformat(), "replayed": count},
        )
    return Replayed(recon=recon.name, since=since, replayed=count)


@router.get("/api/model/versions")
async def model_versions(request: Request, who: Reader, limit: int = 50) -> list[dict[str, Any]]:
    """The attribution model's stored versions, newest first (without their state)."""
    url = request.app.state.settings.database()
    return await asyncio.to_thread(versions.listing, url, min(max(limit, 1), 500))


@router.post("/api/model/rollback", status_code=202)
async def rollback(
    body: RollbackIn, request: Request, who: Admin, pool: Pool, audit: Audit
) -> dict[str, int]:
    """Return every attribution worker's model to a stored version (in feedback order)."""
    url = request.app.state.settings.database()
    if not await asyncio.to_thread(versions.exists, url, body.version):
        raise HTTPException(404, f"no model version {body.version} (see `greenai model versions`)")
    event = rollback_event(body.version, analyst=who.name, origin="api", reason=body.reason)
    async with pool.connection() as conn, conn.transaction():  # the entry once Kafka has it
        await audit(
            conn,
            actor(who),
            "model.rollback",
            target=("model", str(body.version)),
            after={"version": body.version, "reason": body.reason},
        )
        await request.app.state.sender.feedback(event)
    return {"version": body.version}
