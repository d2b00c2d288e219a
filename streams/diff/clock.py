"""Event time per partition (pure): how far the diff has come in each partition's records.

Match windows run on event time, the moment the broker appended a record, never on the
moment a worker happened to process it. A partition's clock is the newest append time the
worker has processed there; a key's window has run out once that clock passes its
deadline, because every record appended before the deadline has been processed by then
(append times grow within a partition). A partition with nothing left to read has no
newer records to move its clock, so once caught up its clock follows the wall clock, less
a grace for records appended but not yet fetched. A backlog (after a crash, an outage, a
slow consumer) therefore never makes a window run out early: results do not depend on how
fast the worker runs.

Whether a partition is caught up is told by offsets: the next offset to process (from
the messages processed, or where the worker resumed after an assignment) against the
partition's high watermark.

>>> from datetime import datetime, timedelta, UTC
>>> t0 = datetime(2026, 12, 1, tzinfo=UTC)
>>> clocks = PartitionClocks(grace=timedelta(seconds=2))
>>> clocks.now(0, high=10, wall=t0) is None    # nothing known yet
True
>>> clocks.observe(0, t0, offset=7)
>>> clocks.now(0, high=10, wall=t0 + timedelta(minutes=5)) == t0  # a backlog: offsets 8, 9
True
>>> clocks.observe(0, t0, offset=9)
>>> clocks.now(0, high=10, wall=t0 + timedelta(minutes=5)) == t0 + timedelta(seconds=298)
True
>>> clocks.forget()          # assigned again: partition 1 resumes at offset 4, nothing newer
>>> clocks.resume({1: 4})
>>> clocks.now(1, high=4, wall=t0) == t0 - timedelta(seconds=2)
True

The committed offsets of an assignment are read in a thread while the agent goes on; what
the agent processed meanwhile stands:

>>> clocks.forget()
>>> clocks.observe(0, t0, offset=9)         # the backlog done before the offsets came
>>> clocks.resume({0: 3})
>>> clocks.now(0, high=10, wall=t0 + timedelta(minutes=5)) == t0 + timedelta(seconds=298)
True
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_GRACE = timedelta(seconds=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def appended_at(seconds: float) -> datetime:
    """A Kafka timestamp (whole milliseconds; Faust hands them over as float seconds) as
    an exact UTC datetime, so every reader of a message computes the same moment."""
    return EPOCH + timedelta(milliseconds=round(seconds * 1000))


class PartitionClocks:
    def __init__(self, grace: timedelta = DEFAULT_GRACE) -> None:
        self.grace = grace
        self._seen: dict[int, datetime] = {}
        self._next: dict[int, int] = {}  # partition -> the next offset this worker processes

    def observe(self, partition: int, appended_at: datetime, offset: int) -> None:
        """The record of ``partition`` at ``offset``, appended at ``appended_at``, is being
        processed (everything before it is)."""
        held = self._seen.get(partition)
        if held is None or appended_at > held:
            self._seen[partition] = appended_at
        self._next[partition] = offset + 1

    def forget(self) -> None:
        """At an assignment: what was known is forgotten (another worker may have moved the
        partitions on meanwhile), until :meth:`resume` or the records say again."""
        self._seen.clear()
        self._next.clear()

    def resume(self, offsets: dict[int, int]) -> None:
        """Where each partition resumed after the assignment (its committed offset). Read in
        a thread while the agent goes on, so a partition processed since keeps what its
        records said: the committed offset is never ahead of them."""
        for partition, offset in offsets.items():
            self._next.setdefault(partition, offset)

    def now(self, partition: int, *, high: int | None, wall: datetime) -> datetime | None:
        """The partition's clock (None: nothing is known yet, so nothing is due), given the
        partition's high watermark ``high`` as last fetched."""
        seen = self._seen.get(partition)
        upto = self._next.get(partition)
        if high is None or upto is None or upto < high:
            return seen
        idle = wall - self.grace
        return idle if seen is None or idle > seen else seen
