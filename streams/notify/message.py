"""An Alert datum as its subscribers read it: JSON for webhooks, a subject and text for
e-mail (pure).

>>> from datetime import UTC, datetime
>>> alert = {"alert_id": "a1", "kind": "SLA_BREACH", "severity": "CRITICAL", "recon": "trades",
...          "source": "scheduler", "message": "3 breaks past their SLA", "details": {"n": "3"},
...          "worker": "scheduler/1", "at": datetime(2026, 12, 3, 9, 0, tzinfo=UTC)}
>>> as_json(alert, "fx-desk")
b'{"alert_id":"a1","kind":"SLA_BREACH","severity":"CRITICAL","recon":"trades",...}'
>>> subject(alert)
'[greenai] CRITICAL SLA_BREACH trades: 3 breaks past their SLA'
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

FIELDS = ("alert_id", "kind", "severity", "recon", "source", "message", "details", "worker")


def as_dict(alert: dict[str, Any], subscription: str) -> dict[str, Any]:
    at = alert["at"]
    return {f: alert.get(f) for f in FIELDS} | {
        "at": at.isoformat() if isinstance(at, datetime) else at,
        "subscription": subscription,
    }


def as_json(alert: dict[str, Any], subscription: str) -> bytes:
    return json.dumps(as_dict(alert, subscription), separators=(",", ":")).encode()


def subject(alert: dict[str, Any]) -> str:
    about = f" {alert['recon']}" if alert.get("recon") else ""
    line = f"[greenai] {alert['severity']} {alert['kind']}{about}: {alert['message']}"
    return " ".join(line.split())[:200]


def text(alert: dict[str, Any], subscription: str) -> str:
    body = as_dict(alert, subscription)
    lines = [alert["message"], ""]
    lines += [f"{k}: {body[k]}" for k in ("kind", "severity", "recon", "source", "at") if body[k]]
    lines += [f"{k}: {v}" for k, v in sorted((alert.get("details") or {}).items())]
    lines += ["", f"alert {alert['alert_id']}, sent to subscription {subscription}"]
    return "\n".join(lines) + "\n"
