"""The load test (``make load``) in small: its Locust analysts and SSE clients run for about
ten seconds against the test pipeline, every request succeeds and the streams get events.

No figure is asserted: the machine is shared and its timing is not this test's to judge.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import yaml

from greenai.up import DEMO_RECON
from load.plan import Plan, Target
from load.report import summarise
from load.run import run_load
from streams.ingest.synthetic import TradeGenerator
from tests.integration.pipeline import Pipeline


def test_the_load_test_runs_clean_against_the_pipeline(pipeline: Pipeline, tmp_path: Path) -> None:
    recon = yaml.safe_load(DEMO_RECON.read_text()) | {"match_window": "2s"}
    (tmp_path / "trades.yaml").write_text(yaml.safe_dump(recon, sort_keys=False))
    pipeline.cli("recon", "apply", str(tmp_path / "trades.yaml"))
    generator = TradeGenerator(seed=41, break_rate=0.5)
    pipeline.publish("trades", [generator.pair() for _ in range(300)])
    pipeline.cli("wait", "--timeout", "180")

    def more_breaks() -> None:  # changes to stream while the analysts work
        time.sleep(3)
        pipeline.publish("trades", [generator.pair() for _ in range(40)])

    feeder = threading.Thread(target=more_breaks)
    feeder.start()
    plan = Plan(
        users=5, sse=5, seconds=10, spawn_rate=5, sse_per_second=5, trades=0, think="0.5-1.5"
    )
    target = Target(
        pipeline.bff_url,
        pipeline.admin_token,
        pipeline.env["DATABASE_URL"],
        tuple(pipeline.group.pids.values()),
    )
    raw = run_load(target, plan, tmp_path / "load")
    feeder.join()
    summary = summarise(raw)

    assert raw.locust_exit == 0, (tmp_path / "load" / "locust.log").read_text()[-3000:]
    assert summary["groups"]["all requests"]["errors"] == 0, summary["errors"]
    assert summary["groups"]["list (every GET /api/breaks?...)"]["requests"] > 0
    assert summary["groups"]["detail (every GET /api/breaks/{break_id}...)"]["requests"] > 0
    stream = summary["stream"]
    assert stream["errors"] == {} and stream["drops"] == 0 and stream["resets"] == 0, stream
    assert stream["connected_at_end"] == 5, stream
    assert raw.sse["events"] > 0, "the SSE clients received no break event"
    assert raw.sse["ready"] == 5
