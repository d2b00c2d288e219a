"""Partition batches: the wire format of records and timers, and how they are gathered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from streams.avro import SCHEMA_DIR, codec, value_to_avro
from streams.batches import MAX_BATCH_BYTES, BatchCodec, Gatherer, Limits
from streams.diff.inputs import Poison, RecordIn, at_home, check, placed, unpack
from streams.keys import partition_of, recon_key_bytes
from streams.recon import Recon

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def record(trade: str, amount: str = "10.00", source: str = "ledger") -> dict[str, object]:
    from decimal import Decimal

    return {
        "recon": "trades",
        "source": source,
        "key": {"trade_id": trade},
        "record_id": None,
        "deleted": False,
        "fields": {"amount": value_to_avro(Decimal(amount))},
        "origin": f"t.csv:{trade}",
        "published_at": AT,
    }


@pytest.mark.parametrize("item", ["SourceRecord", "DiffTimer"])
def test_a_batch_schema_carries_its_item_schema_unchanged(item: str) -> None:
    batch = json.loads((SCHEMA_DIR / f"{item}Batch.avsc").read_text())
    assert batch["fields"][0]["type"]["items"] == json.loads(
        (SCHEMA_DIR / f"{item}.avsc").read_text()
    )


def test_a_batch_is_read_as_its_items_in_order_and_by_plain_fastavro() -> None:
    import io

    import fastavro

    records = BatchCodec("SourceRecord")
    value = records.encode([records.body(record(f"T{n}")) for n in range(300)])
    assert [r["key"]["trade_id"] for r in records.decode(value)] == [f"T{n}" for n in range(300)]
    # any Avro reader with the schema reads it: a block count, the items, a zero
    plain = fastavro.schemaless_reader(io.BytesIO(value[10:]), records.batch.schema, None)
    assert len(plain["records"]) == 300  # type: ignore[index,arg-type]


def test_a_truncated_or_foreign_batch_is_poison_with_a_reason() -> None:
    records = BatchCodec("SourceRecord")
    value = records.encode([records.body(record("T1")), records.body(record("T2"))])
    with pytest.raises(Poison, match="undecodable SourceRecordBatch"):
        unpack(None, value[:-8], timers=False)
    with pytest.raises(Poison, match="not a recon key"):
        unpack(None, b"garbage", timers=False)  # neither a batch nor keyed as one record


def test_a_bad_item_of_a_batch_is_poison_alone_and_dead_letters_as_one_record() -> None:
    records = BatchCodec("SourceRecord")
    bad = record("T2") | {"fields": {"amount": {"text": "not-a-number"}}}
    value = records.encode(
        [records.body(record("T1")), records.body(bad), records.body(record("T3"))]
    )
    unpacked = unpack(None, value, timers=False)
    kinds = [type(item).__name__ for item in unpacked.items]
    assert kinds == ["RecordIn", "Poison", "RecordIn"]
    raw = unpacked.raw(1, timers=False)
    assert raw is not None and codec("SourceRecord").decode(raw)["key"] == {"trade_id": "T2"}


def test_a_one_record_message_of_before_batches_is_still_read_under_its_key(
    recon: Recon,
) -> None:
    single = codec("SourceRecord").encode(record("T9"))
    key = recon_key_bytes("trades", {"trade_id": "T9"})
    unpacked = unpack(key, single, timers=False)
    (item,) = unpacked.items
    assert isinstance(item, RecordIn) and not unpacked.batch
    assert check(recon, item) == key
    placed(key, unpacked, key)
    with pytest.raises(Poison, match="is not the message's recon key"):
        placed(key, unpacked, b'["trades",["T8"]]')


def test_a_key_outside_its_home_partition_is_poison() -> None:
    key = recon_key_bytes("trades", {"trade_id": "T1"})
    home = partition_of(key, 12)
    at_home(key, home, 12)
    with pytest.raises(Poison, match=f"lives in partition {home}, not in {(home + 1) % 12}"):
        at_home(key, (home + 1) % 12, 12)


def test_batches_leave_full_by_count_or_by_size_and_none_is_over_the_size() -> None:
    gather = Gatherer(Limits(items=3, size=10, linger=60))
    out = [ready for body in [b"aaaa", b"bbbb", b"cccc", b"d"] for ready in gather.add(0, body, 0)]
    assert out == [(0, [b"aaaa", b"bbbb"])]  # a third 4-byte body would pass 10 bytes
    assert gather.add(0, b"e", 0) == [(0, [b"cccc", b"d", b"e"])]  # three items
    assert len(gather) == 0 and gather.drain() == []
    assert Limits().size == MAX_BATCH_BYTES < 1_000_000  # librdkafka's message.max.bytes


def test_thousands_of_records_over_many_partitions_each_leave_once_in_order() -> None:
    gather = Gatherer(Limits(items=500, linger=0.05))
    sent: dict[int, list[bytes]] = {}
    for n in range(20_000):
        body = str(n).encode()
        for partition, bodies in gather.add(n % 12, body, now=n / 10_000):
            sent.setdefault(partition, []).extend(bodies)
    for partition, bodies in gather.drain():
        sent.setdefault(partition, []).extend(bodies)
    assert sum(len(v) for v in sent.values()) == 20_000
    for partition, bodies in sent.items():
        assert [int(b) for b in bodies] == list(range(partition, 20_000, 12))
