"""The diff table's value as MessagePack (msgspec): a key's state and its input offsets.

The value is one MessagePack array, read back by msgspec in C into the typed layout below::

    [1, state, offsets]                              1: this format (JSON values begin with {)
    state    = [bookings, waiting_since, current, generation, matched, settled_since,
                seen_until]
    bookings = {source: [[record_id, names, types, values], ...]}
    current  = null | [break_id, kind, missing_in, status, fields, first_seen, updated_at,
                       version, workflow]     workflow: absent or null until a person acts,
                                              then a map of the Workflow's fields
    fields   = [[field, sources, types, values], ...]   values: each source's, then the delta
    offsets  = {"r": offset, "t": offset}

A row of field values (a booking's, a field diff's) keeps every value's type: ``types`` has
one letter per value — ``s`` text, ``i`` integer, ``I`` integer beyond 64 bits (as text),
``b`` boolean, ``n`` null, ``D`` decimal, ``d`` date, ``t`` timestamp — and msgspec reads
the values back as exactly those types: a Decimal from its exact text (never a float), a
date from its ISO text, a timestamp from MessagePack's timestamp (UTC, to the microsecond)
or, in any other offset or none, from its ISO text with that offset. The instants of the
state itself are stored the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgspec
from msgspec import Raw, Struct

from streams.diff.compare import FieldDiff
from streams.diff.lifecycle import Booking, Break, KeyState
from streams.domain.vocabulary import Kind, Status
from streams.domain.workflow import Workflow
from streams.values import LONG_MAX, LONG_MIN, Value

FORMAT = 1

_LETTER: dict[type, str] = {
    str: "s",
    int: "i",
    bool: "b",
    type(None): "n",
    Decimal: "D",
    date: "d",
    datetime: "t",
}
_TYPE: dict[str, Any] = {
    "s": str,
    "i": int,
    "I": str,
    "b": bool,
    "n": None,
    "D": Decimal,
    "d": date,
    "t": datetime,
}


class _Booking(Struct, array_like=True):
    record_id: str | None
    names: list[str]
    types: str
    values: Raw


class _FieldDiff(Struct, array_like=True):
    field: str
    sources: list[str]
    types: str
    values: Raw


class _Break(Struct, array_like=True):
    break_id: str
    kind: Kind
    missing_in: str | None
    status: Status
    fields: list[_FieldDiff]
    first_seen: datetime
    updated_at: datetime
    version: int
    workflow: Workflow | None = None


class _State(Struct, array_like=True):
    bookings: dict[str, list[_Booking]]
    waiting_since: datetime | None
    current: _Break | None
    generation: int
    matched: bool
    settled_since: datetime | None
    seen_until: datetime | None


class _TableValue(Struct, array_like=True):
    format: int
    state: _State
    offsets: dict[str, int]


_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(_TableValue)


def dump(state: KeyState, offsets: dict[str, int]) -> bytes:
    c = state.current
    current: tuple[Any, ...] | None = None
    if c is not None:
        diffs = [
            (d.field, list(d.values), *_typed((*d.values.values(), d.delta))) for d in c.fields
        ]
        current = (
            c.break_id,
            c.kind,
            c.missing_in,
            c.status,
            diffs,
            _instant(c.first_seen),
            _instant(c.updated_at),
            c.version,
        )
        if c.workflow is not None:
            current += (c.workflow,)
    bookings = {
        source: [(b.record_id, list(b.fields), *_typed(tuple(b.fields.values()))) for b in held]
        for source, held in state.bookings.items()
    }
    value = (
        FORMAT,
        (
            bookings,
            _instant(state.waiting_since),
            current,
            state.generation,
            state.matched,
            _instant(state.settled_since),
            _instant(state.seen_until),
        ),
        offsets,
    )
    return _ENCODER.encode(value)


def load(raw: bytes) -> tuple[KeyState, dict[str, int]]:
    """A table value written by :func:`dump`; ``ValueError`` (msgspec's) if it is not one."""
    value = _DECODER.decode(raw)
    if value.format != FORMAT:
        raise ValueError(f"unknown diff state format {value.format}")
    s = value.state
    bookings = {
        source: tuple(
            Booking(b.record_id, dict(zip(b.names, _read(b.types, b.values), strict=True)))
            for b in held
        )
        for source, held in s.bookings.items()
    }
    c = s.current
    current = None
    if c is not None:
        current = Break(
            c.break_id,
            c.kind,
            c.missing_in,
            c.status,
            tuple(_field_diff(d) for d in c.fields),
            c.first_seen,
            c.updated_at,
            c.version,
            c.workflow,
        )
    state = KeyState(
        bookings,
        s.waiting_since,
        current,
        s.generation,
        s.matched,
        s.settled_since,
        s.seen_until,
    )
    return state, value.offsets


def _field_diff(d: _FieldDiff) -> FieldDiff:
    *values, delta = _read(d.types, d.values)
    return FieldDiff(d.field, dict(zip(d.sources, values, strict=True)), delta)


def _instant(value: datetime | None) -> datetime | str | None:
    """An instant as MessagePack keeps it exactly: UTC (or naive) as it is, any other
    offset as ISO text (MessagePack's timestamp would bring it back in UTC)."""
    if value is None or value.tzinfo is None or value.tzinfo is UTC:
        return value
    return value.isoformat()


def _typed(values: tuple[Value, ...]) -> tuple[str, tuple[Any, ...]]:
    """The type letters of a row of values, and the values as MessagePack carries them."""
    letters = "".join([_LETTER.get(type(v), "?") for v in values])
    if "?" in letters or "t" in letters or "i" in letters:
        return _typed_one_by_one(values)
    return letters, values


def _typed_one_by_one(values: tuple[Value, ...]) -> tuple[str, tuple[Any, ...]]:
    letters, out = [], []
    for v in values:
        stored: Any = v
        if v is None:
            letter = "n"
        elif isinstance(v, bool):
            letter = "b"
        elif isinstance(v, int):
            letter, stored = ("i", int(v)) if LONG_MIN <= v <= LONG_MAX else ("I", str(v))
        elif isinstance(v, str):
            letter, stored = "s", str(v)
        elif isinstance(v, Decimal):
            letter = "D"
        elif isinstance(v, datetime):
            letter, stored = "t", _instant(v)
        elif isinstance(v, date):
            letter = "d"
        else:
            raise TypeError(f"the diff state cannot hold a {type(v).__name__} value")
        letters.append(letter)
        out.append(stored)
    return "".join(letters), tuple(out)


def _read(types: str, values: Raw) -> tuple[Value, ...]:
    row: tuple[Any, ...] = _row_decoder(types).decode(values)
    if "I" in types:
        row = tuple(int(v) if t == "I" else v for t, v in zip(types, row, strict=True))
    return row


@lru_cache(maxsize=1024)
def _row_decoder(types: str) -> msgspec.msgpack.Decoder[tuple[Any, ...]]:
    """A decoder for a row of values of these types (a handful per recon and source)."""
    try:
        row: Any = tuple.__class_getitem__(tuple(_TYPE[t] for t in types))  # tuple[str, ...]
    except KeyError as exc:
        raise ValueError(f"unknown value type letter {exc} in the diff state") from None
    return msgspec.msgpack.Decoder(row)
