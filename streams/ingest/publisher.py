"""Publishing rows of one source: a SourceRecord per good row, a DeadLetter per bad one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from streams.avro import codec, value_to_avro
from streams.ingest.files import RawRow
from streams.ingest.validate import BadRow, canonical_row
from streams.kafka import SafeProducer
from streams.recon import Recon
from streams.topics import Topics


@dataclass
class Counts:
    """read = published + dead_lettered, always."""

    read: int = 0
    published: int = 0
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


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
            if raw.problem:
                raise BadRow(raw.problem)
            row = canonical_row(self.recon, self.source, raw.row)
        except BadRow as exc:
            self.dead_letter(raw.location, raw.raw_text(), str(exc), now)
            return
        value = self._records.encode(
            {
                "recon": self.recon.name,
                "source": self.source,
                "key": row.key,
                "record_id": row.record_id,
                "deleted": row.deleted,
                "fields": {k: value_to_avro(v) for k, v in row.fields.items()},
                "origin": raw.location,
                "published_at": now,
            }
        )
        self.producer.send(self.topics.records, row.kafka_key(self.recon.name), value)
        self.counts.published += 1

    def dead_letter(self, location: str, raw: str, reason: str, now: datetime) -> None:
        value = self._dead.encode(
            {
                "recon": self.recon.name,
                "source": self.source,
                "location": location,
                "raw": raw,
                "reason": reason,
                "stage": "ingest",
                "at": now,
            }
        )
        self.producer.send(self.topics.deadletter, location.encode(), value)
        self.counts.dead_lettered += 1

    def publish_all(self, rows: Iterable[RawRow]) -> Counts:
        for raw in rows:
            self.publish(raw)
        self.producer.flush()
        return self.counts
