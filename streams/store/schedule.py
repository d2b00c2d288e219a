"""SQL for the scheduler's tables. ``schedule_jobs``, ``schedule_runs``, ``eod_snapshots``
and ``ageing_snapshots`` have one writer, the scheduler; ``schedule_requests`` one, the BFF
(a person asking for a run). Several scheduler replicas are safe: a job runs under a
PostgreSQL advisory lock, and a (job, slot) runs once (``schedule_runs`` is unique on it).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

LOCK_SPACE = 4244  # advisory locks of jobs: (LOCK_SPACE, hashtext(job))


async def plan_jobs(conn: AsyncConnection[Any], jobs: list[dict[str, Any]]) -> None:
    """Make ``schedule_jobs`` the jobs planned now (their next run included)."""
    async with conn.transaction(), conn.cursor() as cur:
        await cur.executemany(
            """
            INSERT INTO schedule_jobs (job, kind, recon, source, schedule, next_run, planned_at)
            VALUES (%(job)s, %(kind)s, %(recon)s, %(source)s, %(schedule)s, %(next_run)s, now())
            ON CONFLICT (job) DO UPDATE SET kind = EXCLUDED.kind, recon = EXCLUDED.recon,
                source = EXCLUDED.source, schedule = EXCLUDED.schedule,
                next_run = EXCLUDED.next_run, planned_at = now()
            """,
            jobs,
        )
        await cur.execute(
            "DELETE FROM schedule_jobs WHERE NOT job = ANY(%s)", [[j["job"] for j in jobs]]
        )


async def try_lock(conn: AsyncConnection[Any], job: str) -> bool:
    """The job's advisory lock for this session (False: another replica runs it now)."""
    cur = await conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_SPACE, job])
    row = await cur.fetchone()
    return bool(row and row[0])


async def unlock(conn: AsyncConnection[Any], job: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_SPACE, job])


async def claim_run(
    conn: AsyncConnection[Any],
    job: str,
    slot: datetime,
    worker: str,
    started_at: datetime,
    request: dict[str, Any] | None = None,
) -> int | None:
    """Record the run of ``job`` for ``slot`` as RUNNING; None if that slot ran already."""
    cur = await conn.execute(
        """
        INSERT INTO schedule_runs (job, slot, request_id, requested_by, worker, started_at,
                                   status)
        VALUES (%s, %s, %s, %s, %s, %s, 'RUNNING')
        ON CONFLICT DO NOTHING RETURNING run_id
        """,
        [
            job,
            slot,
            request["request_id"] if request else None,
            request["requested_by"] if request else None,
            worker,
            started_at,
        ],
    )
    row = await cur.fetchone()
    return int(row[0]) if row else None


async def finish_run(
    conn: AsyncConnection[Any], run_id: int, ok: bool, detail: str, finished_at: datetime
) -> None:
    await conn.execute(
        "UPDATE schedule_runs SET status = %s, detail = %s, finished_at = %s WHERE run_id = %s",
        ["OK" if ok else "FAILED", detail[:2000], finished_at, run_id],
    )


