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
# A person's word later in a version's life (a label, a reversal, an escalation: a revision
# of the break) overrules the model's decision of that version: recorded as its reversal.
OVERRULE = """
UPDATE decisions d
   SET reversed_at = now(), reversed_by = b.reversed_by, reversed_to = b.disposition,
       reversal_reason = b.reversal_reason
  FROM decisions_batch b
 WHERE d.break_id = b.break_id AND d.version = b.version AND b.reversed_by IS NOT NULL
   AND d.decided_by = 'model'
   AND (d.cause, d.disposition) IS DISTINCT FROM (b.cause, b.disposition)
   AND (d.reversed_by, d.reversed_to, d.reversal_reason)
       IS DISTINCT FROM (b.reversed_by, b.disposition, b.reversal_reason)
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
    overruled_by: str | None = None  # a person (or the scheduler) decided, not the model
    overrule_reason: str | None = None


def record(conn: psycopg.Connection[Any], decisions: list[DecisionRecord]) -> None:
    """Store decisions in one transaction (COPY into a staging table, then one insert); a
    replayed break version keeps its first decision, as the sink keeps the first attributed
    copy of a version. A person's later word on a version is recorded as the reversal of the
    model's decision (attribution is the one writer of ``decisions``)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(STAGE)
        staged = f"{FIELDS}, reversed_by, reversal_reason"
        with cur.copy(f"COPY decisions_batch ({staged}) FROM STDIN") as copy:
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
                        d.overruled_by,
                        d.overrule_reason
                        or (
                            f"{d.cause} / {d.disposition} set by {d.overruled_by}"
                            if d.overruled_by
                            else None
                        ),
                    )
                )
        cur.execute(MOVE)
        cur.execute(OVERRULE)


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
