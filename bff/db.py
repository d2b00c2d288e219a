"""SQL for breaks: the idempotent upsert of the sink and the queries of the API."""

from __future__ import annotations

from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

UPSERT = """
INSERT INTO breaks (break_id, recon, key, kind, missing_in, status, fields, records, cause,
                    confidence, explanation, disposition, priority, first_seen, updated_at,
                    version)
VALUES (%(break_id)s, %(recon)s, %(key)s, %(kind)s, %(missing_in)s, %(status)s, %(fields)s,
        %(records)s, %(cause)s, %(confidence)s, %(explanation)s, %(disposition)s,
        %(priority)s, %(first_seen)s, %(updated_at)s, %(version)s)
ON CONFLICT (break_id) DO UPDATE SET
    kind = EXCLUDED.kind, missing_in = EXCLUDED.missing_in, status = EXCLUDED.status,
    fields = EXCLUDED.fields, records = EXCLUDED.records, cause = EXCLUDED.cause,
    confidence = EXCLUDED.confidence, explanation = EXCLUDED.explanation,
    disposition = EXCLUDED.disposition, priority = EXCLUDED.priority,
    updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, stored_at = now()
WHERE breaks.version < EXCLUDED.version
"""

COLUMNS = """break_id, recon, key, kind, missing_in, status, fields, records, cause, confidence,
             explanation, disposition, priority, first_seen, updated_at, version"""


def upsert_breaks(conn: Connection, breaks: list[dict[str, Any]]) -> None:
    """Store breaks in one transaction; an older or equal version never overwrites a newer."""
    rows = [
        b | {k: Jsonb(b[k]) for k in ("key", "fields", "records", "explanation")} for b in breaks
    ]
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(UPSERT, rows)


def breaks_query(recon: str | None, status: str, limit: int) -> tuple[str, dict[str, Any]]:
    """The SQL listing breaks newest first, filtered by recon and status (open|resolved|all)."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if recon:
        where.append("recon = %(recon)s")
        params["recon"] = recon
    if status != "all":
        where.append("status = %(status)s")
        params["status"] = status.upper()
    query = f"SELECT {COLUMNS} FROM breaks"
    if where:
        query += " WHERE " + " AND ".join(where)
    return query + " ORDER BY updated_at DESC, break_id LIMIT %(limit)s", params


async def list_breaks(
    pool: AsyncConnectionPool, *, recon: str | None, status: str, limit: int
) -> list[dict[str, Any]]:
    query, params = breaks_query(recon, status, limit)
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def get_break(pool: AsyncConnectionPool, break_id: str) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {COLUMNS} FROM breaks WHERE break_id = %s", [break_id])
        return await cur.fetchone()
