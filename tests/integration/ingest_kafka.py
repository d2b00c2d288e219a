"""The real ingest path on the session's Kafka, in process: ``ingest_file`` with a
``SourceContext`` per source, topics under a fresh prefix, and what Kafka holds read back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.avro import codec, value_from_avro
from streams.batches import BatchCodec
from streams.ingest.context import SourceContext
from streams.ingest.drops import ingest_file
from streams.recon import Recon
from streams.topics import Topics, ensure_topics
from tests.integration.connector_servers import read_topic

FIELDS = {
    "trade_id": "string",
    "amount": "decimal",
    "quantity": "integer",
    "booked_at": "timestamp",
    "settle_date": "date",
    "active": "boolean",
    "note": "string",
}
COLUMNS = list(FIELDS)
RECON = Recon.model_validate(
    {
        "name": "robust",
        "key": ["trade_id"],
        "sources": {
            "ledger": {"fields": FIELDS},  # 1,234.50
            "custody": {  # 1.234,50
                "fields": FIELDS,
                "decimal_separator": ",",
                "thousands_separator": ".",
            },
        },
    }
)


@dataclass
class KafkaIngest:
    bootstrap: str
    home: Path
    prefix: str = field(default_factory=lambda: f"robust_{uuid.uuid4().hex[:8]}")
    _contexts: dict[str, SourceContext] = field(default_factory=dict)
    _consumer: Consumer | None = None

    def __post_init__(self) -> None:
        ensure_topics(self.bootstrap, self.prefix)
        self.topics = Topics(self.prefix)
        deadline = time.monotonic() + 30
        while True:  # a topic just created has no partition leader for a moment
            try:
                self.ends()
                return
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def context(self, source: str) -> SourceContext:
        if source not in self._contexts:
            self._contexts[source] = SourceContext.create(
                self.bootstrap, self.prefix, RECON, source, self.home, progress=False
            )
        return self._contexts[source]

    def ingest(self, path: Path, source: str = "ledger") -> dict[str, Any]:
        """``greenai ingest file``'s path; it must return normally with consistent counts."""
        summary = ingest_file(self.context(source), path)
        assert summary is not None
        assert summary["read"] == summary["published"] + summary["dead_lettered"]
        return summary

    def _ends_consumer(self) -> Consumer:
        if self._consumer is None:
            self._consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "ends"})
        return self._consumer

    def ends(self) -> tuple[int, int]:
        """How many records and dead letters the prefix's topics hold (high watermarks)."""
        consumer = self._ends_consumer()
        totals = []
        for topic in (self.topics.records, self.topics.deadletter):
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            totals.append(
                sum(
                    consumer.get_watermark_offsets(
                        TopicPartition(topic, p), timeout=10, cached=False
                    )[1]
                    for p in partitions
                )
            )
        return totals[0], totals[1]

    def record_marks(self) -> dict[int, int]:
        """The records topic's high watermark per partition, for :meth:`records_since`."""
        consumer = self._ends_consumer()
        topic = self.topics.records
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
            for p in partitions
        }

    def records_since(self, marks: dict[int, int]) -> int:
        """How many records the partition batches after ``marks`` carry."""
        ends = self.record_marks()
        todo = {p: (marks[p], end) for p, end in ends.items() if end > marks[p]}
        if not todo:
            return 0
        consumer = Consumer(
            {"bootstrap.servers": self.bootstrap, "group.id": "since", "enable.auto.commit": False}
        )
        batches, count = BatchCodec("SourceRecord"), 0
        try:
            consumer.assign(
                [TopicPartition(self.topics.records, p, a) for p, (a, _) in todo.items()]
            )
            left = dict(todo)
            while left:
                for message in consumer.consume(500, timeout=1.0):
                    if message.error():
                        continue
                    partition, offset = message.partition() or 0, message.offset() or 0
                    if partition in left and offset < left[partition][1]:
                        count += len(batches.decode(message.value() or b""))
                    if partition in left and offset >= left[partition][1] - 1:
                        del left[partition]
        finally:
            consumer.close()
        return count

    def records(self) -> dict[str, dict[str, Any]]:
        """Published records by origin (each origin at most once), fields decoded."""
        out: dict[str, dict[str, Any]] = {}
        batches = BatchCodec("SourceRecord")
        for value in read_topic(self.bootstrap, self.topics.records):
            for record in batches.decode(value, record_names=True):
                record["fields"] = {k: value_from_avro(v) for k, v in record["fields"].items()}
                assert record["origin"] not in out, f"{record['origin']} published twice"
                out[record["origin"]] = record
        return out

    def dead_letters(self) -> dict[str, dict[str, Any]]:
        """Dead letters by location (each location at most once)."""
        out: dict[str, dict[str, Any]] = {}
        for value in read_topic(self.bootstrap, self.topics.deadletter):
            dead = codec("DeadLetter").decode(value)
            assert dead["location"] not in out, f"{dead['location']} dead-lettered twice"
            out[dead["location"]] = dead
        return out

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
        for ctx in self._contexts.values():
            ctx.producer.flush()
