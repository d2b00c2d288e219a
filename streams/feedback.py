"""The feedback topic (``<prefix>.feedback``, pure): what analysts tell the attribution
model, as ``Feedback`` Avro data.

A LABEL carries a snapshot of the break as the analyst saw it, with the recon's source order
and FX rates, so the feedback topic alone is a complete, replayable training set: learning
needs no lookup, and replaying gives the same model whatever happened to the break since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from streams.avro import codec
from streams.domain.vocabulary import CAUSES, DISPOSITIONS

MODEL_KEY = b"model"


def feedback_codec() -> Any:
    return codec("Feedback")


class BadFeedback(ValueError):
    """Feedback that cannot be given (the message is the one-line reason)."""


def check_cause(cause: str) -> str:
    if cause not in CAUSES:
        raise BadFeedback(f"unknown cause {cause!r}; causes are {', '.join(CAUSES)}")
    return cause


def check_disposition(disposition: str) -> str:
    if disposition not in DISPOSITIONS:
        raise BadFeedback(
            f"unknown disposition {disposition!r}; dispositions are {', '.join(DISPOSITIONS)}"
        )
    return disposition


def snapshot(
    brk: dict[str, Any], sources: list[str], fx_rates: dict[str, Decimal]
) -> dict[str, Any]:
    """The BreakSnapshot of a break (a Break datum or a ``breaks`` row)."""
    return {
        "recon": brk["recon"],
        "sources": list(sources),
        "fx_rates": {k: format(v, "f") for k, v in fx_rates.items()},
        "kind": brk["kind"],
        "missing_in": brk.get("missing_in"),
        "fields": [
            {"field": d["field"], "values": d["values"], "delta": d.get("delta")}
            for d in brk["fields"]
        ],
        "records": brk["records"],
        "version": int(brk["version"]),
    }


def _event(action: str, analyst: str, origin: str, reason: str | None) -> dict[str, Any]:
    return {
        "action": action,
        "break_id": None,
        "cause": None,
        "disposition": None,
        "model_version": None,
        "snapshot": None,
        "previous_cause": None,
        "previous_disposition": None,
        "analyst": analyst,
        "origin": origin,
        "reason": reason,
        "at": datetime.now(UTC),
    }


def label_event(
    brk: dict[str, Any],
    sources: list[str],
    fx_rates: dict[str, Decimal],
    cause: str,
    *,
    analyst: str,
    origin: str,
    disposition: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    return _event("LABEL", analyst, origin, reason) | {
        "break_id": brk["break_id"],
        "cause": check_cause(cause),
        "disposition": check_disposition(disposition) if disposition else None,
        "snapshot": snapshot(brk, sources, fx_rates),
        "previous_cause": brk.get("cause"),
        "previous_disposition": brk.get("disposition"),
    }


def reverse_event(
    brk: dict[str, Any], disposition: str, *, analyst: str, origin: str, reason: str | None
) -> dict[str, Any]:
    return _event("REVERSE", analyst, origin, reason) | {
        "break_id": brk["break_id"],
        "disposition": check_disposition(disposition),
        "previous_cause": brk.get("cause"),
        "previous_disposition": brk.get("disposition"),
    }


def rollback_event(
    version: int, *, analyst: str, origin: str, reason: str | None
) -> dict[str, Any]:
    return _event("ROLLBACK", analyst, origin, reason) | {"model_version": version}


def event_key(event: dict[str, Any]) -> bytes:
    return event["break_id"].encode() if event["break_id"] else MODEL_KEY


@dataclass(frozen=True)
class Snapshot:
    """A decoded BreakSnapshot: a Break-shaped datum, its sources and rates."""

    brk: dict[str, Any]
    sources: list[str]
    fx_rates: dict[str, Decimal]


def read_snapshot(event: dict[str, Any]) -> Snapshot | None:
    raw = event.get("snapshot")
    if isinstance(raw, tuple):  # the codec names records in unions
        raw = raw[1]
    if not raw:
        return None
    brk = {
        "break_id": event.get("break_id"),
        "recon": raw["recon"],
        "kind": raw["kind"],
        "missing_in": raw["missing_in"],
        "fields": raw["fields"],
        "records": raw["records"],
        "version": raw["version"],
    }
    rates = {k: Decimal(v) for k, v in raw["fx_rates"].items()}
    return Snapshot(brk, list(raw["sources"]), rates)
