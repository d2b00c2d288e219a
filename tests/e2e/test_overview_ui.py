"""The recon overview, the schedule and the blotter's CSV export in headless Chromium,
against the real stack: an analyst opens the overview and sees, for the recon, the numbers
of GET /api/stats with its four charts drawn, sees the scheduler's jobs, and downloads the
CSV export of every break. The browser side is frontend/e2e/overview.mjs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from greenai.up import PROCESSES
from tests.e2e.people import DATA, E2E, ROOT, person
from tests.integration.pipeline import Pipeline


def test_overview_charts_schedule_and_csv_export(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.start("scheduler", PROCESSES["scheduler"])  # its jobs show on the schedule page
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    for source in ("ledger", "custody"):
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", source, str(DATA / f"{source}.csv")
        )
    pipeline.cli("wait", "--timeout", "60")
    breaks = pipeline.breaks()
    assert breaks, "the test data gives no break"
    stats = pipeline.api("/api/stats?days=14")
    assert any(r["recon"] == "trades" for r in stats["recons"]), stats

    analyst = person(pipeline, "olga", "analyst")
    done = subprocess.run(
        [
            "node",
            str(E2E / "overview.mjs"),
            "--url",
            pipeline.bff_url,
            "--recon",
            "trades",
            "--screenshot",
            str(tmp_path / "overview.png"),
            "--timeout",
            "150",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "GREENAI_E2E_USERNAME": analyst["username"],
            "GREENAI_E2E_PASSWORD": analyst["password"],
        },
        timeout=210,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for milestone in (
        "SIGNED-IN",
        "OVERVIEW-LOADED",
        "OVERVIEW recon=trades",
        "SCHEDULE",
        "EXPORT",
        "DONE",
    ):
        assert any(line.startswith(milestone) for line in lines), done.stdout

    # the overview showed the open count the API gives
    open_now = next(
        r for r in pipeline.api("/api/stats?days=14")["recons"] if r["recon"] == "trades"
    )
    shown = next(line for line in lines if line.startswith("OVERVIEW recon=trades"))
    assert f"open={open_now['open']['total']}" in shown, (shown, open_now)

    # the CSV export of the blotter's "All" view holds every stored break, one row each
    export = next(line for line in lines if line.startswith("EXPORT"))
    fields = dict(part.split("=", 1) for part in export.split()[1:] if "=" in part)
    assert int(fields["rows"]) == len(breaks), (export, len(breaks))
