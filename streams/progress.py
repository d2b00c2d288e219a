"""How far the pipeline is: consumer-group lag of every stage and open match windows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis

from streams import reports
from streams.kafka import group_lag
from streams.settings import Settings
from streams.topics import Topics, partition_count


@dataclass(frozen=True)
class Progress:
    diff_lag: int
    attribution_lag: int
    sink_lag: int
    open_windows: int
    unreported_partitions: int = 0  # records partitions no diff worker reports windows of

    @property
    def settled(self) -> bool:
        return not (
            self.diff_lag
            or self.attribution_lag
            or self.sink_lag
            or self.open_windows
            or self.unreported_partitions
        )

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self) | {"settled": self.settled}


def measure(settings: Settings, *, count_windows: bool = True) -> Progress:
    """One look, in pipeline order: each stage commits only after its output is written."""
    kafka, prefix, t = settings.kafka(), settings.topic_prefix, Topics(settings.topic_prefix)
    windows = unreported = 0
    if count_windows:
        partitions = partition_count(kafka, t.records)
        with redis.Redis.from_url(settings.redis()) as r:
            windows, unreported = reports.open_windows(r, prefix, partitions)
    return Progress(
        diff_lag=group_lag(kafka, f"{prefix}-diff", [t.records, t.diff_timers, t.commands]),
        attribution_lag=group_lag(kafka, f"{prefix}-attribution", [t.breaks]),
        sink_lag=group_lag(kafka, f"{prefix}-bff-sink", [t.attributed, t.matches]),
        open_windows=windows,
        unreported_partitions=unreported,
    )


class Unmeasurable(Exception):
    """The progress cannot be read just now (the BFF restarting, say): the message is why."""


def wait_settled(look: Callable[[], Progress], timeout: float, interval: float = 0.5) -> Progress:
    """Block until two looks a second apart find nothing in flight; TimeoutError otherwise.
    ``look``: one measurement (``measure`` next to the servers, the BFF's ``/api/progress``
    from anywhere else); one that raises :class:`Unmeasurable` counts as not settled, so a
    wait outlives a restart of what it asks."""
    deadline = time.monotonic() + timeout
    clean_since: float | None = None
    last: Progress | str = "nothing measured yet"
    while True:
        try:
            progress = look()
        except Unmeasurable as exc:
            last, clean_since = str(exc), None
        else:
            last = progress
            if not progress.settled:
                clean_since = None
            elif clean_since is None:
                clean_since = time.monotonic()
            elif time.monotonic() - clean_since >= 1.0:
                return progress
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not settled after {timeout:.0f}s: {last}")
        time.sleep(interval)
