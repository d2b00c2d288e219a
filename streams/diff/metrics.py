"""Prometheus metrics of a diff worker (served by :mod:`streams.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ITEMS = Counter(
    "greenai_diff_items", "Input items applied, by kind (record, timer, command)", ["kind"]
)
REFUSED = Counter("greenai_diff_commands_refused", "Actions on breaks the owner refused")
EVENTS = Counter(
    "greenai_diff_events", "Events published, by kind (break status, or MATCHED)", ["kind"]
)
MESSAGE_SECONDS = Histogram(
    "greenai_diff_message_seconds",
    "Time to apply one input message (a partition batch) and write its keys",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
OPEN_WINDOWS = Gauge("greenai_diff_open_windows", "Keys waiting for a side, in this worker")
KEYS = Gauge("greenai_diff_keys", "Recon keys held in this worker's table (its partitions)")
