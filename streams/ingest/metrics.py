"""Prometheus metrics of the connectors, per recon and source.

Counters move when a batch is acknowledged by Kafka and checkpointed, so ``published`` never
counts a record that could still be lost. ``greenai_ingest_lag_seconds`` is how far behind
its source a connector may be: the time since the start of its last complete pass over the
source (a pass that ended with nothing left to read). ``greenai_ingest_backlog`` is what the
source holds that is not published yet, in the connector's unit (see docs/connectors.md).
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge

LABELS = ("recon", "source")
READ = Counter("greenai_ingest_rows_read", "Rows read from the source", LABELS)
PUBLISHED = Counter("greenai_ingest_rows_published", "Rows published and acknowledged", LABELS)
DEAD_LETTERED = Counter(
    "greenai_ingest_rows_dead_lettered", "Rows sent to the dead-letter topic", LABELS
)
BACKLOG = Gauge(
    "greenai_ingest_backlog",
    "Items the source holds that are not published yet (rows, files, objects or pages)",
    LABELS,
)
LAG = Gauge(
    "greenai_ingest_lag_seconds",
    "Seconds since the start of the connector's last complete pass over its source",
    LABELS,
)


class SourceMetrics:
    def __init__(self, recon: str, source: str) -> None:
        self._read = READ.labels(recon, source)
        self._published = PUBLISHED.labels(recon, source)
        self._dead = DEAD_LETTERED.labels(recon, source)
        self._backlog = BACKLOG.labels(recon, source)
        self._pass_started = self._complete_at = time.time()
        LAG.labels(recon, source).set_function(lambda: time.time() - self._complete_at)

    def add(self, read: int, published: int, dead_lettered: int) -> None:
        self._read.inc(read)
        self._published.inc(published)
        self._dead.inc(dead_lettered)

    def backlog(self, items: int) -> None:
        self._backlog.set(items)

    def pass_started(self) -> None:
        self._pass_started = time.time()

    def pass_complete(self) -> None:
        self._complete_at = self._pass_started
