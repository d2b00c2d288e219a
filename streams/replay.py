"""Replay: publish a recon's recorded history again so the diff re-evaluates it.

The records of the recon since a moment are read back from ``greenai.records`` and published
again, unchanged, each to the partition it was read from (its recon key's), in partition
batches. The diff takes each as an amendment of what it holds: identical records change
nothing, while keys whose verdict changes under the current recon definition (a new
tolerance, say) update their break. ``break_id``s are stable, so a replay never creates a
second break for the same thing. A message that cannot be read was dead-lettered when it
first came and is not replayed.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from confluent_kafka import Consumer, TopicPartition

from streams.avro import DecodeError
from streams.batches import BatchCodec, Gatherer
from streams.kafka import FROM_SETTINGS, SafeProducer, Security, resolve_security
from streams.kafka_security import confluent_security


def replay(
    bootstrap: str,
    topic: str,
    recon: str,
    since: datetime,
    *,
    security: Security = FROM_SETTINGS,
) -> int:
    """Re-publish ``recon``'s records in ``topic`` from ``since`` up to now; returns how many."""
    security = resolve_security(security, bootstrap)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            **confluent_security(security),
            "group.id": f"greenai-replay-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    producer = SafeProducer(bootstrap, security=security)
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        millis = int(since.timestamp() * 1000)
        starts = consumer.offsets_for_times(
            [TopicPartition(topic, p, millis) for p in partitions], timeout=10
        )
        # Stop at today's end of each partition, so the replayed copies are not replayed again.
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in starts}
        todo = [tp for tp in starts if 0 <= tp.offset < ends[tp.partition]]
        if not todo:
            return 0
        consumer.assign(todo)
        remaining = {tp.partition for tp in todo}
        records, gathered = BatchCodec("SourceRecord"), Gatherer()

        def send(ready: list[tuple[int, list[bytes]]]) -> None:
            for partition, bodies in ready:
                producer.send(topic, None, records.encode(bodies), partition)

        replayed = 0
        while remaining:
            for message in consumer.consume(500, timeout=1.0):
                if message.error():
                    continue  # partition EOF: checked by offset below
                partition, offset = message.partition() or 0, message.offset() or 0
                if partition in remaining and offset < ends[partition]:
                    try:
                        items = records.decode(message.value() or b"", record_names=True)
                    except (DecodeError, ValueError, EOFError, IndexError, TypeError):
                        items = []
                    for item in items:
                        if item["recon"] == recon:
                            send(gathered.add(partition, records.body(item), time.monotonic()))
                            replayed += 1
                if offset >= ends[partition] - 1:
                    remaining.discard(partition)
        send(gathered.drain())
        producer.flush()
        return replayed
    finally:
        consumer.close()
