"""SQL of ``audit_log`` (append-only: the application role may only read and insert) and of
``audit_shipped`` (how far the trail has been published to Kafka)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from bff.audit.chain import GENESIS, Entry, Sealed, seal

APPEND_LOCK = 4244  # advisory lock: one append at a time, so the chain has one head
COLUMNS = """seq, at, actor, actor_kind, action, target_type, target_id, recon, before, after,
             ip, user_agent, request_id, prev_hash, hash"""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    recon: str | None = None
    break_id: str | None = None
    recons: list[str] | None = None  # the reader's recons (None: every recon)


async def append(conn: AsyncConnection[Any], entry: Entry, key: bytes | None) -> Sealed:
    """Append ``entry`` (its ``seq`` is assigned here) in the caller's transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])
    async with conn.cursor() as cur:
        await cur.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        head = await cur.fetchone()
    seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
    sealed = seal(entry._replace(seq=seq), prev, key)
    await conn.execute(
        f"INSERT INTO audit_log ({COLUMNS}) VALUES ({', '.join(['%s'] * 15)})",
        [
            *sealed[:8],
            None if sealed.before is None else Jsonb(sealed.before),
            None if sealed.after is None else Jsonb(sealed.after),
            *sealed[10:],
        ],
    )
    return sealed


def _row(row: tuple[Any, ...]) -> Sealed:
    return Sealed(*row)


def _where(filters: Filters) -> tuple[sql.Composable, list[Any]]:
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for column, op, value in (
        ("at", ">=", filters.since),
        ("at", "<", filters.until),
        ("actor", "=", filters.actor),
        ("recon", "=", filters.recon),
    ):
        if value is not None:
            parts.append(sql.SQL("{} {} %s").format(sql.Identifier(column), sql.SQL(op)))
            params.append(value)
    if filters.break_id is not None:
        parts.append(sql.SQL("target_type = 'break' AND target_id = %s"))
        params.append(filters.break_id)
    if filters.recons is not None:
        parts.append(sql.SQL("recon = ANY(%s)"))
        params.append(filters.recons)
    if not parts:
        return sql.SQL(""), params
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


async def page(
    conn: AsyncConnection[Any], filters: Filters, after_seq: int, limit: int
) -> list[Sealed]:
    where, params = _where(filters)
    extra = sql.SQL(" AND seq > %s") if params else sql.SQL(" WHERE seq > %s")
    query = (
        sql.SQL(f"SELECT {COLUMNS} FROM audit_log")
        + where
        + extra
        + sql.SQL(" ORDER BY seq LIMIT %s")
    )
    async with conn.cursor() as cur:
        await cur.execute(query, [*params, after_seq, limit])
        return [_row(r) for r in await cur.fetchall()]


async def everything(conn: AsyncConnection[Any], batch: int = 5000) -> AsyncIterator[Sealed]:
    """The whole trail in ``seq`` order (for verification)."""
    after = -1
    while True:
        async with conn.cursor() as cur:
            await cur.execute(
                f"SELECT {COLUMNS} FROM audit_log WHERE seq > %s ORDER BY seq LIMIT %s",
                [after, batch],
            )
            rows = await cur.fetchall()
        for row in rows:
            yield _row(row)
        if len(rows) < batch:
            return
        after = int(rows[-1][0])


async def shipped(conn: AsyncConnection[Any]) -> int:
    async with conn.cursor() as cur:
        await cur.execute("SELECT seq FROM audit_shipped")
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def mark_shipped(conn: AsyncConnection[Any], seq: int) -> None:
    await conn.execute("UPDATE audit_shipped SET seq = greatest(seq, %s)", [seq])


def as_json(sealed: Sealed) -> dict[str, Any]:
    """An entry as the API and the exports show it."""
    out = sealed._asdict()
    out["at"] = sealed.at.isoformat()
    return out


def as_text(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)
