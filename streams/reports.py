"""What the diff workers report in Redis for the command line (best effort, short-lived).

Each diff worker refreshes, every half second, the number of match windows open in each
records partition it owns (``greenai wait`` waits for them to close, and for every partition
to be reported: a partition nobody owns, its last owner gone before the group noticed, could
hide open windows) and how many recon keys hold a booking of each source (``greenai recon
apply`` refuses to remove a source that still holds bookings). A report expires ``TTL``
seconds after its last refresh, so a stopped worker reports nothing.
"""

from __future__ import annotations

import json
from collections import Counter

import redis

TTL = 5


def pending_key(prefix: str, partition: int) -> str:
    return f"{prefix}:diff:pending:{partition}"


def holdings_key(prefix: str, worker: str) -> str:
    return f"{prefix}:diff:holdings:{worker}"


def open_windows(client: redis.Redis, prefix: str, partitions: int) -> tuple[int, int]:
    """Match windows open over the records partitions, and how many partitions no diff
    worker reports now."""
    found = client.mget([pending_key(prefix, p) for p in range(partitions)])
    return sum(int(v) for v in found if v is not None), sum(v is None for v in found)


def holdings(client: redis.Redis, prefix: str, recon: str) -> dict[str, int] | None:
    """Recon keys holding a booking of each source of ``recon``, over every diff worker;
    None when no diff worker is reporting (nobody can tell)."""
    keys = client.keys(holdings_key(prefix, "*"))
    if not keys:
        return None
    total: Counter[str] = Counter()
    for raw in client.mget(keys):
        if raw:
            total.update(json.loads(raw).get(recon, {}))
    return dict(total)
