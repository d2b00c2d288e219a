"""``/api/breaks``: the stored breaks, in keyset pages (newest first), filtered; and exports
of any filtered view as CSV or XLSX."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from bff.deps import Reader, VisibleBreak
from bff.exports import CONTENT_TYPES, breaks_workbook, csv_text, export_row
from bff.models import BreakOut
from bff.render import KEYS, RENDERED
from bff.routers import COMMON
from streams.domain.workflow_rules import BUCKETS
from streams.store.breaks import (
    MAX_PAGE,
    BreakFilter,
    decode_cursor,
    encode_cursor,
    get_breaks,
    list_breaks,
)

router = APIRouter(prefix="/api/breaks", tags=["breaks"], responses=COMMON)

EXPORT_LIMIT = 200_000  # breaks one export holds at most
Status = Literal["open", "resolved", "all", "OPEN", "IN_REVIEW", "RESOLVED", "CLOSED"]
Name = Annotated[str | None, Query(max_length=200)]


def filters(
    who: Reader,
    recon: Name = None,
    status: Status = "open",
    owner: Annotated[
        str | None, Query(max_length=200, description="a user, team:<name>, me, or none")
    ] = None,
    cause: Name = None,
    kind: Name = None,
    disposition: Name = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
) -> BreakFilter:
    """The breaks a request wants: ``open`` is every break not settled yet (OPEN and
    IN_REVIEW), ``resolved`` every settled one (RESOLVED and CLOSED)."""
    return BreakFilter(
        recon=recon,
        status=status,
        owner=who.name if owner == "me" else owner,
        cause=cause,
        kind=kind,
        disposition=disposition,
        tag=tag,
        overdue=overdue,
        visible=who.recons,
    )


Filters = Annotated[BreakFilter, Depends(filters)]


@router.get("", response_model=list[BreakOut])
async def breaks(
    request: Request,
    wanted: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """A page of breaks, newest first. When there may be more, the response has a
    ``Link: <...>; rel="next"`` header (and ``X-Next-Cursor``): follow it for the next page."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise HTTPException(400, f"cursor: {exc}") from None
    pool = request.app.state.pool
    rows = await list_breaks(pool, wanted, limit, after, columns=KEYS)  # then what is not held
    held = RENDERED.held(rows)
    unheld = [r["break_id"] for r in rows if r["break_id"] not in held]
    whole = await get_breaks(pool, unheld) if unheld else {}
    headers = {}
    if len(rows) == limit:
        following = encode_cursor(rows[-1])
        url = request.url.include_query_params(cursor=following)
        headers["Link"] = f'<{url}>; rel="next"'
        headers["X-Next-Cursor"] = following
    recons, now = request.app.state.recons, datetime.now(UTC)
    rules = {name: await recons.rules(name) for name in {r["recon"] for r in rows}}
    body = RENDERED.page(rows, rules, now, held, whole)
    return Response(body, media_type="application/json", headers=headers)


async def aged(request: Request, rows: list[dict[str, Any]]) -> list[BreakOut]:
    """Breaks as the API returns them, aged now in their recons' calendars."""
    recons, now = request.app.state.recons, datetime.now(UTC)
    return [BreakOut.from_datum(r, await recons.rules(r["recon"]), now) for r in rows]


@router.get(
    "/export",
    responses={200: {"content": {t: {} for t in CONTENT_TYPES.values()}}},
    response_class=Response,
)
async def export(
    request: Request,
    wanted: Filters,
    who: Reader,
    format: Literal["csv", "xlsx"] = "csv",
    bucket: Annotated[
        Literal["0-1", "2-3", "4-7", ">7"] | None, Query(description="an ageing bucket")
    ] = None,
) -> Response:
    """The breaks of any filtered view (newest first, at most 200,000) as a file: CSV or an
    Excel workbook, one row per break with its differences."""
    assert bucket is None or bucket in BUCKETS
    rows = [export_row(b.model_dump()) async for b in _all(request, wanted, bucket)]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"breaks-{wanted.recon or 'all'}-{stamp}.{format}"
    body: bytes = csv_text(rows).encode() if format == "csv" else breaks_workbook(rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=CONTENT_TYPES[format], headers=headers)


async def _all(
    request: Request, wanted: BreakFilter, bucket: str | None
) -> AsyncIterator[BreakOut]:
    after, sent = None, 0
    while sent < EXPORT_LIMIT:
        rows = await list_breaks(request.app.state.pool, wanted, MAX_PAGE, after)
        for b in await aged(request, rows):
            if bucket is None or b.ageing_bucket == bucket:
                sent += 1
                yield b
        if len(rows) < MAX_PAGE:
            return
        after = (rows[-1]["updated_at"], rows[-1]["break_id"])


@router.get("/{break_id}", response_model=BreakOut)
async def one_break(request: Request, row: VisibleBreak) -> BreakOut:
    (out,) = await aged(request, [row])
    return out
