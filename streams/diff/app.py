"""The diff worker: a Faust agent joining every source of a recon key in one table.

``greenai.records`` (all sources, keyed by recon key) and ``greenai.diff.timers`` are
co-partitioned; the table ``state`` is keyed by the same key, so each key's records meet in
one partition. Windows run on event time (:mod:`streams.diff.clock`): a timer asks for a
re-check of a key once its partition's clock passes the key's wake-up (match window or state
retention), by sending a DiffTimer on the same key, so every state change happens inside
stream processing and goes to the changelog.

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
from confluent_kafka import KafkaException
from faust.types import TP

from streams import reports
from streams.avro import codec
from streams.diff.clock import PartitionClocks, appended_at
from streams.diff.delivery import DeliveryOrder, Verdict
from streams.diff.inputs import (
    TIMER,
    Poison,
    RecordIn,
    TimerIn,
    check,
    decode_record,
    decode_timer,
)
from streams.diff.lifecycle import (
    Event,
    KeyState,
    Matched,
    apply_record,
    current_event,
    on_timer,
)
from streams.diff.stored import RECORDS, TIMERS, Stored
from streams.diff.wakeups import Wakeup, WakeupIndex
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
    topics,
)

log = logging.getLogger(__name__)

BREAK = codec("Break")
MATCH = codec("Match")


@dataclass
class Step:
    """One input message's effect on its key, planned before anything is written."""

    key: bytes
    partition: int
    recon: Recon
    rkey: dict[str, str | None]
    before: Stored
    after: KeyState | None = None
    events: list[Event] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    changed: bool = False


