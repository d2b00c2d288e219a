"""SQL for ``matches`` (one writer: the BFF's sink, from the matches topic): every time a
recon key came to match, read for the match rate. Idempotent: a redelivered Match is stored once."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

STAGE = """
CREATE TEMP TABLE IF NOT EXISTS matches_batch
    (LIKE matches INCLUDING DEFAULTS EXCLUDING CONSTRAINTS) ON COMMIT DELETE ROWS
"""
MOVE = """
INSERT INTO matches (recon, key, matched_at) SELECT recon, key, matched_at FROM matches_batch
ON CONFLICT DO NOTHING
"""


def store_matches(conn: Connection[Any], matches: list[dict[str, Any]]) -> None:
    """Store Match data in one transaction (COPY into a staging table, then one insert)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(STAGE)
        with cur.copy("COPY matches_batch (recon, key, matched_at) FROM STDIN") as copy:
            for m in matches:
                copy.write_row((m["recon"], json.dumps(m["key"]), m["matched_at"]))
        cur.execute(MOVE)


DAILY = """
WITH matched AS (
    SELECT (matched_at AT TIME ZONE %(tz)s)::date AS day, key FROM matches
     WHERE recon = %(recon)s AND matched_at >= %(since)s
), opened AS (
    SELECT (first_seen AT TIME ZONE %(tz)s)::date AS day, key FROM breaks
     WHERE recon = %(recon)s AND first_seen >= %(since)s
), seen AS (
    SELECT day, key FROM matched UNION SELECT day, key FROM opened
)
SELECT s.day,
       count(*) AS keys_seen,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM matched m WHERE m.day = s.day
                                                               AND m.key = s.key)
                          AND NOT EXISTS (SELECT 1 FROM breaks b WHERE b.recon = %(recon)s
                                                                  AND b.key = s.key))
           AS clean_matched
  FROM seen s GROUP BY s.day
"""


async def daily_keys(
    pool: AsyncConnectionPool, recon: str, tz: str, since: datetime
) -> dict[date, dict[str, int]]:
    """Per local day of ``tz`` from ``since`` on: the recon keys seen (matched, or a break
    first seen that day), how many of them matched at first go (never a break), and the
    matches."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        params = {"recon": recon, "tz": tz, "since": since}
        await cur.execute(DAILY, params)
        out: dict[date, dict[str, int]] = {
            r["day"]: {"keys_seen": int(r["keys_seen"]), "clean_matched": int(r["clean_matched"])}
            for r in await cur.fetchall()
        }
        await cur.execute(
            "SELECT (matched_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS matched"
            " FROM matches WHERE recon = %(recon)s AND matched_at >= %(since)s GROUP BY 1",
            params,
        )
        for r in await cur.fetchall():
            out.setdefault(r["day"], {"keys_seen": 0, "clean_matched": 0})["matched"] = int(
                r["matched"]
            )
        return out
