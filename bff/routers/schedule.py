"""``/api/schedule``: the scheduler's jobs, their runs and failures; an admin asks for a run
now (the scheduler takes it within a tick, audited here)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from bff.deps import Admin, Audit, Pool, Reader, actor
from bff.routers import COMMON
from streams.store import schedule

router = APIRouter(prefix="/api/schedule", tags=["schedule"], responses=COMMON)


class RunOut(BaseModel):
    slot: datetime | None = None  # the moment it was due (or asked for)
    started_at: datetime
    finished_at: datetime | None
    status: str
    detail: str | None
    request_id: int | None = None
    requested_by: str | None


class JobOut(BaseModel):
    job: str
    kind: str
    recon: str | None
    source: str | None
    schedule: str
    next_run: datetime | None
    last_run: RunOut | None
    failures: int  # failed runs in the last day


class RequestedOut(BaseModel):
    request_id: int
    job: str
    requested_by: str
    requested_at: datetime


def _job(row: dict[str, Any]) -> JobOut:
    last = None
    if row["started_at"] is not None:
        last = RunOut(**{k: row[k] for k in RunOut.model_fields if k in row})
    return JobOut(**{k: row[k] for k in JobOut.model_fields if k != "last_run"}, last_run=last)


@router.get("", response_model=list[JobOut])
async def jobs(who: Reader, pool: Pool) -> list[JobOut]:
    """Every job the scheduler plans (of the caller's recons), with its last run."""
    return [
        _job(r) for r in await schedule.jobs(pool) if r["recon"] is None or who.sees(r["recon"])
    ]


@router.get("/runs", response_model=list[RunOut])
async def runs(
    who: Reader,
    pool: Pool,
    job: Annotated[str, Query(max_length=300)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The job's runs, newest first."""
    return await schedule.runs(pool, job, limit)


@router.post("/{job:path}/run", status_code=202, response_model=RequestedOut)
async def run_now(request: Request, job: str, who: Admin, pool: Pool, audit: Audit) -> Any:
    """Ask the scheduler to run a job now (admins); the run shows in its runs."""
    async with pool.connection() as conn, conn.transaction():
        asked = await schedule.request_run(conn, job[:300], who.name)
        said = {"request_id": asked["request_id"], "job": asked["job"]}
        await audit(conn, actor(who), "schedule.run", target=("job", job[:300]), after=said)
    return asked
