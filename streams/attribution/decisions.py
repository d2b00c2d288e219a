"""The Discriminator's decisions in PostgreSQL (``decisions``): recorded, listed, reversed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

FIELDS = """break_id, version, recon, cause, confidence, disposition, priority, materiality,
            anomaly, decided_by, model_offset, reasons"""
STAGE = """
CREATE TEMP TABLE IF NOT EXISTS decisions_batch
    (LIKE decisions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""
MOVE = f"""
INSERT INTO decisions ({FIELDS}) SELECT {FIELDS} FROM decisions_batch
ON CONFLICT (break_id, version) DO NOTHING
"""
COLUMNS = """break_id, version, recon, cause, confidence, disposition, priority, materiality,
             anomaly, decided_by, model_offset, reasons, decided_at, reversed_at, reversed_by,
             reversed_to, reversal_reason"""


@dataclass(frozen=True)
class DecisionRecord:
    break_id: str
    version: int
    recon: str
    cause: str
    confidence: float
    disposition: str
    priority: int
    materiality: Decimal
    anomaly: float
    decided_by: str  # "model" | "analyst"
    model_offset: int
    reasons: tuple[str, ...]


def record(conn: psycopg.Connection[Any], decisions: list[DecisionRecord]) -> None:
    """Store decisions in one transaction (COPY into a staging table, then one insert); a
    replayed break version keeps its first decision, as the sink keeps the first attributed
    copy of a version."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(STAGE)
        with cur.copy(f"COPY decisions_batch ({FIELDS}) FROM STDIN") as copy:
            for d in decisions:
                copy.write_row(
                    (
                        d.break_id,
                        d.version,
                        d.recon,
                        d.cause,
                        d.confidence,
                        d.disposition,
                        d.priority,
                        d.materiality,
                        d.anomaly,
                        d.decided_by,
                        d.model_offset,
                        json.dumps(list(d.reasons)),
                    )
                )
        cur.execute(MOVE)


def latest(conn: psycopg.Connection[Any], break_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM decisions WHERE break_id = %s ORDER BY version DESC LIMIT 1",
            [break_id],
        )
        return cur.fetchone()


def history(conn: psycopg.Connection[Any], break_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM decisions WHERE break_id = %s ORDER BY version", [break_id]
        )
        return cur.fetchall()


def mark_reversed(
    conn: psycopg.Connection[Any], break_id: str, version: int, to: str, by: str, reason: str
) -> None:
    conn.execute(
        """
        UPDATE decisions
           SET reversed_at = now(), reversed_by = %s, reversed_to = %s, reversal_reason = %s
         WHERE break_id = %s AND version = %s
        """,
        [by, to, reason, break_id, version],
    )
