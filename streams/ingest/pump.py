"""The loop every connector shares: publish rows, and at each batch end flush, then commit.

A connector hands the pump ``(row, mark)`` pairs. A mark is the connector's resume position
that becomes safe once that row and every row before it are acknowledged (a row number, a
completed SQL watermark, the next page cursor); ``None`` means "no new safe position". Every
``batch_rows`` rows or ``batch_seconds`` the pump flushes the producer (which raises unless
every record was acknowledged) and only then calls ``commit`` with the last mark: the
checkpoint never runs ahead of Kafka, so a crash can repeat rows but never skip one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from streams.ingest.files import RawRow
from streams.ingest.metrics import SourceMetrics
from streams.ingest.progress import RowProgress
from streams.ingest.publisher import Counts, SourcePublisher

M = TypeVar("M")
Commit = Callable[[M | None, Counts, bool], None]
PROGRESS_EVERY = 2048


class Pump(Generic[M]):
    def __init__(
        self,
        publisher: SourcePublisher,
        commit: Commit[M],
        *,
        batch_rows: int = 20_000,
        batch_seconds: float = 2.0,
        metrics: SourceMetrics | None = None,
        progress: RowProgress | None = None,
    ) -> None:
        self.publisher = publisher
        self._commit = commit
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.metrics = metrics
        self.progress = progress
        self._committed = Counts()

    def run(self, rows: Iterable[tuple[RawRow | None, M | None]]) -> Counts:
        """Publish every row; returns the counts of this run (all acknowledged)."""
        publish = self.publisher.publish
        mark: M | None = None
        pending = shown = 0
        deadline = time.monotonic() + self.batch_seconds
        for raw, row_mark in rows:
            if raw is not None:
                publish(raw)
                pending += 1
                shown += 1
                if shown >= PROGRESS_EVERY and self.progress is not None:
                    self.progress.update(shown)
                    shown = 0
            if row_mark is not None:
                mark = row_mark
            if pending >= self.batch_rows or time.monotonic() >= deadline:
                self._flush_and_commit(mark, done=False)
                pending = 0
                deadline = time.monotonic() + self.batch_seconds
        if self.progress is not None:
            self.progress.update(shown)
        self._flush_and_commit(mark, done=True)
        return self.publisher.counts

    def _flush_and_commit(self, mark: M | None, *, done: bool) -> None:
        counts = self.publisher.counts
        if not done and counts == self._committed:
            return
        self.publisher.producer.flush()
        self._commit(mark, counts, done)
        if self.metrics is not None:
            self.metrics.add(
                counts.read - self._committed.read,
                counts.published - self._committed.published,
                counts.dead_lettered - self._committed.dead_lettered,
            )
        self._committed = Counts(**counts.as_dict())
