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

from msgspec import Struct

from streams.avro import AS_IS, codec, value_from_avro
from streams.derived import derived
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
# The types whose values always fit, exactly as ``_fits`` says; any other goes through it.
_FITTING = {t: frozenset({type(None), *types}) for t, types in _PYTHON_TYPES.items()}


class Poison(ValueError):
    """A message the diff cannot apply; the message is the reason it is dead-lettered."""

    def __init__(self, reason: str, recon: str = "", source: str = "") -> None:
        super().__init__(reason)
        self.recon = recon
        self.source = source


class RecordIn(Struct, frozen=True):
    recon: str
    key: dict[str, str | None]
    incoming: Incoming


class TimerIn(Struct, frozen=True):
    recon: str
    key: dict[str, str | None]
    deadline: datetime


@dataclass(frozen=True, slots=True)
class Declared:
    """What ``check`` needs of a recon, read from it once: its key, sorted, and each
    source's declared fields with the types whose values always fit them."""

    sorted_key: list[str]
    fields: dict[str, dict[str, tuple[FieldType, frozenset[type]]]]

    @classmethod
    def of(cls, recon: Recon) -> Declared:
        fields = {
            name: {f: (t, _FITTING[t]) for f, t in spec.fields.items()}
            for name, spec in recon.sources.items()
        }
        return cls(sorted(recon.key), fields)


def _decode(schema: Any, key: bytes | None, value: bytes | None) -> dict[str, Any]:
    if value is None:
        raise Poison("null value (a tombstone is a record with deleted=true)")
    try:
        parse_recon_key(key)
    except ValueError as exc:
        raise Poison(str(exc)) from None
    try:
        datum: dict[str, Any] = schema.decode(value, record_names=False)
    except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError, ValueError...
        raise Poison(f"undecodable {schema.name}: {type(exc).__name__}: {exc}") from None
    return datum


def decode_record(key: bytes | None, value: bytes | None) -> RecordIn:
    datum = _decode(RECORD, key, value)
    recon, source = datum["recon"], datum["source"]
    try:
        fields = {
            k: v if type(v) in AS_IS else value_from_avro(v) for k, v in datum["fields"].items()
        }
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
    declared = derived(recon, Declared.of)
    if sorted(item.key) != declared.sorted_key:
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
    fields = declared.fields.get(source)
    if fields is None:
        raise Poison(f"recon {recon.name!r} has no source {source!r}", recon.name, source)
    for name, value in item.incoming.fields.items():
        found = fields.get(name)
        if found is None or type(value) in found[1]:
            continue
        ftype = found[0]
        if not _fits(value, ftype):
            raise Poison(
                f"recon {recon.name!r} declares {name} as {ftype.value} now; the record "
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
