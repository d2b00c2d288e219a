"""``/api/stats`` and ``/api/reports``: per recon and day, records seen and matched, breaks
opened, resolved and closed, match and auto-close rates, time to settle and ageing; and each
recon's end-of-day report as a workbook."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from bff.deps import Pool, Reader
from bff.exports import CONTENT_TYPES, eod_workbook
from bff.routers import COMMON
from streams.stats import ageing, recon_stats
from streams.store import schedule
from streams.store.breaks import BreakFilter, all_breaks

router = APIRouter(prefix="/api", tags=["reports"], responses=COMMON)


@router.get("/stats")
async def stats(
    request: Request,
    who: Reader,
    pool: Pool,
    recon: Annotated[str | None, Query(max_length=200)] = None,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
) -> dict[str, Any]:
    """Each recon's last ``days`` business-calendar days (today included, in the recon's
    time zone), its open breaks' ageing now, and its ageing over those days."""
    recons = await request.app.state.recons.all()
    wanted = [r for name, r in sorted(recons.items()) if who.sees(name)]
    if recon is not None:
        wanted = [r for r in wanted if r.name == recon]
        if not wanted:
            raise HTTPException(404, f"no recon named {recon!r}")
    now = datetime.now(UTC)
    out = []
    for r in wanted:
        found = await recon_stats(pool, r, days, now)
        trend = await schedule.ageing_history(pool, r.name, now - timedelta(days=days))
        out.append(found | {"ageing_trend": trend})
    return {"recons": out}


@router.get(
    "/reports/eod",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPES["xlsx"]: {}}}, 404: {"description": "none"}},
)
async def end_of_day(
    request: Request,
    who: Reader,
    pool: Pool,
    recon: Annotated[str, Query(max_length=200)],
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    """The recon's end-of-day report (XLSX) as its cut-off snapshot kept it; today's, before
    the cut-off, is live."""
    found = await request.app.state.recons.get(recon)
    if found is None or not who.sees(recon):
        raise HTTPException(404, f"no recon named {recon!r}")
    now = datetime.now(UTC)
    day = day or found.rules.local_day(now)
    kept = await schedule.eod_snapshot(pool, recon, day)
    if kept is not None:
        body = eod_workbook(
            recon, day.isoformat(), kept["taken_at"], kept["summary"], kept["open_breaks"]
        )
    elif day == found.rules.local_day(now):
        live = await recon_stats(pool, found, 1, now)
        rows = await all_breaks(pool, BreakFilter(recon=recon, status="open"))
        summary = {"day": live["days"][-1], "open": ageing(rows, found.rules, now)}
        body = eod_workbook(recon, day.isoformat(), None, summary, rows)
    else:
        raise HTTPException(404, f"no end-of-day snapshot of {recon} for {day} (no cut-off ran)")
    name = f"eod-{recon}-{day.isoformat()}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=CONTENT_TYPES["xlsx"], headers=headers)
