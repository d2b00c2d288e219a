"""The sink: attributed breaks from Kafka into PostgreSQL, then out to Redis for SSE.

At-least-once with idempotent writes: a batch is upserted in one transaction (by version),
published to Redis, and only then are the Kafka offsets committed. A crash between the two
replays the batch, which the version guard turns into no-ops.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import redis
from confluent_kafka import Consumer, KafkaError

from bff.db import upsert_breaks
from bff.models import BreakOut
from streams.avro import DecodeError, codec
from streams.kafka import SafeProducer
from streams.settings import Settings
from streams.topics import Topics

log = logging.getLogger(__name__)
BATCH = 500


def channel(prefix: str) -> str:
    """The Redis pub/sub channel every BFF replica streams to its SSE clients."""
    return f"{prefix}:breaks"


class BreakSink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        self.stored = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="break-sink", daemon=True)
        self._codec = codec("Break")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka(),
                "group.id": f"{self.settings.topic_prefix}-bff-sink",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([self.topics.attributed])
        dead = SafeProducer(self.settings.kafka())
        fanout = redis.Redis.from_url(self.settings.redis())
        conn = psycopg.connect(self.settings.database())
        try:
            while not self._stop.is_set():
                messages = consumer.consume(BATCH, timeout=0.5)
                if not messages:
                    continue
                breaks = self._decode(messages, dead)
                if breaks:
                    upsert_breaks(conn, breaks)
                    pipe = fanout.pipeline(transaction=False)
                    for b in breaks:
                        pipe.publish(
                            channel(self.settings.topic_prefix),
                            BreakOut.from_datum(b).model_dump_json(),
                        )
                    pipe.execute()
                    self.stored += len(breaks)
                dead.flush()
                consumer.commit(asynchronous=False)
        except Exception:
            # Crash-only: offsets of the failed batch are not committed, so a restarted BFF
            # redoes it. Exiting lets the supervisor (greenai up, Kubernetes) restart us.
            log.exception("break sink failed; exiting so the process is restarted")
            os._exit(70)
        finally:
            consumer.close()
            conn.close()
            fanout.close()

    def _decode(self, messages: list[Any], dead: SafeProducer) -> list[dict[str, Any]]:
        breaks = []
        for m in messages:
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    log.warning("consume error: %s", m.error())
                continue
            try:
                breaks.append(self._codec.decode(m.value()))
            except DecodeError as exc:
                where = f"{m.topic()}/{m.partition()}@{m.offset()}"
                dead.send(
                    self.topics.deadletter,
                    where.encode(),
                    codec("DeadLetter").encode(
                        {
                            "recon": "",
                            "source": "",
                            "location": where,
                            "raw": m.value().decode("utf-8", "backslashreplace"),
                            "reason": str(exc),
                            "stage": "sink",
                            "at": datetime.now(UTC),
                        }
                    ),
                )
        return breaks

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
