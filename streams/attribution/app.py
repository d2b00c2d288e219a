"""The attribution worker: Faust agent from ``<prefix>.breaks`` to ``<prefix>.breaks.attributed``.

Breaks are consumed by the consumer group (partitions shared among workers) in batches:
each batch is attributed by the pure :class:`Engine`, its decisions are recorded in
PostgreSQL, and only then are the attributed breaks published (into Faust's producer buffer,
which Faust flushes before it commits the batch's offsets: at-least-once).

The model is not partitioned: every worker reads the whole single-partition feedback topic
itself (no consumer group: the offset lives in the model checkpoint) and folds it into its
:class:`Learner`, so all workers hold the same model. A timer checkpoints the learner with
the feedback offset it reflects; a restart resumes from the latest checkpoint and replays the
rest of the log, neither forgetting a label nor learning one twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from typing import Any

import faust
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind

from streams import alerts, tracing
from streams.attribution import metrics, versions
from streams.attribution.config import AttributionConfig
from streams.attribution.decisions import DecisionRecord, record
from streams.attribution.engine import Engine
from streams.attribution.learner import (
    DriftAlert,
    IncompatibleCheckpoint,
    Learner,
    accuracy,
    dumps,
    loads,
)
from streams.avro import codec
from streams.feedback import feedback_codec
from streams.kafka_security import aiokafka_security
from streams.retry import Outage, until_done, until_done_sync
from streams.settings import Settings
from streams.worker import (
    BROKER_AWAY,
    ReconRegistry,
    crash_only,
    dead_letter,
    make_app,
    measure_lag,
    send_direct,
    topics,
)

log = logging.getLogger(__name__)
TRACER = tracing.tracer(__name__)
BREAK = codec("Break")
RECORD_ATTEMPTS = 3


class ModelKeeper:
    """The worker's learner: loaded from the latest checkpoint, fed from the feedback topic,
    checkpointed when it changed."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.ready = asyncio.Event()
        self.saved_offset = -1
        self.worker = f"{settings.topic_prefix}/attribution/{settings.worker_id}"
        self.outage = Outage("PostgreSQL (model)", log)

    @property
    def learner(self) -> Learner:
        return self.engine.learner

    async def load(self) -> None:
        """The newest good checkpoint: one that fails its integrity check, or that this
        River version or checkpoint format cannot read, is skipped for the one before it;
        with none left, the model is rebuilt from the whole feedback log."""
        url = self.settings.database()

        def choose() -> tuple[versions.Checkpoint, Learner] | None:
            for found in versions.newest_first(url):
                if not found.intact:
                    log.error("model version %d fails its integrity check; skipped", found.version)
                    continue
                try:
                    return found, loads(found.state)
                except IncompatibleCheckpoint as exc:
                    log.warning("model version %d skipped: %s", found.version, exc)
            return None

        chosen = await until_done(
            lambda: asyncio.to_thread(choose), self.outage, (psycopg.OperationalError,)
        )
        if chosen is None:
            log.warning("no usable model checkpoint: rebuilding the model from the feedback log")
            # the rule prior, as a version (the feedback log then rebuilds what it teaches)
            await until_done(self.checkpoint, self.outage, (psycopg.OperationalError,))
        else:
            found, self.engine.learner = chosen
            self.saved_offset = found.feedback_offset
            metrics.MODEL_VERSION.set(found.version)
            log.info(
                "model version %d loaded (feedback offset %d, %d labels)",
                found.version,
                found.feedback_offset,
                self.learner.labels_seen,
            )
        self._gauges()
        self.ready.set()

    async def fold(self, offset: int, value: bytes | None, sink: Sinks) -> None:
        """Apply the feedback message at ``offset``; one that cannot be decoded or applied
        is dead-lettered and skipped, so the model never stops learning at it."""
        try:
            if value is None:
                raise ValueError("null value")
            event = feedback_codec().decode(value)
        except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError...
            self._skip(offset)
            await sink.dead(f"feedback/0@{offset}", value, f"undecodable Feedback: {exc!r}")
            return
        stored: bytes | None = None
        if event["action"] == "ROLLBACK" and offset >= self.learner.next_offset:
            version = int(event["model_version"])

            def state() -> bytes | None:
                try:
                    return versions.state_of(self.settings.database(), version)
                except LookupError as exc:
                    log.warning("rollback ignored: %s", exc)
                    return None

            stored = await until_done(
                lambda: asyncio.to_thread(state), self.outage, (psycopg.OperationalError,)
            )

        def load_version(version: int) -> bytes:
            if stored is None:
                raise LookupError(f"no model version {version}")
            return stored

        try:
            alerts = self.learner.apply(offset, event, load_version)
        except Exception as exc:
            log.exception("feedback at offset %d cannot be applied", offset)
            self._skip(offset)
            await sink.dead(f"feedback/0@{offset}", value, f"cannot apply: {exc!r}")
            return
        for alert in alerts:
            await sink.alert(alert, self.worker)
        self._gauges()

    def _skip(self, offset: int) -> None:
        if offset >= self.learner.next_offset:
            self.learner.next_offset = offset + 1

    async def checkpoint(self) -> None:
        learner = self.learner
        if learner.next_offset == self.saved_offset:
            return
        offset, state = learner.next_offset, dumps(learner)
        version = await asyncio.to_thread(
            versions.save,
            self.settings.database(),
            state=state,
            feedback_offset=offset,
            labels_seen=learner.labels_seen,
            based_on=learner.based_on,
            metrics=learner.metrics(),
            created_by=self.worker,
        )
        self.saved_offset = offset
        metrics.MODEL_VERSION.set(version)
        log.info("model version %d checkpointed at feedback offset %d", version, offset)

    def _gauges(self) -> None:
        learner = self.learner
        metrics.LABELS.set(learner.labels_seen)
        metrics.ACCURACY.set(accuracy(learner))
        metrics.DRIFTS.set(learner.part.drifts)
        metrics.FEEDBACK_OFFSET.set(learner.next_offset)


