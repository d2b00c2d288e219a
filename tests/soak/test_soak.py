"""``make soak`` (not in CI): the chaos of ``test_chaos`` for twenty minutes at a steady rate
(``GREENAI_SOAK_MINUTES``, ``GREENAI_SOAK_RATE``), reporting lag, memory growth and restarts.
The report goes to stdout and to ``soak-report.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from greenai.localstack import LocalServers
from tests.integration.chaos import chaos_pipeline, run_chaos

pytestmark = pytest.mark.soak
MINUTES = float(os.environ.get("GREENAI_SOAK_MINUTES", "20"))
RATE = float(os.environ.get("GREENAI_SOAK_RATE", "100"))


def test_twenty_minutes_of_chaos_at_a_steady_rate(
    local_servers: LocalServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pipeline = chaos_pipeline(local_servers, tmp_path_factory.mktemp("soak"), "soak")
    try:
        report = run_chaos(
            pipeline,
            local_servers,
            seconds=MINUTES * 60,
            rate=RATE,
            seed=7,
            kill_every=(45.0, 120.0),
        )
    finally:
        pipeline.group.stop_all()
    summary = report.summary() | {"lag_every_5s": [lag for _, lag in report.lag]}
    Path("soak-report.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(report.summary(), indent=2))
    assert report.problems == [], "\n".join(report.problems[:20])
