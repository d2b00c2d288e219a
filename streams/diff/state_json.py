"""The diff table's state as JSON with lossless typed values: how the table value was written
before the MessagePack codec (:mod:`streams.diff.state_codec`). Changelogs still hold such
values, so they are still read; the JSON form also describes a state independently of how
it is stored (the tests compare states by it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from streams.diff.compare import FieldDiff
from streams.diff.lifecycle import Booking, Break, KeyState
from streams.domain.vocabulary import Kind, Status
from streams.values import from_json, to_json


def state_to_json(state: KeyState) -> dict[str, Any]:
    return {
        "b": {
            s: [[b.record_id, {f: to_json(v) for f, v in b.fields.items()}] for b in bs]
            for s, bs in state.bookings.items()
        },
        "w": state.waiting_since.isoformat() if state.waiting_since else None,
        "c": _break_to_json(state.current) if state.current else None,
        "g": state.generation,
        "m": state.matched,
        "s": state.settled_since.isoformat() if state.settled_since else None,
        "u": state.seen_until.isoformat() if state.seen_until else None,
    }


def state_from_json(data: dict[str, Any]) -> KeyState:
    return KeyState(
        bookings={
            s: tuple(
                Booking(rid, {f: from_json(v) for f, v in fields.items()}) for rid, fields in bs
            )
            for s, bs in data["b"].items()
        },
        waiting_since=datetime.fromisoformat(data["w"]) if data["w"] else None,
        current=_break_from_json(data["c"]) if data["c"] else None,
        generation=data["g"],
        matched=data.get("m", False),
        settled_since=datetime.fromisoformat(data["s"]) if data.get("s") else None,
        seen_until=datetime.fromisoformat(data["u"]) if data.get("u") else None,
    )


def _break_to_json(b: Break) -> dict[str, Any]:
    return {
        "id": b.break_id,
        "kind": b.kind.value,
        "missing_in": b.missing_in,
        "status": b.status.value,
        "fields": [
            [d.field, {s: to_json(v) for s, v in d.values.items()}, to_json(d.delta)]
            for d in b.fields
        ],
        "first_seen": b.first_seen.isoformat(),
        "updated_at": b.updated_at.isoformat(),
        "version": b.version,
    }


def _break_from_json(d: dict[str, Any]) -> Break:
    fields = tuple(
        FieldDiff(f, {s: from_json(v) for s, v in values.items()}, from_json(delta))
        for f, values, delta in d["fields"]
    )
    return Break(
        d["id"],
        Kind(d["kind"]),
        d["missing_in"],
        Status(d["status"]),
        fields,
        datetime.fromisoformat(d["first_seen"]),
        datetime.fromisoformat(d["updated_at"]),
        d["version"],
    )
