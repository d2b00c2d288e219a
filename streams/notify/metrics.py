"""Prometheus metrics of the notifier (served by :mod:`streams.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

ALERTS = Counter("greenai_alerts", "Alerts read from the alerts topic", ["kind", "severity"])
DELIVERIES = Counter(
    "greenai_notify_deliveries",
    "Attempts to tell a subscriber of an alert, by channel and outcome",
    ["channel", "outcome"],
)
