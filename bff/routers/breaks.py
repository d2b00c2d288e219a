"""``/api/breaks``: the stored breaks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from bff.db import get_break, list_breaks
from bff.models import BreakOut

router = APIRouter(prefix="/api/breaks", tags=["breaks"])


@router.get("", response_model=list[BreakOut])
async def breaks(
    request: Request,
    recon: str | None = None,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> list[BreakOut]:
    rows = await list_breaks(request.app.state.pool, recon=recon, status=status, limit=limit)
    return [BreakOut.from_datum(r) for r in rows]


@router.get("/{break_id}", response_model=BreakOut)
async def one_break(request: Request, break_id: str) -> BreakOut:
    row = await get_break(request.app.state.pool, break_id)
    if row is None:
        raise HTTPException(404, f"no break {break_id}")
    return BreakOut.from_datum(row)
