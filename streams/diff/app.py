"""The diff worker: a Faust agent joining every source of a recon key in one table.

``greenai.records`` (all sources, keyed by recon key) and ``greenai.diff.timers`` are
co-partitioned; the table ``state`` is keyed by the same key, so each key's records meet in
one partition. Windows run on event time (:mod:`streams.diff.clock`): a timer asks for a
re-check of a key once its partition's clock passes the key's wake-up (match window or state
retention), by sending a DiffTimer to the key's partition, so every state change happens
inside stream processing and goes to the changelog.

Both inputs carry partition batches (:mod:`streams.batches`): Faust's cost is paid once a
message, the items are applied in order, and each key a message changed is written once,
after its last item.

What can go wrong with a message — it cannot be decoded, or the recon as defined now cannot
take it — is decided by the pure :mod:`streams.diff.inputs` and :mod:`streams.diff.lifecycle`
before anything is written: such a message is dead-lettered with its reason and the agent
goes on. Crash safety on redelivery is :mod:`streams.diff.stored`'s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
import redis.asyncio as aioredis
from aiokafka.structs import RecordMetadata
from confluent_kafka import KafkaException
from faust.types import TP
from opentelemetry.trace import SpanKind

from streams import reports, tracing
from streams.avro import codec
from streams.batches import SLOTS
from streams.diff import metrics as measured
from streams.diff.clock import PartitionClocks, appended_at
from streams.diff.delivery import DeliveryOrder, Verdict
from streams.diff.inputs import (
    TIMER_BATCHES,
    CommandIn,
    Item,
    Poison,
    RecordIn,
    TimerIn,
    Unpacked,
    at_home,
    check,
    placed,
    unpack,
    unpack_command,
)
from streams.diff.lifecycle import (
    Event,
    KeyState,
    Matched,
    apply_command,
    apply_record,
    current_event,
    on_timer,
)
from streams.diff.store_budget import store_options
from streams.diff.stored import COMMANDS, RECORDS, TIMERS, Stored
from streams.diff.wakeups import Wakeup, WakeupIndex
from streams.domain.workflow import Refused
from streams.kafka import committed_offsets
from streams.keys import parse_recon_key, partition_of
from streams.recon import Recon
from streams.retry import Outage
from streams.settings import Settings
from streams.worker import (
    BROKER_AWAY,
    ReconRegistry,
    crash_only,
    dead_letter,
    make_app,
    send_direct,
    topics,
)
from streams.worker import (
    measure_lag as worker_lag,
)

log = logging.getLogger(__name__)
TRACER = tracing.tracer(__name__)

BREAK = codec("Break")
MATCH = codec("Match")
TIMERS_PER_MESSAGE = 500
TAGS = {RecordIn: RECORDS, TimerIn: TIMERS, CommandIn: COMMANDS}  # the inputs' offsets in a state
KINDS = {RecordIn: "record", TimerIn: "timer", CommandIn: "command"}


@dataclass
class Step:
    """One input item's effect on its key, planned before anything is written."""

    key: bytes
    partition: int
    recon: Recon
    rkey: dict[str, str | None]
    before: Stored
    after: KeyState | None = None
    events: list[Event] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)


def as_poison(exc: Exception) -> Poison:
    """A failure on one input as the reason it is dead-lettered."""
    return exc if isinstance(exc, Poison) else Poison(f"cannot apply: {type(exc).__name__}: {exc}")


