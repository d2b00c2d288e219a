"""Recording to the audit trail, and shipping it to Kafka (``greenai.audit``).

A :class:`Recorder` appends an entry in the caller's transaction, so an action stored in PostgreSQL
and its entry commit together (or neither does). The shipper publishes every entry, in
order, to the audit topic so that the trail can be kept in a separate system; it remembers
how far it got (``audit_shipped``), so a crash or a Kafka outage delays the copy and never
loses an entry. One BFF replica ships at a time (an advisory lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from bff.audit.chain import Entry, Sealed
from bff.store import audit
from streams.avro import codec
from streams.kafka import DeliveryFailed, SafeProducer
from streams.retry import Outage

log = logging.getLogger(__name__)
SHIP_LOCK = 4245
SHIP_BATCH = 500
AUDIT = codec("AuditEntry")


@dataclass(frozen=True)
class Actor:
    name: str
    kind: str  # user | token | system | anonymous


@dataclass(frozen=True)
class Where:
    """Where a request came from."""

    ip: str = ""
    user_agent: str = ""
    request_id: str = ""


SYSTEM = Actor("greenai", "system")


class Recorder:
    """Appends entries for one request: its origin and the trail's key, bound once."""

    def __init__(self, key: bytes | None, where: Where) -> None:
        self.key = key
        self.where = where

    async def __call__(
        self,
        conn: AsyncConnection[Any],
        actor: Actor,
        action: str,
        *,
        target: tuple[str, str] = ("", ""),
        recon: str | None = None,
        before: Any = None,
        after: Any = None,
    ) -> Sealed:
        """Append an entry in ``conn``'s current transaction (the caller commits), so an
        action and its entry are stored together or not at all. ``target``: what the action
        was done to, as (type, id), e.g. ("break", "b-…")."""
        entry = Entry(
            0,
            datetime.now(UTC),
            actor.name,
            actor.kind,
            action,
            target[0],
            str(target[1]),
            recon,
            before,
            after,
            self.where.ip,
            self.where.user_agent,
            self.where.request_id,
        )
        return await audit.append(conn, entry, self.key)


def avro_datum(sealed: Sealed) -> dict[str, Any]:
    return sealed._asdict() | {
        "before": None if sealed.before is None else audit.as_text(sealed.before),
        "after": None if sealed.after is None else audit.as_text(sealed.after),
    }


class Shipper:
    """Publishes the trail to Kafka, in order, from where it last got."""

    def __init__(self, pool: AsyncConnectionPool, producer: SafeProducer, topic: str) -> None:
        self.pool = pool
        self.producer = producer
        self.topic = topic
        self.wake = asyncio.Event()
        self._outage = Outage("Kafka (audit shipping)", log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-shipper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            self.wake.clear()
            try:
                while await self.ship_once():
                    pass
            except (psycopg.OperationalError, DeliveryFailed) as exc:
                self._outage.failed(exc)
                await asyncio.sleep(2.0)

    async def ship_once(self) -> int:
        """Publish the next batch of unshipped entries; how many (0: none, or another
        replica holds the lock)."""
        async with self.pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", [SHIP_LOCK])
            ).fetchone()
            if not row or not row[0]:
                return 0
            after = await audit.shipped(conn)
            batch = await audit.page(conn, audit.Filters(), after, SHIP_BATCH)
            if not batch:
                return 0
            for sealed in batch:
                value = AUDIT.encode(avro_datum(sealed))
                self.producer.send(self.topic, str(sealed.seq).encode(), value)
            await asyncio.to_thread(self.producer.flush, 30.0)
            await audit.mark_shipped(conn, batch[-1].seq)
        self._outage.recovered()
        return len(batch)
