"""The change hub: one Redis subscription per BFF process, shared by all its SSE clients.

Redis pub/sub is the fast path: the sink publishes each stored change with its ``seq``.
PostgreSQL's change feed is the truth: the hub remembers the last ``seq`` it delivered,
and when Redis comes back after an outage (and every ``POLL`` seconds while it is away) it
reads the changes it missed from ``breaks``. Fan-out can lag behind storage; it never
loses a change.

Each client gets a bounded queue. A client too slow to drain it is not allowed to hold
memory: its queue is marked overflowed and the client catches up from PostgreSQL on its
own, from the last ``seq`` it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool
from sse_starlette.event import ServerSentEvent

from bff.metrics import SSE_CLIENTS
from bff.models import BreakOut
from bff.recons import ReconCache
from streams import tracing
from streams.domain.workflow_rules import WorkflowRules
from streams.retry import Backoff, Outage
from streams.store.breaks import changes_since, last_seq

log = logging.getLogger(__name__)
TRACER = tracing.tracer(__name__)
POLL = 1.0  # seconds between change-feed reads while Redis is away
CATCH_UP_LIMIT = 5000  # changes a catch-up reads at once
QUEUE_SIZE = 10_000  # changes a client may have waiting before it catches up by itself


@dataclass(frozen=True)
class Change:
    seq: int
    recon: str
    data: str  # the Break as JSON (the SSE event's data)
    carried: dict[str, str] = field(default_factory=dict)  # its trace, from the sink

    @classmethod
    def from_row(cls, row: dict[str, Any], rules: WorkflowRules) -> Change:
        """A stored change, aged in its recon's calendar."""
        return cls(row["seq"], row["recon"], BreakOut.from_datum(row, rules).model_dump_json())

    @cached_property
    def event(self) -> bytes:
        """The change's SSE ``break`` event, encoded once for all the clients it goes to."""
        return ServerSentEvent(self.data, event="break", id=str(self.seq)).encode()


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Change] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class ChangeHub:
    def __init__(
        self,
        redis: aioredis.Redis,
        pool: AsyncConnectionPool,
        channel: str,
        recons: ReconCache,
    ) -> None:
        self.redis = redis
        self.pool = pool
        self.recons = recons
        self.channel = channel
        self.last_seq = 0
        self.subscriptions: set[Subscription] = set()
        self.redis_up = False
        self._outage = Outage("Redis (SSE fan-out)", log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="change-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.contextmanager
    def subscribe(self) -> Any:
        sub = Subscription()
        self.subscriptions.add(sub)
        SSE_CLIENTS.inc()
        try:
            yield sub
        finally:
            self.subscriptions.discard(sub)
            SSE_CLIENTS.dec()

    def deliver(self, change: Change) -> None:
        if change.seq <= self.last_seq:
            return  # already delivered (a catch-up and Redis both carried it)
        self.last_seq = change.seq
        for sub in self.subscriptions:
            if sub.overflowed:
                continue
            try:
                sub.queue.put_nowait(change)
            except asyncio.QueueFull:
                sub.overflowed = True

    async def catch_up(self) -> None:
        """Deliver every stored change after the last one delivered."""
        while True:
            rows = await changes_since(self.pool, self.last_seq, CATCH_UP_LIMIT)
            for row in rows:
                self.deliver(Change.from_row(row, await self.recons.rules(row["recon"])))
            if len(rows) < CATCH_UP_LIMIT:
                return

    async def _run(self) -> None:
        delays = Backoff(first=0.5, cap=5.0)
        await self._start_position()
        while True:
            try:
                await self._follow_redis()
            except asyncio.CancelledError:
                raise
            except (aioredis.RedisError, OSError) as exc:
                self.redis_up = False
                self._outage.failed(exc)
            await self._poll_feed(delays.next())

    async def _start_position(self) -> None:
        delays = Backoff(first=0.5, cap=5.0)
        while True:
            try:
                self.last_seq = await last_seq(self.pool)
                return
            except Exception as exc:  # PostgreSQL away at start: wait for it
                log.warning("change feed not readable yet (%s); retrying", exc)
                await asyncio.sleep(delays.next())

    async def _poll_feed(self, pause: float) -> None:
        """While Redis is away: read the change feed itself for ``pause`` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + pause
        while True:
            with contextlib.suppress(Exception):  # PostgreSQL may be away too
                await self.catch_up()
            if loop.time() >= end:
                return
            await asyncio.sleep(min(POLL, max(0.0, end - loop.time())))

    async def _follow_redis(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            self.redis_up = True
            self._outage.recovered()
            await self.catch_up()  # what was stored while we were not subscribed
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                change = _parse(message["data"])
                if change is not None:
                    with TRACER.start_as_current_span(
                        "sse.deliver",
                        context=tracing.context_of(change.carried),
                        attributes={"seq": change.seq, "clients": len(self.subscriptions)},
                    ):
                        self.deliver(change)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


def _parse(data: bytes) -> Change | None:
    try:
        item = json.loads(data)
        brk = item["break"]
        carried = {"traceparent": item["traceparent"]} if item.get("traceparent") else {}
        return Change(int(item["seq"]), str(brk["recon"]), json.dumps(brk), carried)
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring a fan-out message that is not a stored change")
        return None


async def stream_changes(
    hub: ChangeHub, pool: AsyncConnectionPool, since: int | None, visible: list[str] | None
) -> AsyncIterator[dict[str, str] | bytes]:
    """SSE events for one client: what it missed since ``since`` (its Last-Event-ID), read
    from PostgreSQL, then the live changes — of the ``visible`` recons only (None: all). A
    client too far behind — more than ``CATCH_UP_LIMIT`` changes, or a queue it did not
    drain — gets a ``reset`` event: reload the snapshot, then carry on live."""
    with hub.subscribe() as sub:  # before reading the feed: no change falls in between
        sent = hub.last_seq if since is None else since
        yield {"event": "ready", "id": str(sent), "data": json.dumps({"seq": sent})}
        if since is not None:
            missed = await changes_since(pool, since, CATCH_UP_LIMIT + 1)
            if len(missed) > CATCH_UP_LIMIT:
                sent = hub.last_seq
                yield {"event": "reset", "id": str(sent), "data": "{}"}
            for row in missed if len(missed) <= CATCH_UP_LIMIT else []:
                sent = row["seq"]
                if visible is None or row["recon"] in visible:
                    change = Change.from_row(row, await hub.recons.rules(row["recon"]))
                    yield change.event
        while True:
            if sub.overflowed:
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.overflowed = False
                sent = hub.last_seq
                yield {"event": "reset", "id": str(sent), "data": "{}"}
                continue
            change = await sub.queue.get()
            if change.seq > sent:
                sent = change.seq
                if visible is None or change.recon in visible:
                    yield change.event
