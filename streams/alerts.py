"""The alerts topic (``<prefix>.alerts``): what an operator should look at, as ``Alert``
Avro data. The alert id is deterministic, so a repeated alert is one alert: the topic is
compacted by it and subscribers are told of each id once.

Kinds: MODEL_DRIFT (attribution), DEAD_LETTER_SURGE (the notifier), and from the scheduler
ESCALATION (breaks still open at a cut-off), SLA_BREACH (a break past its due date) and
CUTOFF_SUMMARY (a recon's day at its cut-off).

>>> from datetime import UTC, datetime
>>> a = alert("sla-breach@b-1", "SLA_BREACH", "WARNING", "scheduler", "b-1 is overdue",
...           recon="trades", details={"due": "2026-12-09"}, at=datetime(2026, 12, 9, tzinfo=UTC))
>>> codec("Alert").decode(encode(a))["details"]
{'due': '2026-12-09'}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.avro import codec

SEVERITIES = ("INFO", "WARNING", "CRITICAL")
ALERT = codec("Alert")


def alert(
    alert_id: str,
    kind: str,
    severity: str,
    source: str,
    message: str,
    *,
    recon: str | None = None,
    details: dict[str, Any] | None = None,
    worker: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An Alert datum (``details`` values become text)."""
    assert severity in SEVERITIES, severity
    return {
        "alert_id": alert_id,
        "kind": kind,
        "severity": severity,
        "recon": recon,
        "source": source,
        "message": message,
        "details": {k: str(v) for k, v in (details or {}).items()},
        "worker": worker or source,
        "at": at or datetime.now(UTC),
    }


def encode(datum: dict[str, Any]) -> bytes:
    return ALERT.encode(datum)


def key(datum: dict[str, Any]) -> bytes:
    return str(datum["alert_id"]).encode()
