"""One record's whole journey on the real servers: files -> Kafka -> diff -> attribution ->
PostgreSQL -> API and SSE, through the CLI contract."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from streams.avro import codec
from tests.integration.pipeline import Pipeline

DATA = Path(__file__).parent / "data"


def _essence(b: dict[str, Any]) -> tuple[Any, ...]:
    return (
        b["key"]["trade_id"],
        b["kind"],
        b["status"],
        b["missing_in"],
        [(f["field"], f["values"], f["delta"]) for f in b["fields"]],
        b["cause"],
    )


@pytest.fixture(scope="module")
def ingested(pipeline: Pipeline) -> dict[str, Any]:
    pipeline.cli("recon", "apply", str(DATA / "recon.yaml"))
    ledger = json.loads(
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", "ledger", str(DATA / "ledger.csv")
        ).stdout
    )
    custody = json.loads(
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", "custody", str(DATA / "custody.csv")
        ).stdout
    )
    pipeline.cli("wait", "--timeout", "60")
    return {"ledger": ledger, "custody": custody}


def test_ingest_counts_add_up_and_the_bad_row_is_dead_lettered(
    pipeline: Pipeline, ingested: dict[str, Any]
) -> None:
    assert (ingested["ledger"]["read"], ingested["ledger"]["published"]) == (5, 5)
    custody = ingested["custody"]
    assert (custody["read"], custody["published"], custody["dead_lettered"]) == (5, 4, 1)
    consumer = Consumer(
        {
            "bootstrap.servers": pipeline.env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": "dlq-reader",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{pipeline.env['GREENAI_TOPIC_PREFIX']}.deadletter"])
    message = None
    for _ in range(30):
        message = consumer.poll(1.0)
        if message is not None and not message.error():
            break
    consumer.close()
    assert message is not None
    dead = codec("DeadLetter").decode(message.value())
    assert dead["location"] == "custody.csv:6" and dead["source"] == "custody"
    assert dead["reason"] == "amount: not a decimal: '12.x'" and "T6" in dead["raw"]


def test_breaks_are_exactly_the_expected_ones(pipeline: Pipeline, ingested: dict[str, Any]) -> None:
    breaks = sorted(pipeline.breaks(), key=lambda b: b["key"]["trade_id"])
    assert [_essence(b) for b in breaks] == [
        (
            "T2",
            "MISMATCH",
            "OPEN",
            None,
            [("amount", {"ledger": "2500.00", "custody": "2475.00"}, "-25.00")],
            "FEE",
        ),
        ("T3", "MISSING", "OPEN", "custody", [], "MISSING_BOOKING"),
        (
            "T5",
            "MISMATCH",
            "OPEN",
            None,
            [("settle_date", {"ledger": "2026-12-02", "custody": "2026-12-03"}, "1")],
            "TIMING",
        ),
    ]
    for b in breaks:
        assert b["break_id"].startswith("b-") and b["version"] == 1
        assert 0 < b["confidence"] <= 1 and b["explanation"]
        assert b["disposition"] in {"AUTO_CLOSE", "QUEUE", "ESCALATE"} and 1 <= b["priority"] <= 5
    by_api = {b["break_id"]: b for b in pipeline.api("/api/breaks?status=all")}
    assert {b["break_id"]: _essence(b) for b in breaks} == {
        k: _essence(b) for k, b in by_api.items()
    }


def test_an_amendment_resolves_the_break_live_over_sse(
    pipeline: Pipeline, ingested: dict[str, Any], tmp_path: Path
) -> None:
    (t2,) = [b for b in pipeline.breaks() if b["key"]["trade_id"] == "T2"]
    received: list[dict[str, Any]] = []
    ready = threading.Event()

    def listen() -> None:
        with pipeline.http().stream("GET", "/api/stream", timeout=60) as response:
            event = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                    ready.set()
                elif line.startswith("data:") and event == "break":
                    received.append(json.loads(line.split(":", 1)[1]))
                    if received[-1]["status"] == "RESOLVED":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(30), "the SSE stream did not open"
    fix = tmp_path / "custody-fix.csv"
    fix.write_text("TradeRef,Amt,Ccy,SettleDt,Cpty\nT2,2500.00,USD,30/11/2026,GSCO\n")
    pipeline.cli("ingest", "file", "--recon", "trades", "--source", "custody", str(fix))
    pipeline.cli("wait", "--timeout", "60")
    listener.join(timeout=30)

    (resolved,) = [b for b in pipeline.breaks() if b["key"]["trade_id"] == "T2"]
    assert resolved["break_id"] == t2["break_id"]
    assert (resolved["status"], resolved["version"]) == ("RESOLVED", 2)
    assert received and received[-1]["break_id"] == t2["break_id"]
    assert received[-1]["status"] == "RESOLVED"
    open_now = [b["key"]["trade_id"] for b in pipeline.breaks("--status", "open")]
    assert sorted(open_now) == ["T3", "T5"]


def test_reingesting_the_same_file_creates_no_new_break(
    pipeline: Pipeline, ingested: dict[str, Any]
) -> None:
    before = {b["break_id"]: b["version"] for b in pipeline.breaks()}
    pipeline.cli(
        "ingest", "file", "--recon", "trades", "--source", "ledger", str(DATA / "ledger.csv")
    )
    pipeline.cli("wait", "--timeout", "60")
    assert {b["break_id"]: b["version"] for b in pipeline.breaks()} == before


def test_a_changed_recon_applies_without_restarting_the_workers(
    pipeline: Pipeline, ingested: dict[str, Any], tmp_path: Path
) -> None:
    wider = (DATA / "recon.yaml").read_text().replace("abs_tol: 0.01", "abs_tol: 100")
    (tmp_path / "recon.yaml").write_text(wider)
    assert "version 2" in pipeline.cli("recon", "apply", str(tmp_path / "recon.yaml")).stdout
    time.sleep(3)  # the workers reload recons every 2 s
    fees = tmp_path / "custody-fee.csv"
    fees.write_text("TradeRef,Amt,Ccy,SettleDt,Cpty\nT2,2475.00,USD,30/11/2026,GSCO\n")
    pipeline.cli("ingest", "file", "--recon", "trades", "--source", "custody", str(fees))
    pipeline.cli("wait", "--timeout", "60")
    t2 = [b["status"] for b in pipeline.breaks() if b["key"]["trade_id"] == "T2"]
    # Under the old 0.01 tolerance the 25.00 difference would open a second T2 break.
    assert t2 == ["RESOLVED"]


def test_replay_reprocesses_history_under_the_current_recon_without_new_breaks(
    pipeline: Pipeline, ingested: dict[str, Any], tmp_path: Path
) -> None:
    before = {b["break_id"]: b["key"]["trade_id"] for b in pipeline.breaks()}
    lenient = (DATA / "recon.yaml").read_text().replace("abs_tol: 0.01", "abs_tol: 100")
    lenient = lenient.replace("compare:", "compare:\n  settle_date: {tol_days: 1}")
    (tmp_path / "recon.yaml").write_text(lenient)
    pipeline.cli("recon", "apply", str(tmp_path / "recon.yaml"))
    time.sleep(3)  # the workers reload recons every 2 s
    done = json.loads(
        pipeline.cli("replay", "--recon", "trades", "--from", "2000-01-01T00:00:00Z").stdout
    )
    assert done["replayed"] >= 10
    pipeline.cli("wait", "--timeout", "60")
    after = {b["break_id"]: (b["key"]["trade_id"], b["status"]) for b in pipeline.breaks()}
    assert set(after) == set(before)  # no break twice, none new
    assert after[next(k for k, t in before.items() if t == "T5")] == ("T5", "RESOLVED")


def test_a_tombstone_withdraws_a_record(
    pipeline: Pipeline, ingested: dict[str, Any], tmp_path: Path
) -> None:
    withdrawn = tmp_path / "custody-delete.csv"
    withdrawn.write_text("TradeRef,_deleted\nT1,true\n")
    summary = json.loads(
        pipeline.cli(
            "ingest", "file", "--recon", "trades", "--source", "custody", str(withdrawn)
        ).stdout
    )
    assert summary["published"] == 1
    pipeline.cli("wait", "--timeout", "60")  # waits out T1's match window too
    (t1,) = [b for b in pipeline.breaks() if b["key"]["trade_id"] == "T1"]
    assert (t1["kind"], t1["missing_in"], t1["status"]) == ("MISSING", "custody", "OPEN")