async def last_ok_slot(conn: AsyncConnection[Any], job: str) -> datetime | None:
    cur = await conn.execute(
        "SELECT max(slot) FROM schedule_runs WHERE job = %s AND status = 'OK'"
        " AND request_id IS NULL",
        [job],
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def last_slot(conn: AsyncConnection[Any], job: str) -> datetime | None:
    """The newest slot this job was run (or tried) for on schedule."""
    cur = await conn.execute(
        "SELECT max(slot) FROM schedule_runs WHERE job = %s AND request_id IS NULL", [job]
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def pending_requests(conn: AsyncConnection[Any]) -> list[dict[str, Any]]:
    """Runs asked for and not run yet, oldest first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT q.request_id, q.job, q.requested_by, q.requested_at
              FROM schedule_requests q
             WHERE NOT EXISTS (SELECT 1 FROM schedule_runs r WHERE r.request_id = q.request_id)
             ORDER BY q.request_id
            """
        )
        return await cur.fetchall()


async def request_run(conn: AsyncConnection[Any], job: str, by: str) -> dict[str, Any]:
    """Ask the scheduler to run ``job`` now (the BFF; the caller commits)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "INSERT INTO schedule_requests (job, requested_by) VALUES (%s, %s)"
            " RETURNING request_id, job, requested_by, requested_at",
            [job, by],
        )
        row = await cur.fetchone()
        assert row is not None
        return row


async def jobs(pool: AsyncConnectionPool) -> list[dict[str, Any]]:
    """Every planned job with its last run and its failures in the last day."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            """
            SELECT j.job, j.kind, j.recon, j.source, j.schedule, j.next_run,
                   l.started_at, l.finished_at, l.status, l.detail, l.request_id,
                   l.requested_by,
                   (SELECT count(*) FROM schedule_runs f WHERE f.job = j.job
                       AND f.status = 'FAILED' AND f.started_at > now() - interval '1 day')
                       AS failures
              FROM schedule_jobs j
              LEFT JOIN LATERAL (SELECT * FROM schedule_runs r WHERE r.job = j.job
                                 ORDER BY r.run_id DESC LIMIT 1) l ON true
             ORDER BY j.kind, j.job
            """
        )
        return await cur.fetchall()


async def runs(pool: AsyncConnectionPool, job: str, limit: int = 50) -> list[dict[str, Any]]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT job, slot, started_at, finished_at, status, detail, request_id,"
            " requested_by, worker FROM schedule_runs WHERE job = %s"
            " ORDER BY run_id DESC LIMIT %s",
            [job, limit],
        )
        return await cur.fetchall()


async def save_eod(
    conn: AsyncConnection[Any],
    recon: str,
    business_date: date,
    taken_at: datetime,
    summary: dict[str, Any],
    open_breaks: list[dict[str, Any]],
) -> None:
    await conn.execute(
        """
        INSERT INTO eod_snapshots (recon, business_date, taken_at, summary, open_breaks)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (recon, business_date) DO UPDATE SET taken_at = EXCLUDED.taken_at,
            summary = EXCLUDED.summary, open_breaks = EXCLUDED.open_breaks
        """,
        [
            recon,
            business_date,
            taken_at,
            json.dumps(summary, default=str),
            json.dumps(open_breaks, default=str),
        ],
    )


async def eod_snapshot(
    pool: AsyncConnectionPool, recon: str, business_date: date
) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT recon, business_date, taken_at, summary, open_breaks FROM eod_snapshots"
            " WHERE recon = %s AND business_date = %s",
            [recon, business_date],
        )
        return await cur.fetchone()


async def save_ageing(
    conn: AsyncConnection[Any], recon: str, taken_at: datetime, ageing: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO ageing_snapshots (recon, taken_at, total, overdue, by_bucket)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [recon, taken_at, ageing["total"], ageing["overdue"], json.dumps(ageing["by_bucket"])],
    )


async def ageing_history(
    pool: AsyncConnectionPool, recon: str, since: datetime
) -> list[dict[str, Any]]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT taken_at, total, overdue, by_bucket FROM ageing_snapshots"
            " WHERE recon = %s AND taken_at >= %s ORDER BY taken_at",
            [recon, since],
        )
        return await cur.fetchall()


async def prune(
    conn: AsyncConnection[Any], snapshots_before: datetime, runs_before: datetime
) -> dict[str, int]:
    """Forget end-of-day and ageing snapshots, and runs, older than the retention."""
    counts = {}
    for table, column, before in (
        ("eod_snapshots", "taken_at", snapshots_before),
        ("ageing_snapshots", "taken_at", snapshots_before),
        ("schedule_runs", "started_at", runs_before),
    ):
        cur = await conn.execute(
            f"DELETE FROM {table} WHERE {column} < %s AND "
            + ("status <> 'RUNNING'" if table == "schedule_runs" else "true"),
            [before],
        )
        counts[table] = cur.rowcount
    return counts
