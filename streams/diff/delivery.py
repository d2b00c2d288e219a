"""Holes in what the diff agent is handed (pure): each input partition must arrive in order.

The diff's inputs (records, timers) are delete-policy topics written without transactions,
so their offsets have no gaps: a message handed over after a jump forward means messages
were skipped. Faust does skip some: at an assignment it resumes the stream partitions
before it seeks them to their committed offsets, and messages fetched in between can be
dropped although the stream goes on after them. Faust never commits past such a hole, so
nothing is lost, but the worker stalls with its lag stuck. The agent therefore asks
:meth:`DeliveryOrder.check` about every message: it processes it, skips it (not
acknowledged, it comes again), or seeks the partition back to the first missing offset,
again from a timer if the hole stays open (:meth:`DeliveryOrder.overdue`).

>>> order = DeliveryOrder()
>>> def seen(*offsets, now=0.0):
...     return [order.check("records", 0, n, now=now).name for n in offsets]
>>> seen(322, 323, 324)
['PROCESS', 'PROCESS', 'PROCESS']
>>> seen(522, 523), order.hole("records", 0)  # a hole: seek back once, then wait for it
(['SEEK', 'SKIP'], 325)
>>> seen(325, 326)
['PROCESS', 'PROCESS']

Going back is a redelivery (after a seek or a restart), never a hole, and an assignment
forgets what was seen: the partitions resume at their committed offsets, which the worker
tells it before their first message (Faust may drop the very first ones too):

>>> seen(300, 301)
['PROCESS', 'PROCESS']
>>> order.forget()
>>> order.knows("records", 0)
False
>>> order.expect("records", 0, 8990)
>>> seen(9000), order.hole("records", 0)
(['SEEK'], 8990)
>>> seen(*range(8990, 9001))[-1]
'PROCESS'

A seek that did not bring the missing offset is asked for again after ``retry_after``:

>>> seen(9006, now=1.0) + seen(9007, now=1.5) + seen(9008, now=3.1)
['SEEK', 'SKIP', 'SEEK']

or, when nothing more arrives, by a timer asking for the overdue ones:

>>> order.overdue(now=4.0), order.overdue(now=5.2)
([], [('records', 0)])
"""

from __future__ import annotations

import enum

Partition = tuple[str, int]


class Verdict(enum.Enum):
    PROCESS = "process"
    SKIP = "skip"  # beyond a hole: leave it unacknowledged, it is delivered again
    SEEK = "seek"  # beyond a hole: seek the partition back to :meth:`DeliveryOrder.hole`


class DeliveryOrder:
    def __init__(self, retry_after: float = 2.0) -> None:
        self.retry_after = retry_after
        self._next: dict[Partition, int] = {}  # the offset each partition must hand over next
        self._sought: dict[Partition, float] = {}  # when a seek back was last asked for

    def check(self, topic: str, partition: int, offset: int, *, now: float) -> Verdict:
        """What to do with the message at ``offset`` (``now``: a monotonic clock)."""
        tp = (topic, partition)
        expected = self._next.get(tp)
        if expected is None or offset <= expected:
            self._next[tp] = offset + 1
            self._sought.pop(tp, None)
            return Verdict.PROCESS
        asked = self._sought.get(tp)
        if asked is not None and now - asked < self.retry_after:
            return Verdict.SKIP
        self._sought[tp] = now
        return Verdict.SEEK

    def knows(self, topic: str, partition: int) -> bool:
        """Whether the offset ``partition`` must hand over next is known."""
        return (topic, partition) in self._next

    def expect(self, topic: str, partition: int, offset: int) -> None:
        """``partition`` resumes at ``offset`` (its committed offset, after an assignment)."""
        self._next[(topic, partition)] = offset

    def overdue(self, now: float) -> list[Partition]:
        """Partitions whose seek back has not brought their hole within ``retry_after``
        (messages still draining from before the seek can overtake it): seek them again."""
        due = [tp for tp, asked in self._sought.items() if now - asked >= self.retry_after]
        for tp in due:
            self._sought[tp] = now
        return due

    def hole(self, topic: str, partition: int) -> int:
        """The first offset of ``partition`` not handed over yet."""
        return self._next[(topic, partition)]

    def forget(self) -> None:
        """At an assignment: every partition resumes where its committed offset says."""
        self._next.clear()
        self._sought.clear()
