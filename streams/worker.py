"""What both Faust workers share: the app factory, the recon registry and dead-lettering."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust
import psycopg

from streams.database import load_recons
from streams.dead_letter import encode as dead_letter_message
from streams.kafka_security import faust_credentials
from streams.metrics import CONSUMER_LAG, DEAD_LETTERS
from streams.recon import Recon
from streams.retry import Backoff, Outage
from streams.settings import Settings
from streams.topics import Topics

log = logging.getLogger(__name__)


def quiet_libraries(level: str) -> None:
    """Faust's and aiokafka's running commentary (every service starting, every table of
    offsets) is library detail: their warnings and errors are logged, the rest only at
    debug. Their own level also spares building every record the handler would drop."""
    for name in ("aiokafka", "faust", "mode", "kafka"):
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("aiokafka"):
            logging.getLogger(name).addFilter(BROKER_AWAY)


KAFKA_SETTLE = 5.0  # seconds without a connection error before Kafka counts as back


class BrokerAway(logging.Filter):
    """While the broker is unreachable aiokafka logs a failed connect, metadata update or
    fetch thousands of times a second. Those records become one line of :class:`Outage`
    ("Kafka unreachable ...; retrying"), and one when it is back (:meth:`back`, called by
    the agents once a message flows again)."""

    SAYS = (
        "Unable connect to node",
        "Unable to update metadata",
        "Unable to request metadata",
        "Failed fetch messages",
        "Group Coordinator Request failed",
        "Got error produce response",
        "Heartbeat send request failed",
        "Error sending",
        "Failed to send",
    )

    def __init__(self) -> None:
        super().__init__()
        self.outage = Outage("Kafka", log, settle=KAFKA_SETTLE)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not str(record.msg).startswith(self.SAYS):
            return True
        text = record.getMessage()
        if "GroupCoordinatorNotAvailable" in text:  # a group being created: normal at start
            return True
        self.outage.failed(ConnectionError(text))
        return False

    def back(self) -> None:
        """Work went through: the outage is over once aiokafka has been quiet a while."""
        if self.outage.ongoing:
            self.outage.recovered()


BROKER_AWAY = BrokerAway()


def make_app(settings: Settings, role: str, **config: Any) -> faust.App:
    """A Faust app for one worker role, isolated by the topic prefix (its consumer group)."""
    quiet_libraries(settings.log_level)
    datadir = settings.state_dir / role / settings.worker_id
    datadir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        f"{settings.topic_prefix}-{role}",
        broker=f"kafka://{settings.kafka()}",
        broker_credentials=faust_credentials(settings.kafka_security()),
        store="rocksdb://",  # faust-streaming backs it with rocksdict
        datadir=str(datadir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        web_enabled=False,
        producer_acks=-1,
        producer_linger_ms=10,  # batch what an agent publishes (aiokafka defaults to 0)
        key_serializer="raw",
        value_serializer="raw",
        broker_commit_every=1000,
        broker_commit_interval=2.0,
        stream_wait_empty=False,
        consumer_auto_offset_reset="earliest",
        # A killed worker's partitions move to the others after this (Faust's 60 s default
        # stalls failover and restarts for a minute).
        broker_session_timeout=10.0,
        **config,
    )


AgentFn = Callable[[faust.StreamT], Awaitable[None]]


async def send_direct(
    app: faust.App,
    topic: str,
    key: bytes | None,
    value: bytes | None,
    partition: int | None,
    headers: list[tuple[str, bytes]] | None = None,
) -> asyncio.Future[Any]:
    """Hand a message straight to Faust's producer, without Faust's per-message wrapping
    (``Topic.send``: a FutureMessage, sensors, codecs and a callback per message, which cost
    more than the diff's own work for each record). Faust's commit flushes this producer
    before it commits offsets; a message the producer gives up on takes the worker down
    first (crash-only), so no offset is committed past it."""
    delivered = await app.producer.send(
        topic, key, value, partition=partition, timestamp=None, headers=headers or None
    )
    future = cast(asyncio.Future[Any], delivered)
    future.add_done_callback(_crash_if_undelivered)
    return future


def _crash_if_undelivered(delivered: asyncio.Future[Any]) -> None:
    if delivered.cancelled() or delivered.exception() is None:
        return
    log.critical(
        "a message could not be delivered (%r); exiting so the worker restarts from the "
        "committed offsets",
        delivered.exception(),
    )
    logging.shutdown()
    os._exit(70)


def crash_only(agent: AgentFn) -> AgentFn:
    """An agent that fails takes its worker process down, so that the supervisor (greenai up,
    Kubernetes) restarts it from the committed offsets. Faust's default would restart only the
    agent, which can leave a live process whose partitions are never processed again."""

    @functools.wraps(agent)
    async def supervised(stream: faust.StreamT) -> None:
        try:
            await agent(stream)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("agent %s failed; exiting so the worker restarts", agent.__name__)
            logging.shutdown()
            os._exit(70)

    return supervised


class ReconRegistry:
    """Recons by name, reloaded from PostgreSQL (in a thread, never on the event loop) so
    new and changed recons apply live. While PostgreSQL is away the recons known so far
    stay in force, and a lookup of an unknown one waits for the database to come back
    rather than dead-letter a record of a recon that may well exist."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._recons: dict[str, tuple[int, Recon]] = {}
        self._generation = 0  # loads so far
        self._missing: dict[str, int] = {}  # unknown name -> the load that found it unknown
        self._outage = Outage("PostgreSQL (recons)", log)

    async def refresh(self) -> bool:
        """Reload every recon; False (logged once per outage) when PostgreSQL is away."""
        try:
            fresh = await asyncio.to_thread(load_recons, self.database_url)
        except psycopg.OperationalError as exc:
            self._outage.failed(exc)
            return False
        self._outage.recovered()
        changed = [n for n, (v, _) in fresh.items() if self._recons.get(n, (None,))[0] != v]
        if changed:
            log.info("recons loaded: %s", ", ".join(sorted(changed)))
        # an unchanged recon keeps its object, and so what was derived from it (derived.py)
        for name, loaded in fresh.items():
            held = self._recons.get(name)
            if held is not None and held == loaded:
                fresh[name] = held
        self._recons = fresh
        self._generation += 1
        return True

    def get(self, name: str) -> Recon | None:
        """The recon as last loaded (no I/O)."""
        found = self._recons.get(name)
        return found[1] if found else None

    async def lookup(self, name: str) -> Recon | None:
        """The recon; an unknown name is looked up again at once (a recon applied a moment
        ago), waiting out a PostgreSQL outage, unless the last load already confirmed it
        unknown — so a flood of records of a recon that does not exist costs one load per
        refresh, not one per record. None: no such recon."""
        found = self.get(name)
        if found is not None or self._missing.get(name) == self._generation:
            return found
        delays = Backoff()
        while not await self.refresh():
            await asyncio.sleep(delays.next())
        found = self.get(name)
        if found is None:
            self._missing[name] = self._generation
        return found


async def dead_letter(
    topic: faust.TopicT,
    *,
    recon: str,
    source: str,
    location: str,
    raw: bytes | None,
    reason: str,
    stage: str,
) -> None:
    """Publish a message a worker cannot process, with the reason, instead of dropping it."""
    value = dead_letter_message(
        location=location, raw=raw, reason=reason, stage=stage, recon=recon, source=source
    )
    log.warning("dead-lettered %s: %s", location, reason)
    await topic.send(key=location.encode(), value=value)
    DEAD_LETTERS.labels(stage).inc()


def measure_lag(app: faust.App, processed: dict[Any, int]) -> None:
    """Each assigned partition's messages not processed yet (``processed``: the last offset
    handled, by partition), for Prometheus; a partition no longer assigned is forgotten."""
    assigned = set(app.consumer.assignment())
    for tp in assigned & set(processed):
        high = app.consumer.highwater(tp)
        if high is not None:
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, high - processed[tp] - 1))
    for tp in set(processed) - assigned:
        processed.pop(tp, None)
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(tp.topic, str(tp.partition))


def topics(settings: Settings) -> Topics:
    return Topics(settings.topic_prefix)
