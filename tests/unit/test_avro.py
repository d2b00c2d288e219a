from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from streams.avro import DecodeError, codec, value_from_avro, value_to_avro


def test_source_record_round_trips_every_type_exactly() -> None:
    values = {
        "d": Decimal("-1234.5000"),
        "day": date(2026, 2, 28),
        "ts": datetime(2026, 1, 1, tzinfo=UTC),
        "b": False,
        "i": 7,
        "s": "x",
        "n": None,
    }
    record = codec("SourceRecord")
    encoded = record.encode(
        {
            "recon": "r",
            "source": "s",
            "key": {"k": "1"},
            "origin": "f:2",
            "fields": {k: value_to_avro(v) for k, v in values.items()},
            "published_at": datetime.now(UTC),
        }
    )
    assert encoded[:2] == b"\xc3\x01" and encoded[2:10] == record.fingerprint
    decoded = record.decode(encoded)
    assert {k: value_from_avro(v) for k, v in decoded["fields"].items()} == values
    assert str(value_from_avro(decoded["fields"]["d"])) == "-1234.5000"


def test_foreign_bytes_are_rejected_with_a_reason() -> None:
    with pytest.raises(DecodeError, match="not an Avro single-object"):
        codec("Break").decode(b"{}")
    with pytest.raises(DecodeError, match="unknown Break writer schema"):
        codec("Break").decode(b"\xc3\x01" + b"\0" * 8 + b"\0")


def test_a_message_of_the_current_schema_is_read_without_schema_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A history version equal to the current schema must not send every message of the
    current schema through resolution (a deep comparison of two equal schemas each time)."""
    import fastavro

    avro = codec("DiffTimer")
    readers: list[object] = []
    real = fastavro.schemaless_reader

    def spy(fo: object, writer: object, reader: object = None, **options: bool) -> object:
        readers.append(reader)
        return real(fo, writer, reader, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(fastavro, "schemaless_reader", spy)
    datum = {
        "recon": "trades",
        "key": {"trade_id": "T1"},
        "deadline": datetime(2026, 1, 1, tzinfo=UTC),
    }
    assert avro.decode(avro.encode(datum)) == datum
    assert readers == [None]
    for name in ("SourceRecord", "Break", "Match", "DeadLetter", "Feedback", "Alert"):
        assert codec(name)._writers[codec(name).fingerprint] is codec(name).schema


def test_source_record_values_read_without_record_names_are_the_same_values() -> None:
    avro = codec("SourceRecord")
    values = {
        "d": Decimal("-1234.5000"),
        "ts": datetime(2026, 1, 1, 12, 30, 0, 5, tzinfo=UTC),
        "day": date(2026, 2, 28),
        "s": "x",
        "n": None,
    }
    datum = {
        "recon": "r",
        "source": "s",
        "key": {"k": "1"},
        "record_id": None,
        "deleted": False,
        "fields": {k: value_to_avro(v) for k, v in values.items()},
        "origin": "o",
        "published_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    raw = avro.encode(datum)
    for names in (True, False):
        fields = avro.decode(raw, record_names=names)["fields"]
        assert {k: value_from_avro(v) for k, v in fields.items()} == values
