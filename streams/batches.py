"""Partition batches (pure): how records and timers travel, many to a Kafka message.

A consumer pays its per-message cost (Faust's is about 230 µs) once per message, so the
producers of ``greenai.records`` and ``greenai.diff.timers`` gather the items bound for one
partition into one ``SourceRecordBatch`` or ``DiffTimerBatch`` message, sent to that partition
explicitly. An item is encoded alone first (so a bad one fails alone, and its size is known),
and a batch is its items' bodies behind one array count: the Avro binary encoding of an array
is a block count, the items, and a zero.

>>> batch = BatchCodec("DiffTimer")
>>> from datetime import UTC, datetime
>>> at = datetime(2026, 12, 2, tzinfo=UTC)
>>> timers = [{"recon": "r", "key": {"id": str(n)}, "deadline": at} for n in range(3)]
>>> value = batch.encode([batch.body(t) for t in timers])
>>> [t["key"]["id"] for t in batch.decode(value)]
['0', '1', '2']
>>> batch.decode(batch.single.encode(timers[0])) == timers[:1]  # the one-item format, read too
True

>>> gather = Gatherer(Limits(items=2, size=100, linger=0.1))
>>> gather.add(0, b"a", now=0.0), gather.add(1, b"b", now=0.0)
([], [])
>>> gather.add(0, b"c", now=0.05)  # partition 0 is full
[(0, [b'a', b'c'])]
>>> gather.add(0, b"d", now=0.2)  # partition 1 waited past the linger
[(1, [b'b'])]
>>> gather.drain()
[(0, [b'd'])]
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import fastavro

from streams.avro import Codec, DecodeError, codec

# A Kafka producer refuses a message over its message.max.bytes (1,000,000 by default); a
# batch stays under it with room for the record's own framing.
MAX_BATCH_BYTES = 990_000
# An item's place in the stream is (message offset, index in the batch), one number for the
# diff's redelivery check: offset * SLOTS + index.
SLOTS = 1 << 16


def _long(n: int) -> bytes:
    """Avro's zig-zag varint of a long."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


class BatchCodec:
    """The batch schema ``<Item>Batch`` of an item schema, and the one-item format before it."""

    def __init__(self, item: str) -> None:
        self.single: Codec = codec(item)
        self.batch: Codec = codec(f"{item}Batch")

    def body(self, item: dict[str, Any]) -> bytes:
        """One item's Avro body (no header): what :meth:`encode` puts in a batch."""
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, self.single.schema, item)
        return buf.getvalue()

    def encode(self, bodies: Sequence[bytes]) -> bytes:
        return b"".join([self.batch.header, _long(len(bodies)), *bodies, b"\0"])

    def decode(self, value: bytes, *, record_names: bool = False) -> list[dict[str, Any]]:
        """The items of a batch, or the one item of a message in the item's own schema
        (``record_names`` as :meth:`Codec.decode` has it)."""
        if self.batch.knows(value):
            datum = self.batch.decode(value, record_names=record_names)
            items: list[dict[str, Any]] = next(iter(datum.values()))
            if len(items) > SLOTS:
                raise DecodeError(f"a batch of {len(items)} items, over the limit of {SLOTS}")
            return items
        return [self.single.decode(value, record_names=record_names)]

    def is_batch(self, value: bytes) -> bool:
        return self.batch.knows(value)


@dataclass(frozen=True)
class Limits:
    """A batch goes out at ``items`` items, ``size`` bytes, or ``linger`` seconds old."""

    items: int = 500
    size: int = MAX_BATCH_BYTES
    linger: float = 0.1


DEFAULT_LIMITS = Limits()


class Gatherer:
    """Item bodies gathered per partition into batches (a clock read by the caller)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._open: dict[int, tuple[float, list[bytes], int]] = {}  # since, bodies, bytes
        self._next_due = float("inf")  # when the oldest open batch passes the linger

    def add(self, partition: int, body: bytes, now: float) -> list[tuple[int, list[bytes]]]:
        """Add one body; the batches due now (a full one, or any older than the linger)."""
        since, bodies, size = self._open.get(partition) or (now, [], 0)
        ready = []
        if bodies and size + len(body) > self.limits.size:
            ready.append((partition, bodies))
            since, bodies, size = now, [], 0
        bodies.append(body)
        size += len(body)
        if len(bodies) >= self.limits.items:
            ready.append((partition, bodies))
            self._open.pop(partition, None)
        else:
            self._open[partition] = (since, bodies, size)
            self._next_due = min(self._next_due, since + self.limits.linger)
        if now >= self._next_due:
            ready += self._lingering(now)
        return ready

    def _lingering(self, now: float) -> list[tuple[int, list[bytes]]]:
        linger = self.limits.linger
        old = [p for p, (since, _, _) in self._open.items() if now - since >= linger]
        ready = [(p, self._open.pop(p)[1]) for p in old]
        self._next_due = min((s + linger for s, _, _ in self._open.values()), default=float("inf"))
        return ready

    def drain(self) -> list[tuple[int, list[bytes]]]:
        """Every open batch, in partition order; nothing stays gathered."""
        out = [(p, self._open[p][1]) for p in sorted(self._open)]
        self._open.clear()
        self._next_due = float("inf")
        return out

    def __len__(self) -> int:
        return sum(len(bodies) for _, bodies, _ in self._open.values())
