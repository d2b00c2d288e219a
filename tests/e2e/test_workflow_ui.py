"""The break workflow in headless Chromium, against the real stack (maker-checker): an
analyst takes a break, comments on it and proposes to close it; an approver, in a second
browser, approves it from the approval queue; the analyst's page — never reloaded — shows
the break CLOSED over the live stream. The browser side is frontend/e2e/workflow.mjs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.e2e.people import DATA, E2E, ROOT, person
from tests.integration.pipeline import Pipeline


def test_take_comment_propose_approve_and_see_it_closed_live(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    for source in ("ledger", "custody"):
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", source, str(DATA / f"{source}.csv")
        )
    pipeline.cli("wait", "--timeout", "60")
    assert any(b["status"] == "OPEN" for b in pipeline.breaks()), (
        "the test data gives no open break to work on"
    )
    analyst = person(pipeline, "mark", "analyst")
    approver = person(pipeline, "chloe", "approver")
    done = subprocess.run(
        [
            "node",
            str(E2E / "workflow.mjs"),
            "--url",
            pipeline.bff_url,
            "--screenshot",
            str(tmp_path / "workflow.png"),
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
            "GREENAI_E2E_APPROVER_USERNAME": approver["username"],
            "GREENAI_E2E_APPROVER_PASSWORD": approver["password"],
        },
        timeout=210,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for milestone in ("TAKEN", "COMMENTED", "PROPOSED", "APPROVED", "CLOSED-LIVE", "DONE"):
        assert any(line.startswith(milestone) for line in lines), done.stdout
    break_id = next(line for line in lines if line.startswith("SELECTED")).split()[1][
        len("break=") :
    ]

    stored = pipeline.api(f"/api/breaks/{break_id}")
    assert stored["status"] == "CLOSED"
    assert stored["owner"] == "mark"
    assert stored["proposal"] is None
    comments = pipeline.api(f"/api/breaks/{break_id}/comments")
    assert any(c["by"] == "mark" and c["text"].startswith("e2e workflow") for c in comments)
