"""SQL of ``api_tokens``: tokens for the command line and service accounts (hashed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

COLUMNS = """t.token_id, t.user_id, u.username, t.name, t.prefix, t.roles, t.created_by,
             t.created_at, t.expires_at, t.revoked_at, t.last_used_at"""


@dataclass(frozen=True)
class Token:
    token_id: int
    user_id: int
    username: str
    name: str
    prefix: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


async def create(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    name: str,
    token_sha256: str,
    prefix: str,
    roles: list[str],
    created_by: str,
    expires_at: datetime | None,
) -> Token:
    async with conn.cursor(row_factory=class_row(Token)) as cur:
        await cur.execute(
            f"""
            WITH t AS (
                INSERT INTO api_tokens (user_id, name, token_sha256, prefix, roles, created_by,
                                        expires_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *)
            SELECT {COLUMNS} FROM t JOIN users u USING (user_id)
            """,
            [user_id, name, token_sha256, prefix, roles, created_by, expires_at],
        )
        token = await cur.fetchone()
        assert token is not None
        return token


async def usable(conn: AsyncConnection[Any], token_sha256: str) -> Token | None:
    """The token with this hash if it is neither revoked nor expired (and notes its use)."""
    async with conn.cursor(row_factory=class_row(Token)) as cur:
        await cur.execute(
            f"""
            SELECT {COLUMNS} FROM api_tokens t JOIN users u USING (user_id)
             WHERE t.token_sha256 = %s AND t.revoked_at IS NULL
               AND (t.expires_at IS NULL OR t.expires_at > now())
            """,
            [token_sha256],
        )
        token = await cur.fetchone()
    if token is not None:  # at most a write a minute per token
        await conn.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_id = %s "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            [token.token_id],
        )
    return token


async def by_id(conn: AsyncConnection[Any], token_id: int) -> Token | None:
    async with conn.cursor(row_factory=class_row(Token)) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM api_tokens t JOIN users u USING (user_id) "
            "WHERE t.token_id = %s",
            [token_id],
        )
        return await cur.fetchone()


async def listing(conn: AsyncConnection[Any]) -> list[Token]:
    async with conn.cursor(row_factory=class_row(Token)) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM api_tokens t JOIN users u USING (user_id) ORDER BY t.token_id"
        )
        return await cur.fetchall()


async def revoke(conn: AsyncConnection[Any], token_id: int) -> bool:
    """Revoke a token; False when there is no such token or it was revoked already."""
    async with conn.cursor() as cur:
        await cur.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE token_id = %s AND revoked_at IS NULL",
            [token_id],
        )
        return cur.rowcount == 1
