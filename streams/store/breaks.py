"""SQL for ``breaks`` and ``break_history`` (one writer: the BFF's sink): the sink's
idempotent upsert and history, the API's keyset pages, the change feed, and what statistics,
exports and the scheduler read.

The sink is the one writer of ``breaks`` and ``break_history``. A break's changes are ordered
by (version, revision): the data's changes, then the workflow's within them; an older or
equal change never overwrites a newer one. Every stored change takes the next ``seq`` of the
``break_changes`` sequence: the SSE event id, so a client that reconnects gets exactly the
changes it missed (:func:`changes_since`). Every change of a batch, not only a break's newest,
is a row of ``break_history`` (a comment and the close after it may come in one batch).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from psycopg import AsyncConnection, AsyncCursor, Connection, sql
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads
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
    "revision",
    "owner",
    "tags",
    "close_reason",
    "close_note",
    "closed_by",
    "closed_at",
    "approved_by",
    "written_off",
    "keep_open",
    "proposal",
    "analyst_cause",
    "analyst_disposition",
    "activity",
    "materiality",
    "due",
)
JSON_COLUMNS = (
    "key",
    "fields",
    "records",
    "explanation",
    "proposal",
    "analyst_cause",
    "analyst_disposition",
    "activity",
)
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
WHERE (breaks.version, breaks.revision) < (EXCLUDED.version, EXCLUDED.revision)
RETURNING break_id, version, seq
"""
HISTORY_COLUMNS = (
    "break_id",
    "version",
    "revision",
    "recon",
    "status",
    "owner",
    "cause",
    "disposition",
    "close_reason",
    "action",
    "by",
    "command_id",
    "text",
    "reason",
    "note",
    "assignee",
    "at",
)
_HISTORY = ", ".join(HISTORY_COLUMNS)
STAGE_HISTORY = """
CREATE TEMP TABLE IF NOT EXISTS history_batch
    (LIKE break_history INCLUDING DEFAULTS EXCLUDING CONSTRAINTS) ON COMMIT DELETE ROWS
"""
MOVE_HISTORY = f"""
INSERT INTO break_history ({_HISTORY}) SELECT {_HISTORY} FROM history_batch
ON CONFLICT (break_id, version, revision) DO NOTHING
"""


@dataclass(frozen=True)
class StoredChange:
    break_id: str
    version: int
    seq: int


def change_of(b: dict[str, Any]) -> tuple[int, int]:
    """Where a break datum stands among its changes: (version, revision)."""
    return b["version"], b.get("revision") or 0


