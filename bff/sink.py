"""The sink: attributed breaks from Kafka into PostgreSQL, then out to Redis for SSE; and
the matches, for the match rate. Its own process (``python -m bff.sink``, so that BFF
replicas scale without multiplying consumers), or a thread of a single BFF
(``GREENAI_BFF_SINK``, true by default).

At-least-once with idempotent writes: a batch is upserted in one transaction (by version),
and only then are its Kafka offsets stored for librdkafka to commit (in the background,
every ``COMMIT_EVERY_MS``, at a rebalance and on close); a crash in between replays the
batch, which the version guard turns into no-ops. The loop itself never waits on a commit:
a synchronous commit blocks for as long as the broker is away, which would hide the outage
and freeze the health report.

Nothing a dependency or a message does stops it:

- PostgreSQL away: the batch waits and retries with backoff, uncommitted (storage lags, it
  never skips).
- Redis away: storing and committing go on; the fan-out of those changes is skipped, and
  SSE clients recover them from the change feed (``seq``), never from Redis.
- Kafka away: consuming pauses, dead letters and the commit wait and retry.
- A message that is not a Break (empty, truncated, random bytes, null), or one PostgreSQL
  refuses to store, goes to the dead-letter topic alone with its reason.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import psycopg
import redis
from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from opentelemetry.trace import SpanKind

from bff.metrics import SINK_BATCH_SECONDS, SINK_MATCHES, SINK_STORED
from bff.models import BreakOut
from bff.recons import ReconCache
from streams import dead_letter, logs, metrics, tracing
from streams.avro import codec
from streams.domain.workflow_rules import DEFAULT_WORKFLOW, WorkflowRules
from streams.kafka import (
    LIBRDKAFKA,
    DeliveryFailed,
    SafeProducer,
    client_config,
    mark_processed,
)
from streams.retry import Outage, Stopped, until_done_sync
from streams.settings import Settings, load_settings
from streams.store.breaks import StoredChange, change_of, newest_versions, store_breaks
from streams.store.matches import store_matches
from streams.topics import Topics

log = logging.getLogger(__name__)
TRACER = tracing.tracer(__name__)
BATCH = 500
COMMIT_EVERY_MS = 1000
PROBE_EVERY = 2.0  # seconds between checks of a Kafka that seems away
LAG_EVERY = 2.0  # seconds between measurements of the consumer's lag
BREAK = codec("Break")
MATCH = codec("Match")
T = TypeVar("T")


def channel(prefix: str) -> str:
    """The Redis pub/sub channel every BFF replica streams to its SSE clients."""
    return f"{prefix}:breaks"


def _change(brk: dict[str, Any]) -> tuple[str, int, int]:
    return brk["break_id"], brk["version"], brk.get("revision") or 0


def fanout_message(seq: int, brk: BreakOut, carried: tracing.Headers | None = None) -> str:
    """What the sink publishes to Redis: the stored change's ``seq``, the break, and the
    trace it belongs to (its ``traceparent``)."""
    message: dict[str, Any] = {"seq": seq, "break": brk.model_dump(mode="json")}
    message |= {k: v.decode() for k, v in carried or ()}
    return json.dumps(message)


class BreakSink:
    def __init__(self, settings: Settings, recons: ReconCache | None = None) -> None:
        self.settings = settings
        self.recons = recons or ReconCache(settings.database())
        self.topics = Topics(settings.topic_prefix)
        self.stored = 0
        self.dead_lettered = 0
        self.beat = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="break-sink", daemon=True)
        self._postgres = Outage("PostgreSQL (sink)", log)
        self._redis = Outage("Redis (fan-out)", log)
        self._kafka = Outage("Kafka (sink)", log)
        self._kafka_suspect = False
        self._conn: psycopg.Connection[Any] | None = None
        self._probed = 0.0
        self._lag_at = 0.0
        self._batch_started = 0
        self._contexts: dict[tuple[str, int, int], Any] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def status(self) -> dict[str, Any]:
        """What ``/healthz`` reports of the sink."""
        waiting = [o.what for o in (self._postgres, self._kafka) if o.ongoing]
        return {
            "alive": self.alive,
            "seconds_since_last_poll": round(time.monotonic() - self.beat, 1),
            "waiting_for": waiting,
            "fanout_down": self._redis.ongoing,
            "stored": self.stored,
            "dead_lettered": self.dead_lettered,
        }

    def _run(self) -> None:
        consumer = Consumer(
            {
                **client_config(self._kafka, on_unreachable=self._suspect_kafka),
                "bootstrap.servers": self.settings.kafka(),
                "group.id": f"{self.settings.topic_prefix}-bff-sink",
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,  # mark_processed stores them
                "auto.commit.interval.ms": COMMIT_EVERY_MS,
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([self.topics.attributed, self.topics.matches])
        # its connection errors are the consumer's too: the probe says them, once
        dead = SafeProducer(self.settings.kafka(), outage=Outage("Kafka (sink)", LIBRDKAFKA))
        fanout = redis.Redis.from_url(
            self.settings.redis(), socket_timeout=2, socket_connect_timeout=2
        )
        try:
            while not self._stop.is_set():
                messages = consumer.consume(BATCH, timeout=0.5)
                self.beat = time.monotonic()
                if (self._kafka_suspect or self._kafka.ongoing) and not messages:
                    self._probe(consumer)
                started = time.perf_counter()
                self._batch_started = time.time_ns()
                breaks, matches = self._decode(messages, dead)
                if breaks:
                    stored = self._store(breaks, dead)
                    self._fan_out(fanout, breaks, stored)
                    self.stored += len(stored)
                    SINK_STORED.inc(len(stored))
                if matches:
                    self._store_matches(matches, dead)
                    SINK_MATCHES.inc(len(matches))
                if messages:
                    SINK_BATCH_SECONDS.observe(time.perf_counter() - started)
                    self._measure_lag(consumer)
                if messages:
                    self._retry(dead.flush, self._kafka, (DeliveryFailed,))
                    mark_processed(consumer, messages)
        except Stopped:
            pass
        except Exception:
            # Crash-only for what is left (a bug): the batch is not committed, so a restarted
            # BFF redoes it. Exiting lets the supervisor (greenai up, Kubernetes) restart us.
            log.exception("break sink failed; exiting so the process is restarted")
            logging.shutdown()
            os._exit(70)
        finally:
            consumer.close()
            if self._conn is not None:
                self._conn.close()
            fanout.close()

    def _measure_lag(self, consumer: Consumer) -> None:
        """Each assigned partition's messages not consumed yet (watermarks as last fetched)."""
        if time.monotonic() - self._lag_at < LAG_EVERY:
            return
        self._lag_at = time.monotonic()
        try:
            for tp in consumer.position(consumer.assignment()):
                _, high = consumer.get_watermark_offsets(tp, cached=True)
                if tp.offset >= 0 and high >= 0:
                    lag = max(0, high - tp.offset)
                    metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
        except KafkaException:  # the broker is away: the outage says so, the lag waits
            return

    def _suspect_kafka(self, exc: KafkaException) -> None:
        self._kafka_suspect = True

    def _probe(self, consumer: Consumer) -> None:
        """librdkafka said the broker is unreachable and nothing arrives: a metadata request
        tells whether it is (the outage begins) or is back (it ends). librdkafka reports
        some errors late, after the broker came back; a probe is the truth."""
        if time.monotonic() - self._probed < PROBE_EVERY:
            return
        self._probed = time.monotonic()
        try:
            consumer.list_topics(self.topics.attributed, timeout=2)
        except KafkaException as exc:
            self._kafka.failed(exc)
            return
        self._kafka_suspect = False
        self._kafka.recovered()

    def _retry(self, attempt: Any, outage: Outage, errors: tuple[type[BaseException], ...]) -> Any:
        return until_done_sync(attempt, outage, errors, stop=self._stop.is_set)

    # -- one batch -----------------------------------------------------------------------

    def _decode(
        self, messages: list[Message], dead: SafeProducer
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The batch's breaks and matches; whatever is neither is dead-lettered."""
        breaks, matches = [], []
        self._contexts = {}  # the trace of each break change of the batch
        for m in messages:
            error = m.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    self._suspect_kafka(KafkaException(error))
                continue
            self._kafka.recovered()
            is_match = m.topic() == self.topics.matches
            try:
                value = m.value()
                if value is None:
                    raise ValueError("null value")
                if is_match:
                    matches.append(MATCH.decode(value))
                else:
                    brk = BREAK.decode(value, record_names=False)
                    breaks.append(brk)
                    self._contexts[_change(brk)] = tracing.context_of(m.headers())
            except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError...
                where = f"{m.topic()}/{m.partition()}@{m.offset()}"
                what = "Match" if is_match else "Break"
                self._dead_letter(dead, where, m.value(), f"undecodable {what}: {exc!r}")
        return breaks, matches

    def _store(self, breaks: list[dict[str, Any]], dead: SafeProducer) -> list[StoredChange]:
        """Upsert the batch; a batch PostgreSQL refuses is stored row by row, and a row it
        refuses is dead-lettered alone."""
        try:
            return self._upsert(breaks)
        except (psycopg.DataError, psycopg.IntegrityError):
            pass
        stored: list[StoredChange] = []
        for brk in sorted(breaks, key=change_of):
            try:
                stored += self._upsert([brk])
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                reason = f"PostgreSQL refused the break: {str(exc).splitlines()[0]}"
                raw = BREAK.encode(brk)
                self._dead_letter(dead, f"break {brk['break_id']} v{brk['version']}", raw, reason)
        return stored

    def _store_matches(self, matches: list[dict[str, Any]], dead: SafeProducer) -> None:
        """Store the batch's matches; one PostgreSQL refuses is dead-lettered alone."""
        try:
            self._write(partial(store_matches, matches=matches))
            return
        except (psycopg.DataError, psycopg.IntegrityError):
            pass
        for m in matches:
            try:
                self._write(partial(store_matches, matches=[m]))
            except (psycopg.DataError, psycopg.IntegrityError) as exc:
                reason = f"PostgreSQL refused the match: {str(exc).splitlines()[0]}"
                self._dead_letter(dead, f"match {m['recon']} {m['key']}", MATCH.encode(m), reason)

    def _upsert(self, breaks: list[dict[str, Any]]) -> list[StoredChange]:
        result: list[StoredChange] = self._write(lambda conn: store_breaks(conn, breaks))
        return result

    def _write(self, write: Callable[[psycopg.Connection[Any]], T]) -> T:
        """One write to PostgreSQL, retried (uncommitted, never skipped) while it is away."""

        def attempt() -> T:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.settings.database(), connect_timeout=5)
            try:
                return write(self._conn)
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise

        result: T = self._retry(attempt, self._postgres, (psycopg.OperationalError,))
        return result

    def _fan_out(
        self, fanout: redis.Redis, breaks: list[dict[str, Any]], stored: list[StoredChange]
    ) -> None:
        """Publish the stored changes (best effort: skipped while Redis is away)."""
        if not stored:
            return
        by_id = {b["break_id"]: b for b in newest_versions(breaks)}
        messages = []
        for change in stored:
            try:
                brk = by_id[change.break_id]
                out = BreakOut.from_datum(brk, self._rules(brk["recon"]))
                with TRACER.start_as_current_span(
                    "sink.store",
                    context=self._contexts.get(_change(brk)),
                    kind=SpanKind.CONSUMER,
                    start_time=self._batch_started,
                    attributes={"break_id": brk["break_id"], "seq": change.seq},
                ):
                    carried = tracing.headers()
                messages.append(fanout_message(change.seq, out, carried))
            except ValueError as exc:  # stored, but not in the API's shape: clients reload it
                log.error("break %s is stored but cannot be streamed: %s", change.break_id, exc)
        try:
            pipe = fanout.pipeline(transaction=False)
            for message in messages:
                pipe.publish(channel(self.settings.topic_prefix), message)
            pipe.execute()
        except (redis.RedisError, OSError) as exc:
            self._redis.failed(exc)
            return
        self._redis.recovered()

    def _rules(self, recon: str) -> WorkflowRules:
        """The recon's rules, to age the break it streams (the defaults while PostgreSQL is
        away: the break is stored already, and a reload reads it aged right)."""
        try:
            return self.recons.rules_of(recon)
        except psycopg.OperationalError:
            return DEFAULT_WORKFLOW

    def _dead_letter(self, dead: SafeProducer, where: str, raw: bytes | None, reason: str) -> None:
        value = dead_letter.encode(location=where, raw=raw, reason=reason, stage="sink")
        log.warning("dead-lettered %s: %s", where, reason)
        dead.send(self.topics.deadletter, where.encode(), value)
        metrics.DEAD_LETTERS.labels("sink").inc()
        self.dead_lettered += 1


def main() -> None:
    """``python -m bff.sink``: the sink alone, with its metrics and health, until SIGTERM."""
    settings = load_settings()
    logs.configure("sink", settings.log_level)
    sink = BreakSink(settings)

    def health() -> dict[str, Any]:
        status = sink.status()
        return {"ok": status["alive"] and not status["waiting_for"], **status}

    metrics.serve("sink", settings.greenai_home, settings.worker_id, health=health)
    tracing.configure("sink")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sink.start()
    while not stop.wait(1.0):
        if not sink.alive:  # crash-only: the thread exited the process already, or will
            sys.exit(70)
    sink.stop()


if __name__ == "__main__":
    main()
