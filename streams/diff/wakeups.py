"""When the diff must look at a key again (pure): wake-ups ordered by time, per partition.

A key waiting for another source wakes up when its match window runs out; a settled key
wakes up when its state retention ends. The index answers "which keys of partition ``p``
are due at ``clock``" by popping a heap, so a look costs the number of keys due, not the
number of keys held. Every change is synchronous: nothing here can interleave with an
``await``, so a caller that pops the due keys before it sends anything cannot race the
agent that sets and discards them.

>>> from datetime import datetime, timedelta, UTC
>>> t0 = datetime(2026, 12, 1, tzinfo=UTC)
>>> index = WakeupIndex()
>>> index.set(Wakeup(b"k1", 0, t0 + timedelta(seconds=5), True))
>>> index.set(Wakeup(b"k2", 0, t0 + timedelta(seconds=9), True))
>>> index.set(Wakeup(b"k1", 0, t0 + timedelta(seconds=7), True))
>>> index.open_windows
2
>>> [(w.key, w.at.second) for w in index.pop_due(0, t0 + timedelta(seconds=8))]
[(b'k1', 7)]
>>> index.discard(b"k2")
>>> len(index), index.open_windows
(0, 0)

The index is what the worker holds in memory for every key it keeps (open or settled), so
it is compact: a key's bytes (its recon and key values are in them, see
:mod:`streams.keys`), one dict entry from the key to when it is due (an ``int``, see
:func:`when`), and a reference in its partition's group of keys due at that moment. The keys
of one input message share their moment (its append time plus the window), so a group, its
heap entry and its ``int`` are shared by them: about 120 bytes a key, 200 when no two keys
share a moment (``python -m bench.wakeups``). A key set again or discarded stays behind in
its old group, skipped when the group is popped, until its partition's groups are compacted.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

COMPACT_SLACK = 1024  # stale entries tolerated in a partition beyond its live keys
PARTITION_BITS = 16  # a wake-up names one of 65,536 partitions at most
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Wakeup(NamedTuple):
    """The next look at one key."""

    key: bytes
    partition: int
    at: datetime
    window: bool  # the end of a match window (False: the end of state retention)


def when(at: datetime, window: bool, partition: int) -> int:
    """A wake-up's moment, kind and partition as one ``int`` that orders as (moment, kind)
    within a partition: microseconds since the epoch, then a bit for a window, then the
    partition. Exact: datetimes hold microseconds.

    >>> t = datetime(2026, 12, 1, 0, 0, 7, 123456, tzinfo=UTC)
    >>> unpack(when(t, True, 11)) == (t, True, 11)
    True
    >>> when(t, False, 3) < when(t, True, 3) < when(t + MICROSECOND, False, 3)
    True
    """
    if not 0 <= partition < 1 << PARTITION_BITS:
        raise ValueError(f"partition {partition} is out of range")
    micros = (at - EPOCH) // MICROSECOND
    return ((micros << 1 | window) << PARTITION_BITS) | partition


def unpack(code: int) -> tuple[datetime, bool, int]:
    """The moment, kind and partition of :func:`when`'s ``int``."""
    partition = code & ((1 << PARTITION_BITS) - 1)
    moment = code >> PARTITION_BITS
    return EPOCH + (moment >> 1) * MICROSECOND, bool(moment & 1), partition


@dataclass
class _Partition:
    """One partition's wake-ups: its keys grouped by when they are due (a lone key is its
    own group) and a heap of those moments, stale keys included until a compaction."""

    heap: list[int] = field(default_factory=list)
    groups: dict[int, bytes | list[bytes]] = field(default_factory=dict)
    entries: int = 0  # keys in the groups, stale ones included
    live: int = 0  # keys whose wake-up is here
    windows: int = 0  # of those, open match windows

    def add(self, code: int, key: bytes) -> None:
        group = self.groups.get(code)
        if group is None:
            self.groups[code] = key
            heapq.heappush(self.heap, code)
        elif isinstance(group, bytes):
            self.groups[code] = [group, key]
        else:
            group.append(key)
        self.entries += 1

    def pop(self, limit: int) -> tuple[int, list[bytes]] | None:
        """The earliest group, stale keys included, if it is due at ``limit``."""
        if not self.heap or self.heap[0] > limit:
            return None
        code = heapq.heappop(self.heap)
        keys = _keys(self.groups.pop(code))
        self.entries -= len(keys)
        return code, keys


def _keys(group: bytes | list[bytes]) -> list[bytes]:
    return [group] if isinstance(group, bytes) else group


class WakeupIndex:
    """The next wake-up of every key: keys grouped by moment in a heap per partition, with
    lazy deletion."""

    def __init__(self) -> None:
        self._due: dict[bytes, int] = {}  # key -> its wake-up, as `when` gives it
        self._partitions: dict[int, _Partition] = {}
        self._last = 0  # the wake-up set last: the keys of one message share its int

    @property
    def open_windows(self) -> int:
        return sum(p.windows for p in self._partitions.values())

    def windows_in(self, partition: int) -> int:
        """Open match windows of ``partition``'s keys."""
        part = self._partitions.get(partition)
        return part.windows if part else 0

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: bytes) -> bool:
        return key in self._due

    def set(self, wakeup: Wakeup) -> None:
        """Schedule ``wakeup``, replacing the key's previous one."""
        previous = self._due.get(wakeup.key)
        if previous is not None:  # replaced in place below: the dict keeps its size
            self._forget(previous)
        code = when(wakeup.at, wakeup.window, wakeup.partition)
        if code == self._last:
            code = self._last  # one int object for all the keys set together
        self._last = code
        self._due[wakeup.key] = code
        part = self._partitions.get(wakeup.partition)
        if part is None:
            part = self._partitions[wakeup.partition] = _Partition()
        part.add(code, wakeup.key)
        part.live += 1
        part.windows += wakeup.window
        if part.entries > 2 * part.live + COMPACT_SLACK:
            self._compact(part)

    def discard(self, key: bytes) -> None:
        """Forget the key's wake-up, if it has one (it goes stale in its group)."""
        code = self._due.pop(key, None)
        if code is not None:
            self._forget(code)

    def _forget(self, code: int) -> None:
        _, window, partition = unpack(code)
        part = self._partitions[partition]
        part.live -= 1
        part.windows -= window

    def pop_due(self, partition: int, clock: datetime) -> list[Wakeup]:
        """Remove and return the keys of ``partition`` due at ``clock``, earliest first."""
        part = self._partitions.get(partition)
        due: list[Wakeup] = []
        if part is None:
            return due
        limit = when(clock, True, partition)
        while (popped := part.pop(limit)) is not None:
            code, keys = popped
            at, window, _ = unpack(code)
            for key in keys:
                if self._due.get(key) == code:
                    del self._due[key]
                    part.live -= 1
                    part.windows -= window
                    due.append(Wakeup(key, partition, at, window))
        return due

    def clear(self) -> None:
        self._due.clear()
        self._partitions.clear()

    def _compact(self, part: _Partition) -> None:
        """Drop the partition's stale entries (keys set again since, or discarded)."""
        groups: dict[int, bytes | list[bytes]] = {}
        for code, group in part.groups.items():
            # a key set twice to one moment is in its group twice
            live = [key for key in dict.fromkeys(_keys(group)) if self._due.get(key) == code]
            if live:
                groups[code] = live[0] if len(live) == 1 else live
        part.groups = groups
        part.entries = sum(len(_keys(group)) for group in groups.values())
        part.heap = list(groups)
        heapq.heapify(part.heap)
