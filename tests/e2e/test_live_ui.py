"""The ReconWorkstation in headless Chromium: a new break appears live, without a reload."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "integration" / "data"
SCRIPT = ROOT / "frontend" / "e2e" / "live-breaks.mjs"


def test_a_new_break_shows_up_live_in_the_browser(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    shot = tmp_path / "live.png"
    browser = subprocess.Popen(
        [
            "node",
            str(SCRIPT),
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
