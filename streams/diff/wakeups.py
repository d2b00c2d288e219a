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
>>> [w.key for w in index.pop_due(0, t0 + timedelta(seconds=8))]
[b'k1']
>>> index.discard(b"k2")
>>> len(index), index.open_windows
(0, 0)

A wake-up holds only the key's bytes (its recon and key values are in them, see
:mod:`streams.keys`): the index is what the worker holds in memory for every open key.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from datetime import datetime
from typing import NamedTuple

COMPACT_SLACK = 1024  # stale heap entries tolerated beyond the live ones before a rebuild


class Wakeup(NamedTuple):
    """The next look at one key."""

    key: bytes
    partition: int
    at: datetime
    window: bool  # the end of a match window (False: the end of state retention)


class WakeupIndex:
    """The next wake-up of every key, a heap per partition with lazy deletion."""

    def __init__(self) -> None:
        self._live: dict[bytes, tuple[Wakeup, int]] = {}  # key -> its wake-up, heap ticket
        self._heaps: defaultdict[int, list[tuple[datetime, int, bytes]]] = defaultdict(list)
        self._ticket = itertools.count()
        self._windows: Counter[int] = Counter()  # open match windows by partition

    @property
    def open_windows(self) -> int:
        return sum(self._windows.values())

    def windows_in(self, partition: int) -> int:
        """Open match windows of ``partition``'s keys."""
        return self._windows[partition]

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: bytes) -> bool:
        return key in self._live

    def set(self, wakeup: Wakeup) -> None:
        """Schedule ``wakeup``, replacing the key's previous one."""
        self.discard(wakeup.key)
        ticket = next(self._ticket)
        self._live[wakeup.key] = (wakeup, ticket)
        self._windows[wakeup.partition] += wakeup.window
        heap = self._heaps[wakeup.partition]
        heapq.heappush(heap, (wakeup.at, ticket, wakeup.key))
        if len(heap) > 2 * len(self._live) + COMPACT_SLACK:
            self._compact(wakeup.partition)

    def discard(self, key: bytes) -> None:
        """Forget the key's wake-up, if it has one (its heap entry goes stale)."""
        held = self._live.pop(key, None)
        if held is not None:
            self._windows[held[0].partition] -= held[0].window

    def pop_due(self, partition: int, clock: datetime) -> list[Wakeup]:
        """Remove and return the keys of ``partition`` due at ``clock``, earliest first."""
        heap = self._heaps.get(partition)
        due: list[Wakeup] = []
        while heap and heap[0][0] <= clock:
            _, ticket, key = heapq.heappop(heap)
            held = self._live.get(key)
            if held is not None and held[1] == ticket:
                del self._live[key]
                self._windows[partition] -= held[0].window
                due.append(held[0])
        return due

    def clear(self) -> None:
        self._live.clear()
        self._heaps.clear()
        self._windows.clear()

    def _compact(self, partition: int) -> None:
        live = [
            (w.at, ticket, key)
            for key, (w, ticket) in self._live.items()
            if w.partition == partition
        ]
        heapq.heapify(live)
        self._heaps[partition] = live
