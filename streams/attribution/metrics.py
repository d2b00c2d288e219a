"""Prometheus metrics of an attribution worker (served by :mod:`streams.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BREAKS = Counter(
    "greenai_attribution_breaks",
    "Breaks attributed, by cause and disposition",
    ["cause", "disposition"],
)
LABELS = Gauge("greenai_attribution_model_labels", "Labels the model has learned")
ACCURACY = Gauge(
    "greenai_attribution_model_accuracy",
    "Prequential accuracy of attribution on the last 200 labels (predicted before learning)",
)
DRIFTS = Gauge(
    "greenai_attribution_model_drifts",
    "Drifts ADWIN detected in the model's error stream (over the model's whole life)",
)
DRIFT_ALERTS = Counter("greenai_attribution_drift_alerts", "Drift alerts this process published")
FEEDBACK_OFFSET = Gauge(
    "greenai_attribution_feedback_offset", "Next feedback offset the model will fold"
)
MODEL_VERSION = Gauge(
    "greenai_attribution_model_version", "The last model version checkpointed or loaded"
)
BATCH_SECONDS = Histogram(
    "greenai_attribution_batch_seconds",
    "Time to attribute, record and publish one batch of breaks",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
