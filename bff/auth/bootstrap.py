"""The first accounts: the local stack's admin (and its CLI token), and the demo analyst.

``greenai up`` generates their secrets, keeps them in ``GREENAI_HOME`` (mode 0600) and hands
them to the BFF, which creates the accounts once — in the audit trail like any account —
when no account of that name exists yet.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from bff.audit.trail import SYSTEM, Recorder, Where
from bff.auth.passwords import hash_password
from bff.auth.principal import token_digest
from bff.config import BffConfig
from bff.store import tokens, users

BOOTSTRAP_LOCK = 4246
ADMIN = "admin"
ADMIN_ROLES = ["admin", "analyst"]  # the operator of a local stack also labels breaks
DEMO_ANALYST = "analyst"


async def create_first_accounts(
    pool: AsyncConnectionPool, config: BffConfig, key: bytes | None
) -> None:
    audit = Recorder(key, Where(request_id="bootstrap"))
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [BOOTSTRAP_LOCK])
        if config.bootstrap_admin_password:
            admin = await _account(
                conn,
                audit,
                ADMIN,
                ADMIN_ROLES,
                config.bootstrap_admin_password,
                "Administrator (created by greenai up)",
            )
            if config.bootstrap_admin_token and admin is not None:
                digest = token_digest(config.bootstrap_admin_token)
                if await tokens.usable(conn, digest) is None:
                    token = await tokens.create(
                        conn,
                        user_id=admin.user_id,
                        name="greenai up: the command line of this stack",
                        token_sha256=digest,
                        prefix=config.bootstrap_admin_token[:8],
                        roles=ADMIN_ROLES,
                        created_by=SYSTEM.name,
                        expires_at=None,
                    )
                    await audit(
                        conn,
                        SYSTEM,
                        "token.create",
                        target=("token", str(token.token_id)),
                        after={"user": ADMIN, "name": token.name, "roles": ADMIN_ROLES},
                    )
        if config.bootstrap_demo_analyst_password:
            await _account(
                conn,
                audit,
                DEMO_ANALYST,
                ["analyst"],
                config.bootstrap_demo_analyst_password,
                "Demo analyst (created by greenai up --demo)",
            )


async def _account(
    conn: Any, audit: Recorder, name: str, roles: list[str], password: str, display: str
) -> users.User | None:
    found = await users.by_name(conn, name)
    if found is not None:
        return found
    created = await users.create(
        conn,
        username=name,
        roles=roles,
        password_hash=hash_password(password),
        display_name=display,
    )
    if created is not None:
        await audit(
            conn,
            SYSTEM,
            "user.create",
            target=("user", name),
            after={"roles": roles, "display_name": display},
        )
    return created
