"""The notifier process: alerts from ``<prefix>.alerts`` to their subscribers.

It reads the alerts topic as the consumer group ``<prefix>-notify`` (at least once: a batch's
offsets are stored only when every delivery of the batch has ended). For each alert, every
active subscription that wants it (:mod:`streams.notify.subscriptions`) is told once per
``alert_id``: an alert already DELIVERED or DEAD for a subscriber — repeated by a second
attribution worker, or read again after a restart — is not sent again. A failed attempt is
logged FAILED and retried after an exponentially growing wait; after the last attempt the
delivery is DEAD and the alert goes to the dead-letter topic with the reason. The deliveries
of one batch run concurrently, so one slow subscriber delays the next batch by its retries,
no longer.

It also watches ``<prefix>.deadletter`` for surges (:mod:`streams.notify.surges`) and raises
them as alerts on the alerts topic. The watch needs no consumer group: at start it reads back
one window of dead letters (by timestamp), so a restart neither misses a surge in progress
nor tells a subscriber of one twice (its alert id is the same).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from confluent_kafka import OFFSET_END, Consumer, KafkaException, Message, TopicPartition
from psycopg_pool import AsyncConnectionPool

from streams import dead_letter, metrics
from streams.avro import codec
from streams.kafka import SafeProducer, client_config, mark_processed
from streams.notify import channels, message, store
from streams.notify import metrics as measured
from streams.notify.config import NotifyConfig, SmtpConfig
from streams.notify.subscriptions import Subscription
from streams.notify.surges import SurgeWatch
from streams.retry import Outage, until_done
from streams.settings import Settings
from streams.topics import Topics

log = logging.getLogger(__name__)
ALERT = codec("Alert")
DEAD_LETTER = codec("DeadLetter")
CONCURRENT = 50  # webhook calls and SMTP sessions in flight at once


class Notifier:
    def __init__(
        self,
        settings: Settings,
        config: NotifyConfig | None = None,
        smtp: SmtpConfig | None = None,
    ) -> None:
        self.settings = settings
        self.config = config or NotifyConfig()
        self.smtp = smtp or SmtpConfig()
        self.topics = Topics(settings.topic_prefix)
        self.kafka = Outage("Kafka (notify)", log)
        self.postgres = Outage("PostgreSQL (notify)", log)

    async def run(self) -> None:
        self.producer = SafeProducer(self.settings.kafka())
        await asyncio.gather(self.notify(), self.watch_dead_letters())

    async def notify(self) -> None:
        consumer = Consumer(
            {
                **client_config(self.kafka),
                "bootstrap.servers": self.settings.kafka(),
                "group.id": f"{self.settings.topic_prefix}-notify",
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,  # stored once a batch's deliveries ended
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([self.topics.name("alerts")])
        # at most CONCURRENT calls at once (self.calls), each within the timeout as a whole:
        # no call waits for a connection, so a slow subscriber cannot time the others out
        timeout = httpx.Timeout(self.config.timeout_seconds, pool=None)
        limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=20)
        self.calls = asyncio.Semaphore(CONCURRENT)
        pool = AsyncConnectionPool(self.settings.database(), min_size=1, max_size=8, open=False)
        async with (
            pool,
            httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False) as client,
        ):
            self.pool, self.client = pool, client
            log.info("notifier: reading %s", self.topics.name("alerts"))
            try:
                while True:
                    messages = await asyncio.to_thread(consumer.consume, self.config.batch, 1.0)
                    if messages:
                        await self.handle(messages)
                        await asyncio.to_thread(self.producer.flush)
                        mark_processed(consumer, messages)
            finally:
                await asyncio.to_thread(consumer.close)

    async def watch_dead_letters(self) -> None:
        """Raise an alert for every surge of dead letters, for ever."""
        window = timedelta(seconds=self.config.surge_window_seconds)
        watch = SurgeWatch(self.config.surge_threshold, window)
        consumer = Consumer(
            {
                **client_config(self.kafka),
                "bootstrap.servers": self.settings.kafka(),
                "group.id": f"{self.settings.topic_prefix}-notify-surges",  # never commits
                "enable.auto.commit": False,
            }
        )
        topic = self.topics.deadletter
        since = int((datetime.now(UTC) - window).timestamp() * 1000)
        metadata = (await asyncio.to_thread(consumer.list_topics, topic, 30)).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            log.warning("no topic %s: dead-letter surges are not watched", topic)
            return
        wanted = [TopicPartition(topic, p, since) for p in metadata.partitions]
        # a broker just started may not have elected the partition's leader yet: wait
        found = await until_done(
            lambda: asyncio.to_thread(consumer.offsets_for_times, wanted, 30),
            self.kafka,
            (KafkaException,),
        )
        consumer.assign(
            [
                tp if tp.offset >= 0 else TopicPartition(topic, tp.partition, OFFSET_END)
                for tp in found
            ]
        )
        try:
            while True:
                messages = await asyncio.to_thread(consumer.consume, 500, 1.0)
                for m in messages:
                    if m.error() is not None:
                        continue
                    try:
                        letter = DEAD_LETTER.decode(m.value() or b"")
                    except Exception:  # not ours to judge: whoever wrote it logged it
                        continue
                    surge = watch.observe(letter)
                    if surge is not None:
                        log.warning("dead-letter surge: %s", surge["message"])
                        key = surge["alert_id"].encode()
                        self.producer.send(self.topics.name("alerts"), key, ALERT.encode(surge))
                if messages:
                    await asyncio.to_thread(self.producer.flush)
        finally:
            await asyncio.to_thread(consumer.close)

    async def handle(self, messages: list[Message]) -> None:
        """Deliver every alert of a batch to every subscriber that wants it."""
        subscriptions = await until_done(self._active, self.postgres, (psycopg.OperationalError,))
        todo: dict[tuple[int, str], tuple[Subscription, dict[str, Any], str]] = {}
        for m in messages:
            if m.error() is not None:
                continue
            where = f"{m.topic()}/{m.partition()}@{m.offset()}"
            try:
                alert = ALERT.decode(m.value() or b"")
            except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError...
                self._dead_letter(where, m.value(), f"undecodable Alert: {exc!r}", "")
                continue
            measured.ALERTS.labels(alert["kind"], alert["severity"]).inc()
            for sub in subscriptions:
                if sub.wants(alert):  # one delivery per subscriber and alert_id
                    todo.setdefault((sub.subscription_id, alert["alert_id"]), (sub, alert, where))
        await asyncio.gather(*(self.deliver(*job) for job in todo.values()))

    async def deliver(self, sub: Subscription, alert: dict[str, Any], where: str) -> None:
        """Tell one subscriber of one alert: try, wait (doubling), try again, until it is
        delivered or the last try failed (then DEAD, and the alert is dead-lettered first,
        so that a crash in between leaves the delivery to be tried again, not lost)."""
        alert_id = alert["alert_id"]
        if await self._db(store.settled, sub.subscription_id, alert_id):
            return
        for attempt in range(1, self.config.attempts + 1):
            try:
                async with self.calls:
                    detail = await self._send(sub, alert, attempt)
            except channels.Undelivered as exc:
                reason = str(exc)
            else:
                await self._log(sub, alert_id, attempt, store.DELIVERED, detail)
                return
            if attempt < self.config.attempts:
                await self._log(sub, alert_id, attempt, store.FAILED, reason)
                await asyncio.sleep(self._backoff(attempt))
        log.warning("alert %s to %s: given up after %d tries: %s", alert_id, sub.name,
                    attempt, reason)  # fmt: skip
        self._dead_letter(
            f"{where} -> {sub.name}",
            message.as_json(alert, sub.name),
            f"{sub.channel} {sub.target}: {reason} (after {attempt} tries)",
            alert.get("recon") or "",
        )
        await asyncio.to_thread(self.producer.flush)
        await self._log(sub, alert_id, attempt, store.DEAD, reason)

    def _backoff(self, attempt: int) -> float:
        """The wait after failed try ``attempt``: 1, 2, 4, ... times the first, capped."""
        first, cap = self.config.backoff_seconds, self.config.backoff_max_seconds
        return float(min(cap, first * 2 ** (attempt - 1)))

    async def _send(self, sub: Subscription, alert: dict[str, Any], attempt: int) -> str:
        """One try, within the timeout as a whole; any failure is a reason, never a crash
        (a subscriber's bad URL or an odd alert must not stop the others' deliveries)."""
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                if sub.channel == "webhook":
                    return await channels.webhook(self.client, sub, alert, attempt)
                return await channels.email(self.smtp, self.config.timeout_seconds, sub, alert)
        except channels.Undelivered:
            raise
        except TimeoutError:
            raise channels.Undelivered(
                f"no answer within {self.config.timeout_seconds:g}s"
            ) from None
        except Exception as exc:
            log.exception("alert %s to %s: unexpected failure", alert["alert_id"], sub.name)
            raise channels.Undelivered(f"{type(exc).__name__}: {exc}".strip()) from None

    async def _log(
        self, sub: Subscription, alert_id: str, attempt: int, outcome: store.Outcome, detail: str
    ) -> None:
        await self._db(store.attempted, sub.subscription_id, alert_id, attempt, outcome, detail)
        measured.DELIVERIES.labels(sub.channel, outcome).inc()

    async def _active(self) -> list[Subscription]:
        async with self.pool.connection() as conn:
            return await store.active(conn)

    async def _db(self, statement: Any, *args: Any) -> Any:
        """One statement of :mod:`streams.notify.store`, retried while PostgreSQL is away."""

        async def attempt() -> Any:
            async with self.pool.connection() as conn:
                return await statement(conn, *args)

        return await until_done(attempt, self.postgres, (psycopg.OperationalError,))

    def _dead_letter(self, where: str, raw: bytes | None, reason: str, recon: str) -> None:
        value = dead_letter.encode(
            location=where, raw=raw, reason=reason, stage="notify", recon=recon
        )
        self.producer.send(self.topics.deadletter, where.encode(), value)
        metrics.DEAD_LETTERS.labels("notify").inc()
