"""confluent-kafka edges: a no-loss producer, consumer-group progress, and quiet clients.

Every client here authenticates as the settings say (``streams.kafka_security``). Each takes
``security=``: a :class:`KafkaSecurity`, None for PLAINTEXT, or :data:`FROM_SETTINGS` (the
default): what :func:`load_settings` says for the configured cluster, and nothing for a
bootstrap other than the configured one.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal, TypeAlias

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from streams.kafka_security import KafkaSecurity, confluent_security
from streams.retry import Outage
from streams.settings import Settings, load_settings

log = logging.getLogger(__name__)
# librdkafka logs every failed reconnect; its lines go here (shown at DEBUG only), and a
# broker that went away is said once by the client's Outage instead.
LIBRDKAFKA = logging.getLogger("librdkafka")
LIBRDKAFKA.propagate = False
LIBRDKAFKA.addHandler(logging.NullHandler())
UNREACHABLE = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE}


class _FromSettings(enum.Enum):
    FROM_SETTINGS = "from the settings"


FROM_SETTINGS: Final = _FromSettings.FROM_SETTINGS
Security: TypeAlias = KafkaSecurity | Literal[_FromSettings.FROM_SETTINGS] | None


def resolve_security(security: Security, bootstrap: str | None = None) -> KafkaSecurity | None:
    """``security`` itself, or for :data:`FROM_SETTINGS` the settings' security when
    ``bootstrap`` is the configured cluster (or not given)."""
    if security is not FROM_SETTINGS:
        return security
    settings = load_settings()
    if bootstrap is not None and bootstrap != settings.kafka_bootstrap_servers:
        return None
    return settings.kafka_security()


def confluent_config(settings: Settings | None = None) -> dict[str, Any]:
    """``bootstrap.servers`` and the authentication of the configured cluster, for any
    confluent-kafka client: ``Consumer({**confluent_config(settings), "group.id": ...})``."""
    settings = settings or load_settings()
    return {
        "bootstrap.servers": settings.kafka(),
        **confluent_security(settings.kafka_security()),
    }


def client_config(
    outage: Outage,
    on_unreachable: Callable[[KafkaException], None] | None = None,
    *,
    security: Security = FROM_SETTINGS,
) -> dict[str, Any]:
    """What every confluent-kafka client of greenai shares: its authentication,
    librdkafka's own log lines out of the way, and its errors said once per outage (others
    once each, as warnings). A client that can tell for itself whether the broker is back
    passes ``on_unreachable``: then a broker error is only a hint for it to check
    (librdkafka reports some errors late, after the broker came back)."""

    def on_error(err: KafkaError) -> None:
        if err.code() in UNREACHABLE:
            (on_unreachable or outage.failed)(KafkaException(err))
        else:
            log.warning("%s: %s", outage.what, err.str())

    return {
        **confluent_security(resolve_security(security)),
        "logger": LIBRDKAFKA,
        "error_cb": on_error,
    }


class DeliveryFailed(RuntimeError):
    pass


class SafeProducer:
    """An idempotent ``acks=all`` producer whose every delivery report is checked.

    Keys are partitioned with murmur2 so Java clients and aiokafka (Faust) agree with us on
    where a key lives: the diff's timers depend on that.
    """

    def __init__(
        self,
        bootstrap: str,
        config: dict[str, Any] | None = None,
        *,
        outage: Outage | None = None,
        security: Security = FROM_SETTINGS,
        **settings: Any,
    ) -> None:
        self.outage = outage or Outage("Kafka (producer)", log)
        options = {
            **client_config(self.outage, security=resolve_security(security, bootstrap)),
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 20,
            "compression.type": "lz4",
            **(config or {}),
            **settings,
        }
        self._producer = Producer(options)
        self._wait = int(options.get("message.timeout.ms", 300_000)) / 1000
        self.delivered = 0
        self.failures: list[str] = []
        self._gathered: list[Callable[[], None]] = []

    def _report(self, err: Any, msg: Message) -> None:
        if err is None:
            self.delivered += 1
            self.outage.recovered()
        else:
            self.failures.append(f"{msg.topic()}: {err}")

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one message, to ``partition`` when given, else to its key's partition."""
        where = -1 if partition is None else partition  # -1: the partitioner's choice
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    partition=where,
                    headers=list(headers) if headers else None,
                    on_delivery=self._report,
                )
                break
            except BufferError:  # local queue full: serve delivery reports and retry
                self._producer.poll(0.1)
        self._producer.poll(0)

    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has; DeliveryFailed if Kafka cannot say within the
        time a message may wait for its delivery."""
        try:
            found = self._producer.list_topics(topic, timeout=self._wait).topics[topic]
        except KafkaException as exc:
            raise DeliveryFailed(f"cannot read the partitions of {topic}: {exc}") from exc
        if found.error is not None:
            raise DeliveryFailed(f"cannot read the partitions of {topic}: {found.error}")
        return len(found.partitions)

    def before_flush(self, gathered: Callable[[], None]) -> None:
        """Have ``flush`` first send what ``gathered`` holds back (partition batches)."""
        self._gathered.append(gathered)

    def flush(self, timeout: float = 60.0) -> None:
        """Wait for every delivery report; raise if any record was not acknowledged (the
        failures are then forgotten: a caller that retries sends its records again)."""
        for send_gathered in self._gathered:
            send_gathered()
        remaining = self._producer.flush(timeout)
        if remaining:
            raise DeliveryFailed(f"{remaining} records not acknowledged after {timeout:.0f}s")
        if self.failures:
            failed, self.failures = self.failures, []
            raise DeliveryFailed(f"{len(failed)} records failed delivery, first: {failed[0]}")


def group_lag(
    bootstrap: str,
    group: str,
    topics: Iterable[str],
    timeout: float = 10.0,
    *,
    security: Security = FROM_SETTINGS,
) -> int:
    """Messages in ``topics`` that consumer group ``group`` has not committed yet."""
    consumer = Consumer(
        {
            **client_config(Outage("Kafka", log), security=resolve_security(security, bootstrap)),
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        ]
        committed = consumer.committed(partitions, timeout=timeout)
        lag = 0
        for tp in committed:
            if tp.error:
                raise KafkaException(tp.error)
            low, high = consumer.get_watermark_offsets(tp, timeout=timeout)
            position = tp.offset if tp.offset >= 0 else low
            lag += max(high - position, 0)
        return lag
    finally:
        consumer.close()


def committed_offsets(
    bootstrap: str,
    group: str,
    partitions: Iterable[tuple[str, int]],
    timeout: float = 10.0,
    *,
    security: Security = FROM_SETTINGS,
) -> dict[tuple[str, int], int]:
    """Where ``group`` resumes each partition: its committed offset, or the earliest one when
    it has committed none (``auto.offset.reset=earliest``)."""
    consumer = Consumer(
        {
            **client_config(Outage("Kafka", log), security=resolve_security(security, bootstrap)),
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
        }
    )
    try:
        wanted = [TopicPartition(topic, p) for topic, p in partitions]
        out = {}
        for tp in consumer.committed(wanted, timeout=timeout) if wanted else []:
            if tp.error:
                raise KafkaException(tp.error)
            offset = tp.offset
            if offset < 0:
                offset = consumer.get_watermark_offsets(tp, timeout=timeout)[0]
            out[(tp.topic, tp.partition)] = offset
        return out
    finally:
        consumer.close()


def mark_processed(consumer: Consumer, messages: list[Message]) -> None:
    """Store the offsets after a processed batch for the consumer's background commit
    (``enable.auto.offset.store`` off): at least once, and the loop never blocks on a commit."""
    after: dict[tuple[Any, Any], int] = {}  # (topic, partition): the next offset
    for m in messages:
        offset = m.offset()
        if m.error() is None and offset is not None:
            after[m.topic(), m.partition()] = offset + 1  # in order per partition
    if not after:
        return
    try:
        consumer.store_offsets(offsets=[TopicPartition(t, p, o) for (t, p), o in after.items()])
    except KafkaException as exc:  # a partition went to another member meanwhile
        log.info("offsets not stored (%s); the partition's new owner redoes them", exc)