def sources_held(state: KeyState | None) -> set[str]:
    return {s for s, bookings in state.bookings.items() if bookings} if state else set()


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    app = make_app(settings, "diff")
    inputs = app.topic(
        names.records, names.diff_timers, names.commands, key_type=bytes, value_type=bytes
    )
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    partitions = int(app.conf.topic_partitions)
    table = cast(
        faust.Table,
        app.Table(
            "state",
            default=None,
            key_type=bytes,
            value_type=bytes,
            options=store_options(partitions),
        ),
    )
    changelog = table.changelog_topic.get_topic_name()
    recons = ReconRegistry(settings.database())
    redis = aioredis.from_url(settings.redis(), socket_timeout=2, socket_connect_timeout=2)
    redis_outage = Outage("Redis (diff reports)", log)
    wakeups = WakeupIndex()
    clocks = PartitionClocks()
    order = DeliveryOrder()
    processed: dict[TP, int] = {}  # the last offset processed, by input partition (the lag)
    holdings: Counter[tuple[str, str]] = Counter()  # (recon, source) -> keys with bookings
    rescan = {"needed": True}

    def remember(
        key: bytes,
        partition: int,
        recon: Recon,
        before: KeyState | None,
        after: KeyState | None,
    ) -> None:
        """Keep the wake-up index and the holdings in step with a key's new state."""
        held, holds = sources_held(before), sources_held(after)
        for source in held - holds:
            holdings[(recon.name, source)] -= 1
        for source in holds - held:
            holdings[(recon.name, source)] += 1
        due = after.wakeup(recon) if after else None
        if due is None:
            wakeups.discard(key)
        else:
            wakeups.set(Wakeup(key, partition, due[0], due[1]))

    async def send(
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        headers: tracing.Headers | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        return await send_direct(app, topic, key, value, partition, headers)

    async def publish(key: bytes, events: list[Event]) -> None:
        carried = tracing.headers()  # the message's span: the break's trace goes on
        for event in events:
            if isinstance(event, Matched):
                await send(names.matches, key, MATCH.encode(event.datum()), None, carried)
                measured.EVENTS.labels("MATCHED").inc()
            else:
                datum = event.datum()
                value = BREAK.encode(datum)
                await send(names.breaks, event.brk.break_id.encode(), value, None, carried)
                measured.EVENTS.labels(datum["status"]).inc()

    async def reject(where: str, raw: bytes | None, problem: Poison) -> None:
        await dead_letter(
            dead_topic,
            recon=problem.recon,
            source=problem.source,
            location=where,
            raw=raw,
            reason=str(problem),
            stage="diff",
        )

    async def plan(
        item: Item,
        message: faust.types.Message,
        unpacked: Unpacked,
        index: int,
        pending: dict[bytes, Stored | None],
    ) -> Step:
        """What one input item does to its key: checked and folded by the pure core, nothing
        written yet (``pending``: the new states of the message's earlier items, by key).
        Raises :class:`Poison` for an item it cannot apply."""
        recon = await recons.lookup(item.recon)
        source = item.incoming.source if isinstance(item, RecordIn) else ""
        if recon is None:
            raise Poison(f"unknown recon {item.recon!r}", item.recon, source)
        key = check(recon, item)
        placed(key, unpacked, message.key)
        rkey = {k: item.key[k] for k in recon.key}
        if key in pending:
            stored = pending[key] or Stored()
        else:
            raw = table.get(key)
            if raw is None:
                at_home(key, message.partition, partitions)
            try:
                stored = Stored.load(raw)
            except (ValueError, KeyError, TypeError) as exc:
                raise Poison(f"the key's stored state is unreadable: {exc}", recon.name) from None
        tag = TAGS[type(item)]
        position = message.offset * SLOTS + index
        step = Step(key, message.partition, recon, rkey, stored)
        if stored.seen(tag, position):
            # Redelivered after a crash: the store may hold this state while its changelog
            # message never reached Kafka (the next owner of the partition would restore an
            # older state), so the break and the state both go out again.
            if stored.state.current is not None:
                step.events = [current_event(recon, stored.state, rkey)]
            step.after, step.offsets = stored.state, stored.offsets
            return step
        if isinstance(item, TimerIn):
            step.after, step.events = on_timer(recon, stored.state, rkey, item.deadline)
        elif isinstance(item, CommandIn):
            appended = appended_at(message.timestamp)
            try:
                step.after, step.events = apply_command(
                    recon, stored.state, rkey, item.break_id, item.command, appended
                )
            except Refused as exc:
                measured.REFUSED.inc()
                action = item.command.action.value
                raise Poison(f"{action} by {item.command.by} refused: {exc}", recon.name) from None
        else:
            appended = appended_at(message.timestamp)
            step.after, step.events = apply_record(
                recon, stored.state, rkey, item.incoming, appended
            )
        step.offsets = {**stored.offsets, tag: position}
        return step

    async def store(
        key: bytes, partition: int, stored: Stored | None
    ) -> asyncio.Future[RecordMetadata]:
        """Write a key's state to the local store and its changelog message into the producer
        before the message counts as processed. Faust's ``table[key] = value`` only queues
        the changelog message in a buffer that its commit does not reliably drain (the drain
        gives up after 0.1 s without progress): offsets were committed ahead of the states
        they imply, and a partition's next owner restored states missing those records. The
        changelog is co-partitioned with the inputs: the message's partition is the key's."""
        value = None if stored is None else stored.dump()
        if value is None:
            table.data.pop(key, None)
        else:
            table.data[key] = value
        return await send(changelog, key, value, partition)

    def persisted(delivered: asyncio.Future[RecordMetadata]) -> None:
        """Keep the store's changelog offset, as Faust's own table writes do (a restart then
        restores only what came after it); a partition's last delivery implies the rest (a
        failed one takes the worker down: see ``send_direct``)."""
        if not delivered.cancelled() and delivered.exception() is None:
            sent = delivered.result()
            table.data.set_persisted_offset(TP(sent.topic, sent.partition), sent.offset)

    @app.agent(inputs)
    @crash_only
    async def diff(stream: faust.StreamT) -> None:
        # acknowledged by hand: a message beyond a hole is left unacknowledged (it comes
        # again), so no commit can pass what was not processed
        in_order = cast(faust.Stream, stream).noack()
        async for event in in_order.events():
            message = event.message
            if not order.knows(message.topic, message.partition):
                await expect_committed()
            verdict = order.check(
                message.topic, message.partition, message.offset, now=time.monotonic()
            )
            if verdict is Verdict.SEEK:
                await seek_back(message.tp)
            if verdict is Verdict.PROCESS:
                started = time.perf_counter()
                await handle(event)
                await in_order.ack(event)
                measured.MESSAGE_SECONDS.observe(time.perf_counter() - started)
                processed[message.tp] = message.offset

    async def expect_committed() -> None:
        """Tell the delivery order where every assigned input partition resumes (their
        committed offsets), before the first message of the assignment is processed."""
        owned = [
            (tp.topic, tp.partition)
            for tp in app.consumer.assignment()
            if tp.topic in (names.records, names.diff_timers, names.commands)
            and not order.knows(tp.topic, tp.partition)
        ]
        at = await asyncio.to_thread(committed_offsets, settings.kafka(), app.conf.id, owned)
        for (topic, partition), offset in at.items():
            order.expect(topic, partition, offset)

    @app.timer(interval=1.0)
    async def fill_holes() -> None:
        assigned = app.consumer.assignment()  # a rebalance may be on its way
        for topic, partition in order.overdue(time.monotonic()):
            if (tp := TP(topic, partition)) in assigned:
                await seek_back(tp)

    async def seek_back(tp: TP) -> None:
        hole = order.hole(tp.topic, tp.partition)
        log.warning(
            "%s/%d: Faust skipped messages from offset %d on (a rebalance race); "
            "seeking back to it",
            tp.topic,
            tp.partition,
            hole,
        )
        # Faust may also have taken the hole for a compacted range (a "gap"), which it would
        # commit across once the partition's acknowledgements pass it: our inputs have none
        cast(Any, app.consumer)._gap.pop(tp, None)
        await app.consumer.seek(tp, hole)

    async def handle(event: faust.EventT) -> None:
        """One input message, in a span of the trace its producer started."""
        message = event.message
        with TRACER.start_as_current_span(
            "diff.message",
            context=tracing.context_of(message.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.destination.name": message.topic,
                "messaging.destination.partition.id": str(message.partition),
                "messaging.kafka.offset": message.offset,
            },
        ):
            await apply_message(event)

    async def apply_message(event: faust.EventT) -> None:
        """Apply one message's items in order, then write each key it changed, once."""
        message = event.message
        timers = message.topic == names.diff_timers
        if message.topic == names.records:  # the clock is the records' (event time)
            clocks.observe(message.partition, appended_at(message.timestamp), message.offset)
        where = f"{message.topic}/{message.partition}@{message.offset}"
        try:
            if message.topic == names.commands:
                unpacked = unpack_command(message.key, event.value)
            else:
                unpacked = unpack(message.key, event.value, timers=timers)
        except Exception as exc:  # Poison, or a bug on one message: neither stops us
            if not isinstance(exc, Poison):
                log.exception("cannot read %s", where)
            await reject(where, event.value, as_poison(exc))
            return
        pending: dict[bytes, Stored | None] = {}
        for index, item in enumerate(unpacked.items):
            try:
                if isinstance(item, Poison):
                    raise item
                step = await plan(item, message, unpacked, index, pending)
            except Exception as exc:  # Poison, or a bug on one item: neither stops us
                if not isinstance(exc, Poison):
                    log.exception("cannot apply %s", where)
                at = f"{where}#{index}" if unpacked.batch else where
                raw = unpacked.raw(index, timers=timers) if unpacked.batch else event.value
                await reject(at, raw, as_poison(exc))
                continue
            await publish(step.key, step.events)
            pending[step.key] = None if step.after is None else Stored(step.after, step.offsets)
            remember(step.key, step.partition, step.recon, step.before.state, step.after)
            measured.ITEMS.labels(KINDS[type(item)]).inc()
            measured.KEYS.inc((step.after is not None) - (step.before.state is not None))
        delivered = None
        for key, stored in pending.items():  # a failure here is the broker's: crash-only
            delivered = await store(key, message.partition, stored)
        if delivered is not None:
            delivered.add_done_callback(persisted)
        BROKER_AWAY.back()

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode stubs want exact types
    def _rebalanced(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        clocks.forget()
        order.forget()
        rescan["needed"] = True

    @app.timer(interval=0.5)
    async def wake_keys() -> None:
        """Ask for a look at keys whose time came; report open windows and holdings."""
        if rescan["needed"] and await recons.refresh():
            owned = [tp for tp in app.consumer.assignment() if tp.topic == names.records]
            try:
                clocks.resume(await asyncio.to_thread(resume_offsets, owned))
            except KafkaException as exc:  # the next tick tries again
                BROKER_AWAY.outage.failed(exc)
                return
            rescan["needed"] = False
            rebuild()
        wall = datetime.now(UTC)
        sent = []
        for tp in sorted(app.consumer.assignment()):
            if tp.topic != names.records:
                continue
            # highwater is a plain read; never ask the consumer thread (Faust queues those
            # calls behind its recovery, and a timer waiting there stalls the worker)
            clock = clocks.now(tp.partition, high=app.consumer.highwater(tp), wall=wall)
            if clock is None:
                continue
            due = wakeups.pop_due(tp.partition, clock)  # popped before any await
            bodies = [body for d in due if (body := timer_body(d)) is not None]
            for start in range(0, len(bodies), TIMERS_PER_MESSAGE):
                value = TIMER_BATCHES.encode(bodies[start : start + TIMERS_PER_MESSAGE])
                sent.append(await send(names.diff_timers, None, value, tp.partition))
        await asyncio.gather(*sent)  # in Kafka before `wait` can see zero open windows
        await report()
        measure_lag()
        BROKER_AWAY.back()

    def measure_lag() -> None:
        """The inputs' lag and the open windows, for Prometheus."""
        worker_lag(app, processed)
        assigned = app.consumer.assignment()
        windows = [wakeups.windows_in(tp.partition) for tp in assigned if tp.topic == names.records]
        measured.OPEN_WINDOWS.set(sum(windows))

    def timer_body(due: Wakeup) -> bytes | None:
        """The DiffTimer of a wake-up, its recon and key values read from the key's bytes;
        None if its recon is gone or keyed differently now (the key has nothing to wait for)."""
        name, values = parse_recon_key(due.key)
        recon = recons.get(name)
        if recon is None or len(values) != len(recon.key):
            return None
        rkey = dict(zip(recon.key, values, strict=True))
        return TIMER_BATCHES.body({"recon": name, "key": rkey, "deadline": due.at})

    async def report() -> None:
        """Open match windows (for ``greenai wait``) and the keys each source holds (for
        ``greenai recon apply``), in Redis; best effort: the diff never waits for Redis."""
        prefix, worker = settings.topic_prefix, settings.worker_id
        held: dict[str, dict[str, int]] = {}
        for (recon, source), n in holdings.items():
            if n > 0:
                held.setdefault(recon, {})[source] = n
        owned = [] if rescan["needed"] else app.consumer.assignment()  # rebuilt index only
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for tp in owned:
                    if tp.topic == names.records:
                        windows = wakeups.windows_in(tp.partition)
                        pipe.set(reports.pending_key(prefix, tp.partition), windows, ex=reports.TTL)
                pipe.set(reports.holdings_key(prefix, worker), json.dumps(held), ex=reports.TTL)
                await pipe.execute()
        except (aioredis.RedisError, OSError) as exc:
            redis_outage.failed(exc)
            return
        redis_outage.recovered()

    @app.timer(interval=2.0)
    async def reload_recons() -> None:
        await recons.refresh()

    def resume_offsets(owned: list[TP]) -> dict[int, int]:
        """Where this worker resumes each records partition it was assigned."""
        at = committed_offsets(
            settings.kafka(), app.conf.id, [(tp.topic, tp.partition) for tp in owned]
        )
        return {partition: offset for (_, partition), offset in at.items()}

    def rebuild() -> None:
        """The wake-up index and holdings from the table, after the partitions moved."""
        wakeups.clear()
        holdings.clear()
        skipped = kept = 0
        for key, raw in table.items():
            kept += 1
            try:
                name, values = parse_recon_key(key)
                recon = recons.get(name)
                if recon is None or len(values) != len(recon.key):
                    raise ValueError(f"recon {name!r} is unknown or keyed differently now")
                state = Stored.load(raw).state
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            remember(key, partition_of(key, partitions), recon, None, state)
        measured.KEYS.set(kept)
        log.info("keys with a wake-up: %d (%d of unknown recons skipped)", len(wakeups), skipped)

    return app
