"""``/api/audit``: the trail itself (admins and approvers), a break's own trail (whoever
sees the break), exports as CSV and JSON Lines, and the verification of the hash chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from bff.audit.chain import ChainCheck, Sealed
from bff.deps import Auditor, Pool, Reader
from bff.routers import COMMON, Instant
from bff.store import audit
from streams.store.breaks import get_break

router = APIRouter(tags=["audit"], responses=COMMON)
PAGE = 500
EXPORT_COLUMNS = [
    "seq", "at", "actor", "actor_kind", "action", "target_type", "target_id", "recon",
    "before", "after", "ip", "user_agent", "request_id", "prev_hash", "hash",
]  # fmt: skip


class EntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    target_type: str
    target_id: str
    recon: str | None
    before: Any
    after: Any
    ip: str
    user_agent: str
    request_id: str
    prev_hash: str
    hash: str


class Verified(BaseModel):
    intact: bool
    entries: int
    shipped: int
    problem: str | None


def _filters(
    who: Any,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    recon: str | None,
    break_id: str | None,
) -> audit.Filters:
    return audit.Filters(since, until, actor, recon, break_id, who.recons)


Text = Annotated[str | None, Query(max_length=200)]


@router.get("/api/audit", response_model=list[EntryOut])
async def entries(
    who: Auditor,
    pool: Pool,
    since: Instant | None = None,
    until: Instant | None = None,
    actor: Text = None,
    recon: Text = None,
    break_id: Text = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = PAGE,
) -> list[dict[str, Any]]:
    """Entries in ``seq`` order after ``after``, filtered by time, user, recon or break."""
    filters = _filters(who, since, until, actor, recon, break_id)
    async with pool.connection() as conn:
        return [s._asdict() for s in await audit.page(conn, filters, after, limit)]


@router.get(
    "/api/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the trail, as a download",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def export(
    who: Auditor,
    pool: Pool,
    format: Literal["csv", "jsonl"] = "csv",
    since: Instant | None = None,
    until: Instant | None = None,
    actor: Text = None,
    recon: Text = None,
    break_id: Text = None,
) -> StreamingResponse:
    """The filtered trail as a CSV or JSON Lines download (streamed: any size)."""
    filters = _filters(who, since, until, actor, recon, break_id)
    body = _export(pool, filters, format)
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"greenai-audit.{format}"
    return StreamingResponse(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def _export(pool: Any, filters: audit.Filters, format: str) -> AsyncIterator[str]:
    if format == "csv":
        yield _csv_line(EXPORT_COLUMNS)
    after = 0
    while True:
        async with pool.connection() as conn:
            batch = await audit.page(conn, filters, after, PAGE)
        for sealed in batch:
            yield _csv_line(_cells(sealed)) if format == "csv" else _json_line(sealed)
        if len(batch) < PAGE:
            return
        after = batch[-1].seq


def _cells(sealed: Sealed) -> list[Any]:
    return [
        audit.as_text(v) if name in ("before", "after") else (v.isoformat() if name == "at" else v)
        for name, v in zip(EXPORT_COLUMNS, sealed, strict=True)
    ]


def _csv_line(cells: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _json_line(sealed: Sealed) -> str:
    return json.dumps(audit.as_json(sealed), ensure_ascii=False) + "\n"


@router.get("/api/audit/verify", response_model=Verified)
async def verify_trail(request: Request, who: Auditor, pool: Pool) -> Verified:
    """Walk the whole chain; name the first entry altered, missing or inserted. The last
    entries are held against how far the trail was shipped to Kafka, so deleting the
    newest entries is seen too."""
    if who.recons is not None:
        raise HTTPException(403, "verifying the trail needs access to every recon")
    check = ChainCheck(request.app.state.audit_key)
    problem: str | None = None
    last = 0
    async with pool.connection() as conn:
        async for sealed in audit.everything(conn):
            problem = check.step(sealed)
            if problem:
                break
            last = sealed.seq
        shipped = await audit.shipped(conn)
    if problem is None and shipped > last:
        problem = f"entry {last + 1} is missing (entries up to {shipped} were shipped to Kafka)"
    return Verified(intact=problem is None, entries=check.entries, shipped=shipped, problem=problem)


@router.get("/api/breaks/{break_id}/audit", response_model=list[EntryOut], tags=["breaks"])
async def break_trail(break_id: str, who: Reader, pool: Pool) -> list[dict[str, Any]]:
    """Who did what to one break."""
    found = await get_break(pool, break_id)
    if found is None or not who.sees(found["recon"]):
        raise HTTPException(404, f"no break {break_id}")
    filters = audit.Filters(break_id=break_id)
    async with pool.connection() as conn:
        return [s._asdict() for s in await audit.page(conn, filters, 0, PAGE)]
