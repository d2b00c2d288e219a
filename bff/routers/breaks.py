"""``/api/breaks``: the stored breaks, in keyset pages (newest first)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from bff.deps import Reader, VisibleBreak
from bff.models import BreakOut
from bff.routers import COMMON
from bff.store.breaks import MAX_PAGE, decode_cursor, encode_cursor, list_breaks

router = APIRouter(prefix="/api/breaks", tags=["breaks"], responses=COMMON)


@router.get("", response_model=list[BreakOut])
async def breaks(
    request: Request,
    response: Response,
    who: Reader,
    recon: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> list[BreakOut]:
    """A page of breaks, newest first. When there may be more, the response has a
    ``Link: <...>; rel="next"`` header (and ``X-Next-Cursor``): follow it for the next page.
    ``open`` is every break not settled yet, ``resolved`` every settled one."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise HTTPException(400, f"cursor: {exc}") from None
    rows = await list_breaks(
        request.app.state.pool,
        recon=recon,
        status=status,
        limit=limit,
        after=after,
        visible=who.recons,
    )
    if len(rows) == limit:
        following = encode_cursor(rows[-1])
        url = request.url.include_query_params(cursor=following)
        response.headers["Link"] = f'<{url}>; rel="next"'
        response.headers["X-Next-Cursor"] = following
    recons = request.app.state.recons
    return [BreakOut.from_datum(r, await recons.rules(r["recon"])) for r in rows]


@router.get("/{break_id}", response_model=BreakOut)
async def one_break(request: Request, row: VisibleBreak) -> BreakOut:
    return BreakOut.from_datum(row, await request.app.state.recons.rules(row["recon"]))
