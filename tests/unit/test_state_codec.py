"""The diff table's value: MessagePack now, and the JSON values already in changelogs.

A table value written before the MessagePack codec (the bytes below, written by the code of
commit 2ccb72b) still loads to the same state; the codec keeps every value exactly —
decimals with their digits and exponent, never through a float; dates; instants to the
microsecond with their offset — on hand-picked edge values and on every state a generated
feed goes through.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from streams.diff.compare import FieldDiff
from streams.diff.lifecycle import Booking, Break, Incoming, KeyState, apply_record
from streams.diff.state_json import state_to_json
from streams.diff.stored import Stored
from streams.domain.vocabulary import Kind, Status
from streams.ingest.synthetic import TradeGenerator
from streams.ingest.validate import canonical_row
from streams.recon import load_recon
from streams.values import LONG_MAX, LONG_MIN, Value

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "trades.yaml"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# Stored(the_state()).dump() by the code before the MessagePack codec (commit 2ccb72b)
OLD_JSON_VALUE = (
    b'{"s":{"b":{"ledger":[["B1",{"booking_id":"B1","trade_id":"T1","amount":{"d":"1000.50"},'
    b'"quantity":7,"settle_date":{"date":"2026-11-30"},"booked_at":{"ts":"2026-11-26T11:59:01'
    b'.250000+00:00"},"counterparty":"Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale","active":true,'
    b'"note":null}],["B2",{"booking_id":"B2","trade_id":"T1","amount":{"d":"1000.50"},"quantit'
    b'y":7,"settle_date":{"date":"2026-11-30"},"booked_at":{"ts":"2026-11-26T13:00:00+01:00"},'
    b'"counterparty":"Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale","active":true,"note":null}]],"c'
    b'ustody":[[null,{"trade_id":"T1","amount":{"d":"1000.25"},"quantity":7,"settle_date":{"da'
    b'te":"2026-12-01"},"counterparty":"SOCGEN","active":false,"note":""}]]},"w":null,"c":{"id'
    b'":"b-0123456789abcdef01234567","kind":"MISMATCH","missing_in":null,"status":"OPEN","fiel'
    b'ds":[["amount",{"ledger":{"d":"1000.50"},"custody":{"d":"1000.25"}},{"d":"-0.25"}],["set'
    b'tle_date",{"ledger":{"date":"2026-11-30"},"custody":{"date":"2026-12-01"}},1],["note",{"'
    b'ledger":null,"custody":""},null]],"first_seen":"2026-11-26T12:00:00+00:00","updated_at":'
    b'"2026-11-26T12:00:03+00:00","version":2},"g":3,"m":false,"s":null,"u":"2026-11-26T12:00:'
    b'03+00:00"},"o":{"r":41,"t":7}}'
)


def the_state() -> Stored:
    booked = datetime(2026, 11, 26, 11, 59, 1, 250000, tzinfo=UTC)
    ledger = Booking(
        "B1",
        {
            "booking_id": "B1",
            "trade_id": "T1",
            "amount": Decimal("1000.50"),
            "quantity": 7,
            "settle_date": date(2026, 11, 30),
            "booked_at": booked,
            "counterparty": "Société Générale",
            "active": True,
            "note": None,
        },
    )
    in_paris = datetime(2026, 11, 26, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    again = Booking("B2", ledger.fields | {"booking_id": "B2", "booked_at": in_paris})
    custody = Booking(
        None,
        {
            "trade_id": "T1",
            "amount": Decimal("1000.25"),
            "quantity": 7,
            "settle_date": date(2026, 12, 1),
            "counterparty": "SOCGEN",
            "active": False,
            "note": "",
        },
    )
    diffs = (
        FieldDiff(
            "amount",
            {"ledger": Decimal("1000.50"), "custody": Decimal("1000.25")},
            Decimal("-0.25"),
        ),
        FieldDiff("settle_date", {"ledger": date(2026, 11, 30), "custody": date(2026, 12, 1)}, 1),
        FieldDiff("note", {"ledger": None, "custody": ""}, None),
    )
    brk = Break(
        "b-0123456789abcdef01234567",
        Kind.MISMATCH,
        None,
        Status.OPEN,
        diffs,
        T0,
        T0 + timedelta(seconds=3),
        2,
    )
    bookings = {"ledger": (ledger, again), "custody": (custody,)}
    state = KeyState(bookings, None, brk, 3, False, None, T0 + timedelta(seconds=3))
    return Stored(state, {"r": 41, "t": 7})


def exactly(a: Stored, b: Stored) -> bool:
    """Equal, and alike in every value's type, digits, exponent and offset."""
    return a == b and repr(a) == repr(b)


