"""Prometheus metrics of the scheduler (served by :mod:`streams.metrics`): its runs, and
each recon's state as the dashboards show it (refreshed every few seconds)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("greenai_scheduler_runs", "Runs of jobs, by kind and status", ["kind", "status"])
RUN_SECONDS = Histogram(
    "greenai_scheduler_run_seconds",
    "Time a job run took, by kind",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800),
)
LAST_SUCCESS = Gauge(
    "greenai_scheduler_last_success_timestamp_seconds", "When each job last ran OK", ["task"]
)
SLA_BREACHES = Counter("greenai_sla_breaches", "Breaks that went past their due date", ["recon"])
ESCALATIONS = Counter("greenai_escalations", "Breaks escalated at a cut-off", ["recon"])
OPEN_BREAKS = Gauge(
    "greenai_recon_open_breaks", "Unsettled breaks now, by ageing bucket", ["recon", "bucket"]
)
OVERDUE = Gauge("greenai_recon_overdue_breaks", "Unsettled breaks past their due date", ["recon"])
BY_CAUSE = Gauge(
    "greenai_recon_open_breaks_by_cause", "Unsettled breaks by cause", ["recon", "cause"]
)
MATCH_RATE = Gauge(
    "greenai_recon_match_rate", "Keys seen today that matched at first go, a share", ["recon"]
)
AUTO_CLOSE_RATE = Gauge(
    "greenai_recon_auto_close_rate", "Breaks opened today closed by an auto-close rule", ["recon"]
)
OPENED_TODAY = Gauge("greenai_recon_breaks_opened_today", "Breaks first seen today", ["recon"])
SETTLE_HOURS = Gauge(
    "greenai_recon_mean_hours_to_settle", "Mean time to settle of breaks settled today", ["recon"]
)
