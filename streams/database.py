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


def migrate(database_url: str) -> list[str]:
    """Apply the ordered SQL files in ``database/schema`` not applied yet; returns their names.

    An advisory lock makes concurrent callers (several BFF replicas) safe.
    """
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(4242)")
        try:
            _ensure_schema(conn)
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for path in sorted(MIGRATIONS.glob("*.sql")):
                if path.name in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text().encode())
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", [path.name])
                applied.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(4242)")
    return applied


def _ensure_schema(conn: psycopg.Connection) -> None:
    """Create the first schema of the search path (tests isolate themselves by schema)."""
    row = conn.execute("SELECT current_setting('search_path')").fetchone()
    first = str(row[0]).split(",")[0].strip() if row else "public"
    if first and not first.startswith('"$user'):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(first)))


def save_recon(database_url: str, recon: Recon) -> int:
    """Register or update a recon; returns its version (unchanged definitions keep theirs)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """
            INSERT INTO recons (name, version, definition) VALUES (%s, 1, %s::json)
            ON CONFLICT (name) DO UPDATE
               SET version = recons.version + 1, definition = EXCLUDED.definition,
                   updated_at = now()
             WHERE recons.definition::text <> EXCLUDED.definition::text
            RETURNING version
            """,
            [recon.name, recon.to_json()],
        ).fetchone()
        if row is None:  # identical definition: nothing changed
            row = conn.execute(
                "SELECT version FROM recons WHERE name = %s", [recon.name]
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