def test_an_old_json_table_value_loads_to_the_same_key_state() -> None:
    assert exactly(Stored.load(OLD_JSON_VALUE), the_state())


def test_the_table_value_is_messagepack_and_loads_back_exactly() -> None:
    raw = the_state().dump()
    assert raw[:1] != b"{" and raw[0] & 0xF0 == 0x90  # a MessagePack array
    assert exactly(Stored.load(raw), the_state())
    assert exactly(Stored.load(Stored.load(OLD_JSON_VALUE).dump()), the_state())


EDGE_VALUES: list[Value] = [
    Decimal("1000.50"),
    Decimal("-0"),
    Decimal("0E-38"),
    Decimal("1E+2"),
    Decimal("12345678901234567890.123456789012345678"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-Infinity"),
    date(1, 1, 1),
    date(9999, 12, 31),
    datetime(2026, 11, 26, 12, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 11, 26, 17, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 11, 26, 7, 0, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 11, 26, 12, 0, 0, 999999),  # naive
    LONG_MIN,
    LONG_MAX,
    2**64 - 1,
    -(2**64 - 1),  # a delta of two 64-bit integers
    0,
    True,
    False,
    None,
    "",
    "Société Générale \U0001f600",
]


@pytest.mark.parametrize("value", EDGE_VALUES, ids=repr)
def test_the_codec_keeps_each_value_exactly(value: Value) -> None:
    other = Decimal("1") if not isinstance(value, Decimal) else None
    brk = Break(
        "b-1",
        Kind.MISMATCH,
        None,
        Status.RESOLVED,
        (FieldDiff("f", {"a": value, "b": other}, value),),
        T0,
        T0,
        1,
    )
    at = value if isinstance(value, datetime) else T0
    state = KeyState({"a": (Booking("1", {"f": value, "g": "x"}),)}, at, brk, 1, True, at, at)
    stored = Stored(state, {"r": 1})
    loaded = Stored.load(stored.dump())
    assert repr(loaded) == repr(stored)
    if not (isinstance(value, Decimal) and value.is_nan()):  # NaN is never equal, not even
        assert loaded == stored  # to itself


def test_the_codec_and_the_json_form_agree_on_every_state_of_a_generated_feed() -> None:
    recon = load_recon(DEMO)
    generator = TradeGenerator(seed=3, break_rate=0.5, variety=True)
    rng = random.Random(3)
    states: dict[str, KeyState] = {}
    checked = 0
    for n in range(1500):
        pair = generator.pair()
        rows = [("ledger", r) for r in pair.ledger] + [("custody", r) for r in pair.custody]
        rng.shuffle(rows)
        for source, raw in rows:
            row = canonical_row(recon, source, raw)
            incoming = Incoming(source, row.record_id, row.fields, row.deleted)
            now = T0 + timedelta(seconds=n)
            before = states.get(pair.trade_id, KeyState())
            state, _ = apply_record(recon, before, row.key, incoming, now)
            states[pair.trade_id] = state
            stored = Stored(state, {"r": n})
            assert exactly(Stored.load(stored.dump()), stored)
            assert state_to_json(Stored.load(stored.dump()).state) == state_to_json(state)
            checked += 1
    assert checked > 2500


FORMAT_2 = msgspec.msgpack.encode([2, [{}, None, None, 0, False, None, None], {}])
UNKNOWN_LETTER = msgspec.msgpack.encode(
    [1, [{"a": [[None, ["f"], "?", ["x"]]]}, None, None, 0, False, None, None], {}]
)
NAMES_AND_VALUES_APART = msgspec.msgpack.encode(
    [1, [{"a": [[None, ["f", "g"], "s", ["x"]]]}, None, None, 0, False, None, None], {}]
)


@pytest.mark.parametrize(
    "raw",
    [FORMAT_2, b"\x91\x01", b"\xc1", UNKNOWN_LETTER, NAMES_AND_VALUES_APART],
    ids=["unknown format", "too short", "not MessagePack", "unknown type", "names and values"],
)
def test_an_unreadable_table_value_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        Stored.load(raw)