def sources_held(state: KeyState | None) -> set[str]:
    return {s for s, bookings in state.bookings.items() if bookings} if state else set()


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    app = make_app(settings, "diff")
    inputs = app.topic(names.records, names.diff_timers, key_type=bytes, value_type=bytes)
    timers_topic = app.topic(names.diff_timers, key_type=bytes, value_type=bytes)
    breaks_topic = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    matches_topic = app.topic(names.matches, key_type=bytes, value_type=bytes)
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    table = cast(faust.Table, app.Table("state", default=None, key_type=bytes, value_type=bytes))
    recons = ReconRegistry(settings.database())
    redis = aioredis.from_url(settings.redis(), socket_timeout=2, socket_connect_timeout=2)
    redis_outage = Outage("Redis (diff reports)", log)
    wakeups = WakeupIndex()
    clocks = PartitionClocks()
    order = DeliveryOrder()
    holdings: Counter[tuple[str, str]] = Counter()  # (recon, source) -> keys with bookings
    rescan = {"needed": True}
    partitions = int(app.conf.topic_partitions)

    def remember(
        key: bytes,
        partition: int,
        recon: Recon,
        before: KeyState | None,
        after: KeyState | None,
        rkey: dict[str, str | None],
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
            wakeups.set(Wakeup(key, partition, due[0], recon.name, rkey, due[1]))

    async def publish(key: bytes, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Matched):
                await matches_topic.send(key=key, value=MATCH.encode(event.datum()))
            else:
                await breaks_topic.send(
                    key=event.brk.break_id.encode(), value=BREAK.encode(event.datum())
                )

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

    async def plan(event: faust.EventT) -> Step:
        """What one input message does to its key: decoded, checked and folded by the pure
        core, nothing written yet. Raises :class:`Poison` for a message it cannot apply."""
        message = event.message
        key: bytes = event.key or b""
        is_timer = message.topic == names.diff_timers
        item: RecordIn | TimerIn = (
            decode_timer(key, event.value) if is_timer else decode_record(key, event.value)
        )
        recon = await recons.lookup(item.recon)
        source = item.incoming.source if isinstance(item, RecordIn) else ""
        if recon is None:
            raise Poison(f"unknown recon {item.recon!r}", item.recon, source)
        check(recon, key, item)
        rkey = {k: item.key[k] for k in recon.key}
        try:
            stored = Stored.load(table.get(key))
        except (ValueError, KeyError, TypeError) as exc:
            raise Poison(f"the key's stored state is unreadable: {exc}", recon.name) from None
        tag = TIMERS if is_timer else RECORDS
        step = Step(key, message.partition, recon, rkey, stored)
        if stored.seen(tag, message.offset):
            # Redelivered after a crash: the store may hold this state while its changelog
            # message never reached Kafka (the next owner of the partition would restore an
            # older state), so the break and the state both go out again.
            if stored.state.current is not None:
                step.events = [current_event(recon, stored.state, rkey)]
            step.after, step.offsets, step.changed = stored.state, stored.offsets, True
            return step
        if isinstance(item, TimerIn):
            step.after, step.events = on_timer(recon, stored.state, rkey, item.deadline)
        else:
            appended = appended_at(message.timestamp)
            step.after, step.events = apply_record(
                recon, stored.state, rkey, item.incoming, appended
            )
        step.offsets = {**stored.offsets, tag: message.offset}
        step.changed = True
        return step

    async def commit(step: Step) -> None:
        """Publish the step's events and store the key's new state (Kafka I/O only)."""
        await publish(step.key, step.events)
        if not step.changed:
            return
        after = None if step.after is None else Stored(step.after, step.offsets)
        await store(step.key, step.partition, after)
        remember(step.key, step.partition, step.recon, step.before.state, step.after, step.rkey)

    async def store(key: bytes, partition: int, stored: Stored | None) -> None:
        """Write a key's state to the local store and its changelog message into the producer
        before the event counts as processed. Faust's ``table[key] = value`` only queues the
        changelog message in a buffer that its commit does not reliably drain (the drain gives
        up after 0.1 s without progress): offsets were committed ahead of the states they
        imply, and a partition's next owner restored states missing those records. The
        changelog is co-partitioned with the inputs: the event's partition is the key's."""
        value = None if stored is None else stored.dump()
        if value is None:
            table.data.pop(key, None)
        else:
            table.data[key] = value
        await table.changelog_topic.send(  # Faust's callback keeps the store's changelog offset
            key=key, value=value, partition=partition, callback=table._on_changelog_sent
        )

    @app.agent(inputs)
    @crash_only
    async def diff(stream: faust.StreamT) -> None:
        # acknowledged by hand: a message beyond a hole is left unacknowledged (it comes
        # again), so no commit can pass what was not processed
        in_order = cast(faust.Stream, stream).noack()
        async for event in in_order.events():
            message = event.message
            verdict = order.check(
                message.topic, message.partition, message.offset, now=time.monotonic()
            )
            if verdict is Verdict.SEEK:
                await seek_back(message.tp)
            if verdict is Verdict.PROCESS:
                await handle(event)
                await in_order.ack(event)

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
        message = event.message
        if message.topic == names.records:
            clocks.observe(message.partition, appended_at(message.timestamp), message.offset)
        try:
            step = await plan(event)
        except Exception as exc:  # Poison, or a bug on one message: neither stops us
            problem = (
                exc
                if isinstance(exc, Poison)
                else Poison(f"cannot apply: {type(exc).__name__}: {exc}")
            )
            if not isinstance(exc, Poison):
                log.exception("cannot apply %s", message.topic)
            where = f"{message.topic}/{message.partition}@{message.offset}"
            await reject(where, event.value, problem)
            return
        await commit(step)  # a failure here is the broker's: crash-only restarts us
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
            for due in wakeups.pop_due(tp.partition, clock):  # popped before any await
                value = TIMER.encode({"recon": due.recon, "key": due.recon_key, "deadline": due.at})
                sent.append(await timers_topic.send(key=due.key, value=value))
        await asyncio.gather(*sent)  # in Kafka before `wait` can see zero open windows
        await report()
        BROKER_AWAY.back()

    async def report() -> None:
        """Open match windows (for ``greenai wait``) and the keys each source holds (for
        ``greenai recon apply``), in Redis; best effort: the diff never waits for Redis."""
        prefix, worker = settings.topic_prefix, settings.worker_id
        held: dict[str, dict[str, int]] = {}
        for (recon, source), n in holdings.items():
            if n > 0:
                held.setdefault(recon, {})[source] = n
        try:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.set(reports.pending_key(prefix, worker), wakeups.open_windows, ex=reports.TTL)
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
        skipped = 0
        for key, raw in table.items():
            try:
                name, values = parse_recon_key(key)
                recon = recons.get(name)
                if recon is None or len(values) != len(recon.key):
                    raise ValueError(f"recon {name!r} is unknown or keyed differently now")
                state = Stored.load(raw).state
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            rkey = dict(zip(recon.key, values, strict=True))
            remember(key, partition_of(key, partitions), recon, None, state, rkey)
        log.info("keys with a wake-up: %d (%d of unknown recons skipped)", len(wakeups), skipped)

    return app
