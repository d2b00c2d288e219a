"""Who may log in to the local PostgreSQL: two roles, passwords only (scram-sha-256).

- the owner (``greenai``): the bootstrap superuser initdb makes; it owns the database and
  runs the migrations;
- the application role (``greenai_app``): LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; the
  migrations grant it what the application needs (``streams.database.migrate``).

``pg_hba.conf`` is rewritten on every start to allow password logins only. A home made by
``initdb -A trust`` (before the local stack had credentials) is converted before its server
starts: the owner's password is set in single-user mode, which needs no login at all, so the
server never runs with ``trust`` again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from greenai.localstack.pg_scram import scram_sha256_verifier
from streams.stack_secrets import Credential

__all__ = [
    "HBA",
    "ensure_app_role",
    "hba_trusts",
    "set_password_statement",
]

HBA = """\
# Written by greenai (greenai/localstack/postgres_auth.py) on every start: password logins
# only. Edits here are lost; the server listens on 127.0.0.1 only.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
"""

APP_ROLE_OPTIONS = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


def hba_trusts(path: Path) -> bool:
    """Whether ``pg_hba.conf`` lets anyone in without a password (``trust``), as the files
    initdb wrote for homes made before the local stack had credentials."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return False
    return any(line.split()[-1:] == ["trust"] for line in lines if line.strip() and line[0] != "#")


def set_password_statement(role: Credential) -> str:
    """``ALTER ROLE`` giving ``role`` its password, as a SCRAM verifier (the password itself
    is never sent to the server), for single-user mode's stdin.

    >>> set_password_statement(Credential("greenai", "pw"))[:50]
    'ALTER ROLE "greenai" PASSWORD \\'SCRAM-SHA-256$4096:'
    """
    verifier = scram_sha256_verifier(role.password)
    return f"ALTER ROLE \"{role.user}\" PASSWORD '{verifier}';\n"


def ensure_app_role(conn: psycopg.Connection[Any], role: Credential, database: str) -> None:
    """Create the application role if missing; (re)set its options and password; keep it
    from creating anything but temporary tables in ``database`` (migrations grant the rest).
    ``conn`` is the owner's, in ``database``, autocommit."""
    name = sql.Identifier(role.user)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role.user]).fetchone()
    if exists is None:
        conn.execute(sql.SQL("CREATE ROLE {} " + APP_ROLE_OPTIONS).format(name))
    conn.execute(
        sql.SQL("ALTER ROLE {} WITH " + APP_ROLE_OPTIONS + " PASSWORD {}").format(
            name, sql.Literal(scram_sha256_verifier(role.password))
        )
    )
    # PostgreSQL 15 made this the default; older servers let every role create in public.
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    conn.execute(
        sql.SQL("REVOKE CREATE ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database))
    )