class Sinks:
    """Where the worker writes besides the attributed topic: dead letters, alerts, decisions."""

    def __init__(
        self, settings: Settings, dead_topic: faust.TopicT, alerts_topic: faust.TopicT
    ) -> None:
        self.settings = settings
        self.dead_topic = dead_topic
        self.alerts_topic = alerts_topic
        self._conn: psycopg.Connection | None = None
        self._outage = Outage("PostgreSQL (decisions)", log)

    async def dead(self, location: str, raw: bytes | None, reason: str) -> None:
        await dead_letter(
            self.dead_topic,
            recon="",
            source="",
            location=location,
            raw=raw,
            reason=reason,
            stage="attribution",
        )

    async def alert(self, alert: DriftAlert, worker: str) -> None:
        alert_id = f"model-drift@{alert.offset}"
        value = alerts.encode(
            alerts.alert(
                alert_id,
                "MODEL_DRIFT",
                "WARNING",
                "attribution",
                alert.message,
                details={
                    "feedback_offset": alert.offset,
                    "labels_seen": alert.labels,
                    "error_rate": f"{alert.error_rate:.4f}",
                },
                worker=worker,
            )
        )
        await self.alerts_topic.send(key=alert_id.encode(), value=value)
        metrics.DRIFT_ALERTS.inc()
        log.warning("drift alert %s: %s", alert_id, alert.message)

    def record(self, decisions: list[DecisionRecord]) -> None:
        """Store a batch's decisions (blocking: run it in a thread). While PostgreSQL is away
        this waits and retries, so the batch is neither lost nor acknowledged early."""

        def attempt() -> None:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.settings.database(), connect_timeout=5)
            try:
                record(self._conn, decisions)
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise

        until_done_sync(attempt, self._outage, (psycopg.OperationalError,))


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    config = AttributionConfig()
    app = make_app(settings, "attribution")
    breaks = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    alerts_topic = app.topic(names.name("alerts"), key_type=bytes, value_type=bytes)
    recons = ReconRegistry(settings.database())
    engine = Engine()
    keeper = ModelKeeper(settings, engine)
    sinks = Sinks(settings, dead_topic, alerts_topic)
    processed: dict[Any, int] = {}  # the last offset processed, by partition (the lag)

    @app.agent(breaks)
    @crash_only
    async def attribution(stream: faust.StreamT) -> None:
        await keeper.ready.wait()
        batches = stream.take_events(config.batch, within=config.batch_wait)  # type: ignore[attr-defined]
        async for events in batches:
            started = time.perf_counter()
            out: list[tuple[bytes | None, bytes, tracing.Headers]] = []
            decided: list[DecisionRecord] = []
            for event in events:
                message = event.message
                where = f"{message.topic}/{message.partition}@{message.offset}"
                with TRACER.start_as_current_span(
                    "attribution.break",
                    context=tracing.context_of(message.headers),
                    kind=SpanKind.CONSUMER,
                ) as span:
                    try:
                        if event.value is None:
                            raise ValueError("null value")
                        brk = BREAK.decode(event.value, record_names=False)
                    except Exception as exc:  # fastavro raises EOFError, IndexError, ...
                        await sinks.dead(where, event.value, f"undecodable Break: {exc!r}")
                        continue
                    span.set_attribute("break_id", brk["break_id"])
                    done = engine.process(brk, await recons.lookup(brk["recon"]))
                    span.set_attribute("cause", done.datum["cause"])
                    try:
                        value = BREAK.encode(done.datum)
                    except Exception as exc:
                        await sinks.dead(
                            where, event.value, f"cannot encode the attributed break: {exc!r}"
                        )
                        continue
                    out.append((event.key, value, tracing.headers()))
                    decided.append(done.decision)
            for (cause, disposition), n in Counter(
                (d.cause, d.disposition) for d in decided
            ).items():
                metrics.BREAKS.labels(cause, disposition).inc(n)
            if decided:
                await asyncio.to_thread(sinks.record, decided)
            # Into the producer before the batch counts as processed: Faust's commit flushes
            # the producer, but not reliably its send_soon buffer (see store in the diff).
            for key, value, carried in out:
                await send_direct(app, names.attributed, key, value, None, carried)
            for event in events:
                processed[event.message.tp] = event.message.offset
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
            BROKER_AWAY.back()

    @app.task
    async def follow_feedback() -> None:
        try:
            await keeper.load()
            await _follow(settings, names.feedback, keeper, sinks)
        except asyncio.CancelledError:
            raise
        except Exception:  # crash-only, as the agent: a worker whose model stopped is no use
            log.exception("following the feedback failed; exiting so the worker restarts")
            logging.shutdown()
            os._exit(70)

    @app.timer(interval=config.checkpoint_seconds)
    async def checkpoint() -> None:
        if not keeper.ready.is_set():
            return
        try:
            await keeper.checkpoint()
        except psycopg.OperationalError as exc:  # the next tick retries; a restart replays more
            keeper.outage.failed(exc)
        else:
            keeper.outage.recovered()

    @app.timer(interval=2.0)
    async def reload_recons() -> None:
        await recons.refresh()
        BROKER_AWAY.back()
        measure_lag(app, processed)

    return app


async def _follow(settings: Settings, topic: str, keeper: ModelKeeper, sinks: Sinks) -> None:
    """Read the feedback topic from the model's offset on, for ever (no consumer group)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka(),
        **aiokafka_security(settings.kafka_security()),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"{settings.topic_prefix}-attribution-{settings.worker_id}-feedback",
    )
    await until_done(consumer.start, Outage("Kafka (feedback)", log), (KafkaError,))
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if len(partitions) > 1:
            log.error("%s has %d partitions: the model needs exactly one", topic, len(partitions))
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, keeper.learner.next_offset)
        log.info("following %s from offset %d", topic, keeper.learner.next_offset)
        while True:
            batch: dict[Any, Any] = await consumer.getmany(tp, timeout_ms=500, max_records=500)
            for message in batch.get(tp, []):
                await keeper.fold(message.offset, message.value, sinks)
    finally:
        await consumer.stop()
