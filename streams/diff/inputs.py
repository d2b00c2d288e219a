"""What the diff consumes (pure): records and timers, decoded and checked against the recon.

Every way a message can be unusable ends here as :class:`Poison` with a one-line reason —
undecodable bytes (empty, truncated, random, an unknown schema fingerprint), a null value,
a key that is not the record's recon key, a record of a source or key the recon no longer
has, a value of a type the recon no longer declares — so the worker dead-letters it and
goes on instead of failing on it for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.avro import codec, value_from_avro
from streams.diff.lifecycle import Incoming
from streams.keys import parse_recon_key, recon_key_bytes
from streams.recon import Recon
from streams.values import FieldType, Value

RECORD = codec("SourceRecord")
TIMER = codec("DiffTimer")

_PYTHON_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.DECIMAL: (Decimal, int),
    FieldType.INTEGER: (int,),
    FieldType.DATE: (date,),
    FieldType.TIMESTAMP: (datetime,),
    FieldType.BOOLEAN: (bool,),
}


class Poison(ValueError):
    """A message the diff cannot apply; the message is the reason it is dead-lettered."""

    def __init__(self, reason: str, recon: str = "", source: str = "") -> None:
        super().__init__(reason)
        self.recon = recon
        self.source = source


@dataclass(frozen=True, slots=True)
class RecordIn:
    recon: str
    key: dict[str, str | None]
    incoming: Incoming


@dataclass(frozen=True, slots=True)
class TimerIn:
    recon: str
    key: dict[str, str | None]
    deadline: datetime


def _decode(schema: Any, key: bytes | None, value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise Poison("null value (a tombstone is a record with deleted=true)")
    try:
        parse_recon_key(key)
    except ValueError as exc:
        raise Poison(str(exc)) from None
    try:
        datum: dict[str, Any] = schema.decode(value)
    except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError, ValueError...
        raise Poison(f"undecodable {schema.name}: {type(exc).__name__}: {exc}") from None
    return datum


def decode_record(key: bytes | None, value: bytes | None) -> RecordIn:
    datum = _decode(RECORD, key, value)
    recon, source = datum["recon"], datum["source"]
    try:
        fields = {k: value_from_avro(v) for k, v in datum["fields"].items()}
    except ValueError as exc:
        raise Poison(str(exc), recon, source) from None
    incoming = Incoming(source, datum["record_id"], fields, datum["deleted"])
    return RecordIn(recon, datum["key"], incoming)


def decode_timer(key: bytes | None, value: bytes | None) -> TimerIn:
    datum = _decode(TIMER, key, value)
    return TimerIn(datum["recon"], datum["key"], datum["deadline"])


def check(recon: Recon, key: bytes | None, item: RecordIn | TimerIn) -> None:
    """Raise :class:`Poison` unless the recon, as defined now, can take ``item``."""
    source = item.incoming.source if isinstance(item, RecordIn) else ""
    if sorted(item.key) != sorted(recon.key):
        raise Poison(
            f"recon {recon.name!r} is keyed by {recon.key} now; the message has {sorted(item.key)}",
            recon.name,
            source,
        )
    ordered = {k: item.key[k] for k in recon.key}
    if key != recon_key_bytes(recon.name, ordered):
        raise Poison(f"the Kafka key {key!r} is not the message's recon key", recon.name, source)
    if isinstance(item, TimerIn):
        return
    spec = recon.sources.get(source)
    if spec is None:
        raise Poison(f"recon {recon.name!r} has no source {source!r}", recon.name, source)
    for name, value in item.incoming.fields.items():
        declared = spec.fields.get(name)
        if declared is not None and not _fits(value, declared):
            raise Poison(
                f"recon {recon.name!r} declares {name} as {declared.value} now; the record "
                f"has {type(value).__name__}",
                recon.name,
                source,
            )


def _fits(value: Value, declared: FieldType) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) and declared is not FieldType.BOOLEAN:
        return False
    if isinstance(value, datetime) and declared is FieldType.DATE:
        return False
    return isinstance(value, _PYTHON_TYPES[declared])
