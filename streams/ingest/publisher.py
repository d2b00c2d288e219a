"""Publishing rows of one source: a SourceRecord per good row, a DeadLetter per bad one.

Nothing one row holds can end the run: a row that fails validation, parsing or Avro encoding,
or that Kafka refuses for its size, is dead-lettered with a one-line reason and the row's
location, and publishing goes on. Only the infrastructure ends a run: Kafka not accepting or
not acknowledging records (``SafeProducer`` raises).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from confluent_kafka import KafkaError, KafkaException

from streams.avro import codec, source_record
from streams.ingest.dead_letters import LOCATION_LIMIT, describe, one_line, printable, raw_text
from streams.ingest.files import RawRow
from streams.ingest.validate import BadRow, canonical_row
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.topics import Topics

log = logging.getLogger("greenai.ingest")


@dataclass
class Counts:
    """read = published + dead_lettered, always."""

    read: int = 0
    published: int = 0
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class RecordTooLarge(Exception):
    """The producer refused a record over its ``message.max.bytes`` (the message: why)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"record too large for Kafka: {size} bytes, over message.max.bytes")


class SourcePublisher:
    def __init__(self, producer: SafeProducer, topics: Topics, recon: Recon, source: str) -> None:
        if source not in recon.sources:
            raise ValueError(
                f"recon {recon.name!r} has no source {source!r} "
                f"(it has {', '.join(recon.source_names)})"
            )
        self.producer = producer
        self.topics = topics
        self.recon = recon
        self.source = source
        self.counts = Counts()
        self._records = codec("SourceRecord")
        self._dead = codec("DeadLetter")

    def publish(self, raw: RawRow) -> None:
        self.counts.read += 1
        now = datetime.now(UTC)
        try:
            key, value = self._record(raw, now)
            self._send(self.topics.records, key, value)
        except (BadRow, RecordTooLarge) as exc:
            self.dead_letter(raw.location, raw.raw_text(), str(exc), now)
        else:
            self.counts.published += 1

    def _record(self, raw: RawRow, now: datetime) -> tuple[bytes, bytes]:
        """The Kafka key and Avro value of a good row; ``BadRow`` says why a row is not."""
        if raw.problem:
            raise BadRow(raw.problem)
        try:
            row = canonical_row(self.recon, self.source, raw.row)
        except BadRow:
            raise
        except Exception as exc:  # an input no rule foresaw: the row fails, not the run
            log.warning("%s: cannot validate the row", raw.location, exc_info=True)
            raise BadRow(f"cannot validate the row: {describe(exc)}") from exc
        try:
            value = self._records.encode(
                source_record(self.recon.name, self.source, row, printable(raw.location), now)
            )
        except Exception as exc:  # fastavro: ValueError, TypeError, OverflowError ...
            raise BadRow(f"cannot encode the record as Avro: {describe(exc)}") from exc
        return row.kafka_key(self.recon.name), value

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        try:
            self.producer.send(topic, key, value)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.MSG_SIZE_TOO_LARGE:
                raise RecordTooLarge(len(key) + len(value)) from exc
            raise

    def dead_letter(self, location: str, raw: str, reason: str, now: datetime) -> None:
        """Publish a bad input with its reason; bounded (``dead_letters``) so it always fits."""
        where = printable(location)[:LOCATION_LIMIT]
        value = self._dead.encode(
            {
                "recon": self.recon.name,
                "source": self.source,
                "location": where,
                "raw": raw_text(raw),
                "reason": one_line(reason),
                "stage": "ingest",
                "at": now,
            }
        )
        self.producer.send(self.topics.deadletter, where.encode(), value)
        self.counts.dead_lettered += 1

    def publish_all(self, rows: Iterable[RawRow]) -> Counts:
        for raw in rows:
            self.publish(raw)
        self.producer.flush()
        return self.counts
