"""The ReconWorkstation in headless Chromium, against the real stack: a new break appears
live without a reload; and an analyst signs in, acts, sees the action in the break's audit
view, signs out and is refused afterwards — and an approver sees it on the audit page."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from tests.e2e.people import DATA, E2E, ROOT, person
from tests.integration.pipeline import Pipeline


def browser_env(analyst: dict[str, str], auditor: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "GREENAI_E2E_USERNAME": analyst["username"],
        "GREENAI_E2E_PASSWORD": analyst["password"],
    }
    if auditor:
        env |= {
            "GREENAI_E2E_AUDITOR_USERNAME": auditor["username"],
            "GREENAI_E2E_AUDITOR_PASSWORD": auditor["password"],
        }
    return env


def test_a_new_break_shows_up_live_in_the_browser(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    shot = tmp_path / "live.png"
    browser = subprocess.Popen(
        [
            "node",
            str(E2E / "live-breaks.mjs"),
            "--url",
            pipeline.bff_url,
            "--wait-for-text",
            "T-LIVE-42",
            "--screenshot",
            str(shot),
            "--timeout",
            "90",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=browser_env(person(pipeline, "vera", "viewer")),
    )
    assert browser.stdout is not None
    ready = browser.stdout.readline()
    assert ready.startswith("READY"), ready + browser.stderr.read() if browser.stderr else ""

    ledger, custody = tmp_path / "ledger.csv", tmp_path / "custody.csv"
    ledger.write_text(
        "booking_id,trade_id,amount,currency,settle_date,counterparty\n"
        "B42,T-LIVE-42,5000.00,USD,2026-12-01,GSCO\n"
    )
    custody.write_text("TradeRef,Amt,Ccy,SettleDt,Cpty\nT-LIVE-42,50000.00,USD,01/12/2026,GSCO\n")
    pipeline.cli("ingest", "file", "--recon", "trades", "--source", "ledger", str(ledger))
    pipeline.cli("ingest", "file", "--recon", "trades", "--source", "custody", str(custody))

    out, err = browser.communicate(timeout=120)
    assert browser.returncode == 0, err
    assert "SEEN" in out and shot.stat().st_size > 10_000


def test_sign_in_act_see_it_audited_sign_out_and_be_refused(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    pipeline.cli(
        "ingest", "file", "--recon", "trades", "--source", "ledger", str(DATA / "ledger.csv")
    )
    pipeline.cli(
        "ingest", "file", "--recon", "trades", "--source", "custody", str(DATA / "custody.csv")
    )
    pipeline.cli("wait", "--timeout", "60")
    analyst = person(pipeline, "ana", "analyst")
    approver = person(pipeline, "april", "approver")
    done = subprocess.run(
        [
            "node",
            str(E2E / "sign-in-audit.mjs"),
            "--url",
            pipeline.bff_url,
            "--screenshot",
            str(tmp_path / "audit.png"),
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=browser_env(analyst, approver),
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    labels = [
        e
        for e in pipeline.api("/api/audit?actor=ana")
        if e["action"] == "break.label" and e["user_agent"].find("Chrome") >= 0
    ]
    assert labels, "the label made in the browser is in the trail, with the browser's agent"
    signed_out = [e for e in pipeline.api("/api/audit?actor=ana") if e["action"] == "auth.sign_out"]
    assert signed_out
    assert httpx.get(f"{pipeline.bff_url}/api/auth/me", timeout=10).status_code == 401
