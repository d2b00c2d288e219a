"""Publishing rows of one source: a SourceRecord per good row, a DeadLetter per bad one.

Records go out in partition batches (:mod:`streams.batches`): each record's partition is
its recon key's (murmur2), and a batch leaves at its size limit, after its linger, or when
the producer is flushed — so a caller's ``producer.flush()`` still means "all acknowledged".

Nothing one row holds can end the run: a row that fails validation, parsing or Avro encoding,
or that is too large for a Kafka message, is dead-lettered with a one-line reason and the row's
location, and publishing goes on. Only the infrastructure ends a run: Kafka not accepting or
not acknowledging records (``SafeProducer`` raises).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from streams import tracing
from streams.avro import codec, source_record
from streams.batches import DEFAULT_LIMITS, BatchCodec, Gatherer, Limits
from streams.ingest.dead_letters import LOCATION_LIMIT, describe, one_line, printable, raw_text
from streams.ingest.files import RawRow
from streams.ingest.validate import BadRow, canonical_row
from streams.kafka import SafeProducer
from streams.keys import partition_of
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
    """A record that no batch can carry under the producer's ``message.max.bytes``."""

    def __init__(self, size: int) -> None:
        super().__init__(f"record too large for Kafka: {size} bytes, over message.max.bytes")


class SourcePublisher:
    def __init__(
        self,
        producer: SafeProducer,
        topics: Topics,
        recon: Recon,
        source: str,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
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
        self._records = BatchCodec("SourceRecord")
        self._dead = codec("DeadLetter")
        self._partitions = 0  # read from Kafka at the first record
        self._gathered = Gatherer(limits)
        producer.before_flush(self.send_batches)

    def publish(self, raw: RawRow) -> None:
        self.counts.read += 1
        now = datetime.now(UTC)
        try:
            key, body = self._record(raw, now)
        except (BadRow, RecordTooLarge) as exc:
            self.dead_letter(raw.location, raw.raw_text(), str(exc), now)
            return
        if not self._partitions:
            self._partitions = self.producer.partitions(self.topics.records)
        partition = partition_of(key, self._partitions)
        for ready in self._gathered.add(partition, body, time.monotonic()):
            self._send_batch(*ready)
        self.counts.published += 1  # acknowledged by the next flush, which raises otherwise

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
            body = self._records.body(
                source_record(self.recon.name, self.source, row, printable(raw.location), now)
            )
        except Exception as exc:  # fastavro: ValueError, TypeError, OverflowError ...
            raise BadRow(f"cannot encode the record as Avro: {describe(exc)}") from exc
        if len(body) > self._gathered.limits.size:
            raise RecordTooLarge(len(body) + len(self._records.single.header))
        return row.kafka_key(self.recon.name), body

    def _send_batch(self, partition: int, bodies: list[bytes]) -> None:
        value = self._records.encode(bodies)
        self.producer.send(self.topics.records, None, value, partition, tracing.headers())

    def send_batches(self) -> None:
        """Send every batch still gathering (the producer's flush calls this first)."""
        for ready in self._gathered.drain():
            self._send_batch(*ready)

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
