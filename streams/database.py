"""PostgreSQL access shared by the CLI, the workers and the BFF: migrations and recons."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from streams.recon import Recon

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "database" / "schema"


# Tables the application role may only read and append to: privileges, not code, keep
# their rows from being changed or removed (the other tables it may read and write).
APPEND_ONLY = ("audit_log",)
# Tables the application role may only read.
READ_ONLY = ("schema_migrations",)


class MigrationsNeedOwner(RuntimeError):
    """Migrations are pending and this role may not apply them."""


def migrate(owner_url: str, app_role: str | None = None) -> list[str]:
    """Apply the ordered SQL files in ``database/schema`` not applied yet; returns their names.

    ``owner_url`` connects as the role that owns the schema (the first of the search path,
    created if missing; tests isolate themselves by schema). With ``app_role`` the
    application role is then granted what it needs on whatever tables exist: USAGE on the
    schema, SELECT/INSERT/UPDATE/DELETE on the tables, USAGE/SELECT on the sequences; only
    SELECT and INSERT on the :data:`APPEND_ONLY` tables and SELECT on :data:`READ_ONLY`.
    With nothing pending and no ``app_role`` nothing is changed, so a process of the
    application role may call it too. An advisory lock makes concurrent callers (several
    BFF replicas) safe.
    """
    applied: list[str] = []
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(4242)")
        try:
            pending = _pending(conn)
            if not pending and app_role is None:
                return applied
            try:
                schema = _ensure_schema(conn)
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                for path in pending:
                    with conn.transaction():
                        conn.execute(path.read_text().encode())
                        conn.execute(
                            "INSERT INTO schema_migrations (name) VALUES (%s)", [path.name]
                        )
                    applied.append(path.name)
                if app_role is not None:
                    with conn.transaction():
                        grant_app_role(conn, schema, app_role)
            except psycopg.errors.InsufficientPrivilege as exc:
                user = conn.info.user
                raise MigrationsNeedOwner(
                    f"{len(pending)} database migrations are pending and role {user!r} may not "
                    f"apply them ({str(exc).splitlines()[0]}); run them as the owner "
                    "(`greenai up` does; or set GREENAI_DATABASE_OWNER_URL)"
                ) from None
        finally:
            conn.execute("SELECT pg_advisory_unlock(4242)")
    return applied


def _pending(conn: psycopg.Connection) -> list[Path]:
    """The migration files not applied yet (all of them where there is no schema yet)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    done = set()
    if row and row[0]:
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    return [path for path in sorted(MIGRATIONS.glob("*.sql")) if path.name not in done]


def _ensure_schema(conn: psycopg.Connection) -> str:
    """Create the first schema of the search path (tests isolate themselves by schema);
    returns the schema the migrations go to."""
    row = conn.execute("SELECT current_setting('search_path')").fetchone()
    first = str(row[0]).split(",")[0].strip() if row else "public"
    if first and not first.startswith('"$user'):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(first)))
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row and row[0] else "public"


def grant_app_role(conn: psycopg.Connection, schema: str, app_role: str) -> None:
    """Give ``app_role`` what the application needs in ``schema``, and no more (see
    :func:`migrate`); safe to repeat."""
    role, where = sql.Identifier(app_role), sql.Identifier(schema)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, role))
    conn.execute(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            where, role
        )
    )
    conn.execute(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(where, role)
    )
    limited = {table: "SELECT" for table in READ_ONLY}
    limited |= {table: "SELECT, INSERT" for table in APPEND_ONLY}
    present = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        [schema, list(limited)],
    ).fetchall()
    for (table,) in present:
        kept = limited[table]
        target = sql.Identifier(schema, table)
        for grantee in (role, sql.SQL("PUBLIC")):
            conn.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(target, grantee))
        conn.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(sql.SQL(kept), target, role))


# Register or update a recon, returning its version; an unchanged definition keeps its
# version (the statement then returns it as it is). Parameters: name, definition JSON.
SAVE_RECON = """
    WITH changed AS (
        INSERT INTO recons (name, version, definition) VALUES (%(name)s, 1, %(definition)s::json)
        ON CONFLICT (name) DO UPDATE
           SET version = recons.version + 1, definition = EXCLUDED.definition,
               updated_at = now()
         WHERE recons.definition::text <> EXCLUDED.definition::text
        RETURNING version
    )
    SELECT version FROM changed
    UNION ALL
    SELECT version FROM recons WHERE name = %(name)s AND NOT EXISTS (SELECT 1 FROM changed)
"""


def save_recon(database_url: str, recon: Recon) -> int:
    """Register or update a recon; returns its version (unchanged definitions keep theirs).
    The BFF is the one writer of recons in a running stack (``PUT /api/recons/{name}``,
    audited in the same transaction); this is for setting up benches and tests."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            SAVE_RECON, {"name": recon.name, "definition": recon.to_json()}
        ).fetchone()
        assert row is not None
        return int(row[0])


def load_recons(database_url: str) -> dict[str, tuple[int, Recon]]:
    """Every registered recon by name, with its version. A stored definition this version
    of greenai cannot read is left out (and logged) instead of failing every recon."""
    with psycopg.connect(database_url, row_factory=dict_row, connect_timeout=5) as conn:
        rows = conn.execute("SELECT name, version, definition FROM recons").fetchall()
    recons = {}
    for r in rows:
        try:
            recons[r["name"]] = (r["version"], Recon.model_validate(r["definition"]))
        except ValueError as exc:
            first = str(exc).splitlines()[0]
            log.error("recon %s v%s is unreadable, skipped: %s", r["name"], r["version"], first)
    return recons


def load_recon(database_url: str, name: str) -> Recon:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT definition FROM recons WHERE name = %s", [name]).fetchone()
    if row is None:
        raise LookupError(f"no recon named {name!r} (register it with `greenai recon apply`)")
    return Recon.model_validate(row["definition"])
