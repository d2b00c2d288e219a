"""The shared publish loop: nothing is checkpointed unless Kafka acknowledged it, and the
HTTP helpers' retry arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.ingest.files import RawRow
from streams.ingest.http_api import RetryPolicy, dig, retry_after_seconds
from streams.ingest.publisher import Counts, SourcePublisher
from streams.ingest.pump import Pump
from streams.kafka import DeliveryFailed, SafeProducer
from streams.recon import Recon
from streams.topics import Topics


def test_a_batch_kafka_did_not_acknowledge_is_never_checkpointed(recon: Recon) -> None:
    # a real librdkafka producer with no broker behind its address: every delivery fails
    producer = SafeProducer("127.0.0.1:9", **{"message.timeout.ms": 300})
    commits: list[tuple[int | None, bool]] = []
    pump: Pump[int] = Pump(
        SourcePublisher(producer, Topics("unit"), recon, "custody"),
        lambda mark, counts, done: commits.append((mark, done)),
        batch_rows=2,
    )
    rows = [
        (
            RawRow(
                f"f.csv:{i}",
                {"TradeRef": f"T{i}", "Amt": "1", "settle_date": "", "counterparty": ""},
            ),
            i,
        )
        for i in range(2, 6)
    ]
    with pytest.raises(DeliveryFailed):
        pump.run(rows)
    assert commits == []


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Mon, 30 Nov 2026 12:00:05 GMT", now) == 5.0
    assert retry_after_seconds("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retries=6, backoff=0.5, max_backoff=3.0)
    assert [policy.delay(a) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_dig_follows_dotted_paths() -> None:
    body = {"meta": {"next": "c3"}, "data": [1]}
    assert dig(body, "meta.next") == "c3" and dig(body, "") is body
    assert dig(body, "meta.missing.deeper") is None and dig(body, "data.x") is None


def test_counts_add_up() -> None:
    assert Counts(3, 2, 1).as_dict() == {"read": 3, "published": 2, "dead_lettered": 1}
