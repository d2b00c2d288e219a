"""``/api/recons``: the reconciliation definitions (read by whoever sees the recon, applied
by admins; a change the running state cannot absorb is refused, every apply is audited)."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ValidationError

from bff.deps import Admin, Audit, Pool, Reader, actor
from bff.routers import COMMON, problems
from streams import reports
from streams.database import SAVE_RECON, load_recons
from streams.recon import Recon
from streams.recon_changes import refusals

router = APIRouter(prefix="/api/recons", tags=["recons"], responses=COMMON)


class ReconOut(BaseModel):
    name: str
    version: int
    definition: dict[str, Any]


class Applied(BaseModel):
    name: str
    version: int
    sources: list[str]


async def _all(request: Request) -> dict[str, tuple[int, Recon]]:
    return await asyncio.to_thread(load_recons, request.app.state.settings.database())


@router.get("", response_model=list[ReconOut])
async def recons(request: Request, who: Reader) -> list[ReconOut]:
    found = await _all(request)
    return [
        ReconOut(name=name, version=version, definition=recon.model_dump(mode="json"))
        for name, (version, recon) in sorted(found.items())
        if who.sees(name)
    ]


@router.get("/{name}", response_model=ReconOut)
async def one_recon(name: str, request: Request, who: Reader) -> ReconOut:
    found = (await _all(request)).get(name)
    if found is None or not who.sees(name):
        raise HTTPException(404, f"no recon named {name!r}")
    return ReconOut(name=name, version=found[0], definition=found[1].model_dump(mode="json"))


@router.put("/{name}", response_model=Applied, responses=problems(409))
async def apply_recon(
    name: str, definition: dict[str, Any], request: Request, who: Admin, pool: Pool, audit: Audit
) -> Applied:
    """Register a recon or change it (the body: the definition, as the YAML's JSON)."""
    try:
        recon = Recon.model_validate(definition)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(400, f"{where}: {first['msg']}") from None
    if recon.name != name:
        raise HTTPException(400, f"the definition is named {recon.name!r}, not {name!r}")
    settings = request.app.state.settings
    held = (await _all(request)).get(name)
    if held is not None:
        problems = refusals(held[1], recon, await asyncio.to_thread(_holdings, settings, name))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise HTTPException(409, f"refused: {problems[0]}{more}")
    async with pool.connection() as conn, conn.transaction():  # the change and its entry
        cursor = await conn.execute(SAVE_RECON, {"name": recon.name, "definition": recon.to_json()})
        row = await cursor.fetchone()
        assert row is not None  # the statement always returns the version
        version = int(row[0])
        if held is None or held[0] != version:
            await audit(
                conn,
                actor(who),
                "recon.apply",
                target=("recon", name),
                recon=name,
                before=held[1].model_dump(mode="json") if held else None,
                after=recon.model_dump(mode="json") | {"version": version},
            )
    return Applied(name=name, version=version, sources=recon.source_names)


def _holdings(settings: Any, recon: str) -> dict[str, int] | None:
    try:
        with redis.Redis.from_url(settings.redis(), socket_timeout=5) as client:
            return reports.holdings(client, settings.topic_prefix, recon)
    except redis.RedisError:
        return None
