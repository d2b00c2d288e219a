"""SQL of ``users``: local and single sign-on accounts, their roles and recons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import class_row

COLUMNS = """user_id, username, display_name, kind, roles, recons, password_hash, sso_subject,
             disabled, failed_sign_ins, locked_until, created_at, updated_at"""


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    display_name: str
    kind: str
    roles: list[str]
    recons: list[str] | None
    password_hash: str | None
    sso_subject: str | None
    disabled: bool
    failed_sign_ins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        """What the API shows of an account (never the hash)."""
        return {
            "user_id": self.user_id,
            "username": self.username,
            "display_name": self.display_name,
            "kind": self.kind,
            "roles": list(self.roles),
            "recons": None if self.recons is None else list(self.recons),
            "sso": self.sso_subject is not None,
            "disabled": self.disabled,
            "locked_until": self.locked_until,
            "created_at": self.created_at,
        }


async def by_name(conn: AsyncConnection[Any], username: str) -> User | None:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {COLUMNS} FROM users WHERE username = %s", [username])
        return await cur.fetchone()


async def by_id(conn: AsyncConnection[Any], user_id: int) -> User | None:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {COLUMNS} FROM users WHERE user_id = %s", [user_id])
        return await cur.fetchone()


async def listing(conn: AsyncConnection[Any]) -> list[User]:
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(f"SELECT {COLUMNS} FROM users ORDER BY username")
        return await cur.fetchall()


async def create(
    conn: AsyncConnection[Any],
    *,
    username: str,
    roles: list[str],
    recons: list[str] | None = None,
    password_hash: str | None = None,
    kind: str = "person",
    display_name: str = "",
    sso_subject: str | None = None,
) -> User | None:
    """A new account; None when the username is taken."""
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(
            f"""
            INSERT INTO users (username, display_name, kind, roles, recons, password_hash,
                               sso_subject)
            VALUES (%s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT DO NOTHING
            RETURNING {COLUMNS}
            """,
            [username, display_name, kind, roles, recons, password_hash, sso_subject],
        )
        return await cur.fetchone()


async def update(conn: AsyncConnection[Any], user_id: int, **changes: Any) -> User | None:
    """Set some of roles, recons, disabled, display_name, password_hash (validated upstream)."""
    allowed = {"roles", "recons", "disabled", "display_name", "password_hash"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    assignments = ", ".join(f"{name} = %({name})s" for name in changes)
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(
            f"UPDATE users SET {assignments}, updated_at = now() WHERE user_id = %(user_id)s "
            f"RETURNING {COLUMNS}",
            {**changes, "user_id": user_id},
        )
        return await cur.fetchone()


async def failed_sign_in(
    conn: AsyncConnection[Any], user_id: int, lock_after: int, lock_for: timedelta
) -> datetime | None:
    """Count a failed sign-in; lock the account after ``lock_after`` in a row. Returns when
    the lock ends (None: not locked)."""
    async with conn.cursor() as cur:
        await cur.execute(
            """
            UPDATE users SET failed_sign_ins = failed_sign_ins + 1,
                   locked_until = CASE WHEN failed_sign_ins + 1 >= %s THEN now() + %s
                                       ELSE locked_until END
             WHERE user_id = %s
            RETURNING locked_until
            """,
            [lock_after, lock_for, user_id],
        )
        row = await cur.fetchone()
        return row[0] if row else None


async def signed_in(conn: AsyncConnection[Any], user_id: int) -> None:
    await conn.execute(
        "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE user_id = %s", [user_id]
    )


async def from_single_sign_on(
    conn: AsyncConnection[Any],
    *,
    subject: str,
    username: str,
    display_name: str,
    roles: list[str],
    recons: list[str] | None,
) -> User:
    """The account of a provider's subject, created or brought up to date with its groups."""
    async with conn.cursor(row_factory=class_row(User)) as cur:
        await cur.execute(
            f"""
            INSERT INTO users (username, display_name, roles, recons, sso_subject)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (sso_subject) DO UPDATE
               SET display_name = EXCLUDED.display_name, roles = EXCLUDED.roles,
                   recons = EXCLUDED.recons, updated_at = now()
            RETURNING {COLUMNS}
            """,
            [username, display_name, roles, recons, subject],
        )
        user = await cur.fetchone()
        assert user is not None
        return user