def newest_versions(breaks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One datum per break, its newest change (a batch may carry several)."""
    newest: dict[str, dict[str, Any]] = {}
    for b in breaks:
        held = newest.get(b["break_id"])
        if held is None or change_of(b) > change_of(held):
            newest[b["break_id"]] = b
    return list(newest.values())


def history_row(b: dict[str, Any]) -> tuple[Any, ...]:
    """A break datum's row of ``break_history``: the change and, for a person's (or the
    scheduler's) action, who did what."""
    a = b.get("activity") or {}
    return (
        b["break_id"],
        b["version"],
        b.get("revision") or 0,
        b["recon"],
        b["status"],
        b.get("owner"),
        b.get("cause"),
        b.get("disposition"),
        b.get("close_reason"),
        a.get("action"),
        a.get("by"),
        a.get("command_id"),
        a.get("text"),
        a.get("reason"),
        a.get("note"),
        a.get("to"),
        a.get("at") or b["updated_at"],
    )


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _cell(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value, default=_json_default)
    return value


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
                copy.write_row([_cell(c, b.get(c)) for c in COLUMNS])
        cur.execute(MOVE)
        changes = [StoredChange(r[0], int(r[1]), int(r[2])) for r in cur.fetchall()]
        cur.execute(STAGE_HISTORY)
        with cur.copy(f"COPY history_batch ({_HISTORY}) FROM STDIN") as copy:
            for b in breaks:
                copy.write_row(history_row(b))
        cur.execute(MOVE_HISTORY)
        return sorted(changes, key=lambda c: c.seq)


# --- reading ------------------------------------------------------------------------------


def _json(data: bytes | str) -> Any:
    """A jsonb value as Python: msgspec's decoder, a third of the standard library's time
    (the JSON columns were most of the time a page of breaks took to read); the standard
    library for the one thing msgspec refuses and PostgreSQL can hold, a number beyond a
    double."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)


def _rows(conn: AsyncConnection[Any]) -> AsyncCursor[dict[str, Any]]:
    """A cursor of whole breaks: rows as dicts, jsonb read by :func:`_json`."""
    cur = conn.cursor(row_factory=dict_row)
    set_json_loads(_json, cur)
    return cur


async def _all(pool: AsyncConnectionPool, sql: str, params: Any) -> list[dict[str, Any]]:
    """Every row of one query, as dicts."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


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


@dataclass(frozen=True)
class BreakFilter:
    """Which breaks a list or an export wants (None: any). ``status`` is open (OPEN and
    IN_REVIEW), resolved (RESOLVED and CLOSED), all, or one status; ``owner`` a user,
    ``team:<name>`` or ``none`` (unassigned); ``visible``: the caller's recons (None: all)."""

    recon: str | None = None
    status: str = "open"
    owner: str | None = None
    cause: str | None = None
    kind: str | None = None
    disposition: str | None = None
    tag: str | None = None
    overdue: bool = False
    visible: list[str] | None = None


def page_query(
    f: BreakFilter,
    limit: int,
    after: tuple[datetime, str] | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """One keyset page of the breaks ``f`` wants, newest first (``updated_at``, then
    ``break_id``): every column, or these ``columns``."""
    where: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit}

    def equal(column: str, value: Any) -> None:
        where.append(sql.SQL("{} = %({})s").format(sql.Identifier(column), sql.SQL(column)))
        params[column] = value

    for column in ("recon", "cause", "kind", "disposition"):
        if getattr(f, column):
            equal(column, getattr(f, column))
    if f.visible is not None:
        where.append(sql.SQL("recon = ANY(%(visible)s)"))
        params["visible"] = f.visible
    if f.status != "all":
        where.append(sql.SQL("status = ANY(%(statuses)s)"))
        params["statuses"] = list(STATUSES.get(f.status, (f.status,)))
    if f.owner == "none":
        where.append(sql.SQL("owner IS NULL"))
    elif f.owner:
        equal("owner", f.owner)
    if f.tag:
        where.append(sql.SQL("%(tag)s = ANY(tags)"))
        params["tag"] = f.tag
    if f.overdue:
        where.append(sql.SQL("due < now() AND status IN ('OPEN', 'IN_REVIEW')"))
    if after is not None:
        where.append(sql.SQL("(updated_at, break_id) < (%(at)s, %(after)s)"))
        params["at"], params["after"] = after
    selected = sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL(SELECTED)
    query = sql.SQL("SELECT {} FROM breaks").format(selected)
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    # updated_at DESC, break_id DESC keeps the row comparison above a single index range
    query += sql.SQL(" ORDER BY updated_at DESC, break_id DESC LIMIT %(limit)s")
    return query, params


async def list_breaks(
    pool: AsyncConnectionPool,
    f: BreakFilter,
    limit: int,
    after: tuple[datetime, str] | None = None,
    columns: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    query, params = page_query(f, limit, after, columns)
    async with pool.connection() as conn, _rows(conn) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def get_break(pool: AsyncConnectionPool, break_id: str) -> dict[str, Any] | None:
    async with pool.connection() as conn, _rows(conn) as cur:
        await cur.execute(f"SELECT {SELECTED} FROM breaks WHERE break_id = %s", [break_id])
        return await cur.fetchone()


async def get_breaks(pool: AsyncConnectionPool, break_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored breaks of these ids (those that exist), by id."""
    async with pool.connection() as conn, _rows(conn) as cur:
        await cur.execute(f"SELECT {SELECTED} FROM breaks WHERE break_id = ANY(%s)", [break_ids])
        return {r["break_id"]: r for r in await cur.fetchall()}


async def applied_commands(pool: AsyncConnectionPool, command_ids: list[str]) -> set[str]:
    """Which of these commands made a stored revision."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT command_id FROM break_history WHERE command_id = ANY(%s)", [command_ids]
        )
        return {r[0] for r in await cur.fetchall()}


async def history(pool: AsyncConnectionPool, break_id: str) -> list[dict[str, Any]]:
    """Every stored change of a break, oldest first."""
    return await _all(
        pool,
        f"SELECT {_HISTORY} FROM break_history WHERE break_id = %s ORDER BY version, revision",
        [break_id],
    )


async def comments(pool: AsyncConnectionPool, break_id: str) -> list[dict[str, Any]]:
    """A break's comment thread, oldest first."""
    return await _all(
        pool,
        "SELECT revision, by, at, text FROM break_history"
        " WHERE break_id = %s AND action = 'COMMENT' ORDER BY at, revision",
        [break_id],
    )


async def pending_proposals(
    pool: AsyncConnectionPool, visible: list[str] | None, limit: int = MAX_PAGE
) -> list[dict[str, Any]]:
    """Breaks with a proposal awaiting an approver, newest first."""
    where, params = "proposal IS NOT NULL", {"limit": limit, "visible": visible}
    if visible is not None:
        where += " AND recon = ANY(%(visible)s)"
    return await _all(
        pool,
        f"SELECT {SELECTED} FROM breaks WHERE {where} ORDER BY updated_at DESC LIMIT %(limit)s",
        params,
    )


DAILY_SETTLED = """
WITH settled AS (
    SELECT DISTINCT ON (h.break_id) h.break_id, h.status, h.close_reason, h.at
      FROM break_history h
     WHERE h.recon = %(recon)s AND h.status IN ('RESOLVED', 'CLOSED') AND h.at >= %(since)s
     ORDER BY h.break_id, h.version, h.revision
)
SELECT (s.at AT TIME ZONE %(tz)s)::date AS day,
       count(*) FILTER (WHERE s.status = 'RESOLVED') AS resolved,
       count(*) FILTER (WHERE s.status = 'CLOSED') AS closed,
       count(*) FILTER (WHERE s.close_reason LIKE 'auto:%%') AS auto_closed,
       avg(extract(epoch FROM s.at - b.first_seen)) / 3600 AS mean_hours_to_settle
  FROM settled s JOIN breaks b USING (break_id)
 GROUP BY 1
"""
DAILY_OPENED = """
SELECT (first_seen AT TIME ZONE %(tz)s)::date AS day, count(*) AS opened
  FROM breaks WHERE recon = %(recon)s AND first_seen >= %(since)s GROUP BY 1
"""


async def daily_breaks(
    pool: AsyncConnectionPool, recon: str, tz: str, since: datetime
) -> dict[Any, dict[str, Any]]:
    """Per local day of ``tz`` from ``since`` on: breaks opened, and breaks first settled
    (resolved by the data, closed, closed by an auto-close rule) with their mean time from
    first seen to settled, in hours."""
    params = {"recon": recon, "tz": tz, "since": since}
    out: dict[Any, dict[str, Any]] = {}
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(DAILY_OPENED, params)
        for r in await cur.fetchall():
            out.setdefault(r["day"], {})["opened"] = int(r["opened"])
        await cur.execute(DAILY_SETTLED, params)
        for r in await cur.fetchall():
            hours = r.pop("mean_hours_to_settle")
            day = out.setdefault(r.pop("day"), {})
            day |= {k: int(v) for k, v in r.items()}
            day["mean_hours_to_settle"] = None if hours is None else round(float(hours), 2)
    return out


async def all_breaks(pool: AsyncConnectionPool, f: BreakFilter) -> list[dict[str, Any]]:
    """Every break ``f`` wants, newest first (page after page)."""
    out: list[dict[str, Any]] = []
    after = None
    while True:
        rows = await list_breaks(pool, f, MAX_PAGE, after)
        out += rows
        if len(rows) < MAX_PAGE:
            return out
        after = (rows[-1]["updated_at"], rows[-1]["break_id"])


async def came_due(
    pool: AsyncConnectionPool, after: datetime | None, until: datetime
) -> list[dict[str, Any]]:
    """Unsettled breaks whose due date passed in (``after``, ``until``]: newly overdue."""
    return await _all(
        pool,
        "SELECT break_id, recon, key, cause, owner, due, materiality FROM breaks"
        " WHERE status IN ('OPEN', 'IN_REVIEW') AND due <= %(until)s"
        " AND (%(after)s::timestamptz IS NULL OR due > %(after)s) ORDER BY due",
        {"after": after, "until": until},
    )


async def open_breaks(pool: AsyncConnectionPool, recon: str) -> list[dict[str, Any]]:
    """What ageing needs of a recon's unsettled breaks: first seen, cause, due."""
    return await _all(
        pool,
        "SELECT first_seen, cause, due FROM breaks"
        " WHERE recon = %s AND status IN ('OPEN', 'IN_REVIEW')",
        [recon],
    )


async def changes_since(pool: AsyncConnectionPool, seq: int, limit: int) -> list[dict[str, Any]]:
    """Stored changes after ``seq``, oldest first (the SSE catch-up)."""
    async with pool.connection() as conn, _rows(conn) as cur:
        await cur.execute(
            f"SELECT {SELECTED} FROM breaks WHERE seq > %s ORDER BY seq LIMIT %s", [seq, limit]
        )
        return await cur.fetchall()


async def last_seq(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT coalesce(max(seq), 0) FROM breaks")
        row = await cur.fetchone()
        return int(row[0]) if row else 0
