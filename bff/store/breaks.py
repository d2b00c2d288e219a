"""SQL for breaks: the sink's idempotent upsert, the API's keyset pages and the change feed.

The sink is the one writer of ``breaks``. Every stored change takes the next ``seq`` of
the ``break_changes`` sequence: the SSE event id, so a client that reconnects gets exactly
the changes it missed (:func:`changes_since`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection, sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

COLUMNS = (
    "break_id",
    "recon",
    "key",
    "kind",
    "missing_in",
    "status",
    "fields",
    "records",
    "cause",
    "confidence",
    "explanation",
    "disposition",
    "priority",
    "first_seen",
    "updated_at",
    "version",
)
JSON_COLUMNS = ("key", "fields", "records", "explanation")
SELECTED = ", ".join((*COLUMNS, "seq"))
MAX_PAGE = 1000
SINK_LOCK = 4243  # advisory lock serialising the sink's transactions
STATUSES = {"open": ("OPEN", "IN_REVIEW"), "resolved": ("RESOLVED", "CLOSED")}

STAGE = """
CREATE TEMP TABLE IF NOT EXISTS breaks_batch
    (LIKE breaks INCLUDING DEFAULTS EXCLUDING CONSTRAINTS) ON COMMIT DELETE ROWS
"""
_LIST = ", ".join(COLUMNS)
_UPDATE = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c not in ("break_id", "first_seen"))
MOVE = f"""
INSERT INTO breaks ({_LIST}) SELECT {_LIST} FROM breaks_batch
ON CONFLICT (break_id) DO UPDATE SET {_UPDATE}, stored_at = now(),
    seq = nextval('break_changes')
WHERE breaks.version < EXCLUDED.version
RETURNING break_id, version, seq
"""


@dataclass(frozen=True)
class StoredChange:
    break_id: str
    version: int
    seq: int


def newest_versions(breaks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One datum per break, its highest version (a batch may carry several)."""
    newest: dict[str, dict[str, Any]] = {}
    for b in breaks:
        held = newest.get(b["break_id"])
        if held is None or b["version"] > held["version"]:
            newest[b["break_id"]] = b
    return list(newest.values())


def store_breaks(conn: Connection[Any], breaks: list[dict[str, Any]]) -> list[StoredChange]:
    """Store breaks in one transaction and one round trip of rows (COPY into a staging table,
    then one upsert); an older or equal version never overwrites a newer one. Returns the
    changes actually stored, with their ``seq``."""
    with conn.transaction(), conn.cursor() as cur:
        # one sink transaction at a time, across replicas: seq order is commit order, so a
        # reader that has seen seq N has seen every change before it
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [SINK_LOCK])
        cur.execute(STAGE)
        with cur.copy(f"COPY breaks_batch ({_LIST}) FROM STDIN") as copy:
            for b in newest_versions(breaks):
                copy.write_row([json.dumps(b[c]) if c in JSON_COLUMNS else b[c] for c in COLUMNS])
        cur.execute(MOVE)
        changes = [StoredChange(r[0], int(r[1]), int(r[2])) for r in cur.fetchall()]
        return sorted(changes, key=lambda c: c.seq)


# --- reading ------------------------------------------------------------------------------


def encode_cursor(row: dict[str, Any]) -> str:
    """The position after ``row`` in the newest-first order (opaque to clients)."""
    raw = json.dumps([row["updated_at"].isoformat(), row["break_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """ValueError (one line) for a cursor this API did not hand out."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, break_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), str(break_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor this API handed out") from exc


def page_query(
    recon: str | None,
    status: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
    visible: list[str] | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """One keyset page of breaks, newest first (``updated_at``, then ``break_id``), of the
    ``visible`` recons only (None: every recon)."""
    where: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": min(limit, MAX_PAGE)}
    if recon:
        where.append(sql.SQL("recon = %(recon)s"))
        params["recon"] = recon
    if visible is not None:
        where.append(sql.SQL("recon = ANY(%(visible)s)"))
        params["visible"] = visible
    if status in STATUSES:
        where.append(sql.SQL("status = ANY(%(statuses)s)"))
        params["statuses"] = list(STATUSES[status])
    if after is not None:
        where.append(sql.SQL("(updated_at, break_id) < (%(at)s, %(after)s)"))
        params["at"], params["after"] = after
    query = sql.SQL("SELECT {} FROM breaks").format(sql.SQL(SELECTED))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    # updated_at DESC, break_id DESC keeps the row comparison above a single index range
    query += sql.SQL(" ORDER BY updated_at DESC, break_id DESC LIMIT %(limit)s")
    return query, params


async def list_breaks(
    pool: AsyncConnectionPool,
    *,
    recon: str | None,
    status: str,
    limit: int,
    after: tuple[datetime, str] | None = None,
    visible: list[str] | None = None,
) -> list[dict[str, Any]]:
    query, params = page_query(recon, status, limit, after, visible)
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def get_break(pool: AsyncConnectionPool, break_id: str) -> dict[str, Any] | None:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {SELECTED} FROM breaks WHERE break_id = %s", [break_id])
        return await cur.fetchone()


async def changes_since(pool: AsyncConnectionPool, seq: int, limit: int) -> list[dict[str, Any]]:
    """Stored changes after ``seq``, oldest first (the SSE catch-up)."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {SELECTED} FROM breaks WHERE seq > %s ORDER BY seq LIMIT %s", [seq, limit]
        )
        return await cur.fetchall()


async def last_seq(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT coalesce(max(seq), 0) FROM breaks")
        row = await cur.fetchone()
        return int(row[0]) if row else 0
