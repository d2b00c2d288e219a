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

>>> from datetime import datetime, timedelta, UTC
>>> t0 = datetime(2026, 12, 1, tzinfo=UTC)
>>> clocks = PartitionClocks(grace=timedelta(seconds=2))
>>> clocks.now(0, caught_up=False, wall=t0) is None    # nothing processed yet
True
>>> clocks.observe(0, t0)
>>> clocks.now(0, caught_up=False, wall=t0 + timedelta(minutes=5)) == t0  # backlog
True
>>> clocks.now(0, caught_up=True, wall=t0 + timedelta(minutes=5)) == t0 + timedelta(seconds=298)
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

    def observe(self, partition: int, appended_at: datetime) -> None:
        """A record of ``partition`` appended at ``appended_at`` has been processed."""
        held = self._seen.get(partition)
        if held is None or appended_at > held:
            self._seen[partition] = appended_at

    def now(self, partition: int, *, caught_up: bool, wall: datetime) -> datetime | None:
        """The partition's clock (None: nothing is known yet, so nothing is due)."""
        seen = self._seen.get(partition)
        if not caught_up:
            return seen
        idle = wall - self.grace
        return idle if seen is None or idle > seen else seen

    def forget(self, partitions: set[int]) -> None:
        """Partitions this worker no longer owns (their next owner starts from scratch)."""
        for p in partitions:
            self._seen.pop(p, None)
