"""File drops on the real Kafka: every bad-row case dead-lettered with its reason, Parquet
decimals exact, and a watched directory that reads each complete file exactly once."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from greenai.localstack import ServerUrls
from tests.integration.connector_servers import Sandbox, sandbox

RECON = """
name: drops
key: [trade_id]
sources:
  ledger:
    fields: {trade_id: string, amount: decimal, settle_date: date, counterparty: string}
  custody:
    rename: {TradeRef: trade_id, Amt: amount, SettleDt: settle_date, Cpty: counterparty}
    date_formats: ["%d/%m/%Y"]
    fields: {trade_id: string, amount: decimal, settle_date: date, counterparty: string}
"""
HEADER = "TradeRef,Amt,SettleDt,Cpty\n"


@pytest.fixture(scope="module")
def box(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with sandbox(servers, tmp_path_factory.mktemp("drops"), "drops") as env:
        env.apply(RECON)
        yield env


def ingest(box: Sandbox, path: Path, source: str = "custody") -> dict[str, Any]:
    out = box.cli("ingest", "file", "--recon", "drops", "--source", source, str(path)).stdout
    (line,) = out.splitlines()
    summary: dict[str, Any] = json.loads(line)
    assert summary["read"] == summary["published"] + summary["dead_lettered"]
    return summary


def test_every_bad_row_case_lands_in_the_dead_letter_topic_with_location_and_reason(
    box: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (
            HEADER
            + "T1,100.00,30/11/2026,GSCO\n"  # good
            + ",5.00,30/11/2026,GSCO\n"  # missing key
            + "T3,12.x,30/11/2026,GSCO\n"  # bad decimal
            + "T4,1.00,31/02/2026,GSCO\n"  # bad date
            + "T5,1.00,30/11/2026\n"  # wrong column count
        ).encode()
        + b"T6,1.00,30/11/2026,G\xe9CO\n"  # Latin-1, not UTF-8
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(HEADER)
    lines = tmp_path / "lines.jsonl"
    lines.write_text(
        '{"TradeRef": "T7", "Amt": 7.5, "SettleDt": "01/12/2026", "Cpty": "X"}\n{oops\n'
    )

    summaries = [ingest(box, p) for p in (bad, empty, header_only, lines)]
    assert [(s["read"], s["published"], s["dead_lettered"]) for s in summaries] == [
        (6, 1, 5),
        (1, 0, 1),
        (1, 0, 1),
        (2, 1, 1),
    ]

    dead = {d["location"]: d for d in box.dead_letters()}
    expected = {
        "bad.csv:3": "missing key field trade_id",
        "bad.csv:4": "amount: not a decimal: '12.x'",
        "bad.csv:5": "settle_date: not a date: '31/02/2026'",
        "bad.csv:6": "expected 4 columns, got 3",
        "bad.csv:7": "bad encoding: not UTF-8",
        "empty.csv:0": "empty file",
        "header-only.csv:0": "no rows: the file has only a header",
        "lines.jsonl:2": "bad JSON: Expecting property name enclosed in double quotes",
    }
    assert {loc: d["reason"] for loc, d in dead.items()} == expected
    assert all(d["source"] == "custody" and d["recon"] == "drops" for d in dead.values())
    assert all(d["stage"] == "ingest" for d in dead.values())
    assert json.loads(dead["bad.csv:4"]["raw"]) == {
        "TradeRef": "T3",
        "Amt": "12.x",
        "SettleDt": "30/11/2026",
        "Cpty": "GSCO",
    }
    assert json.loads(dead["bad.csv:7"]["raw"])["3"] == "G\\xe9CO"
    assert "TradeRef,Amt" in dead["header-only.csv:0"]["raw"]
    assert dead["lines.jsonl:2"]["raw"] == json.dumps({"line": "{oops"})


def test_parquet_and_csv_decimals_arrive_exact(box: Sandbox, tmp_path: Path) -> None:
    parquet = tmp_path / "custody.parquet"
    table = pa.table(
        {
            "TradeRef": ["P1", "P2", "P3"],
            "Amt": pa.array(
                [Decimal("12345678901234.123456"), Decimal("0.000001"), None],
                pa.decimal128(28, 6),
            ),
            "SettleDt": ["2026-11-30", "2026-11-30", "2026-11-30"],
            "Cpty": ["GSCO", "GSCO", "GSCO"],
        }
    )
    pq.write_table(table, parquet)
    floats = tmp_path / "floats.parquet"
    pq.write_table(
        pa.table(
            {
                "trade_id": ["F1"],
                "amount": [0.1],
                "settle_date": ["2026-11-30"],
                "counterparty": ["GSCO"],
            }
        ),
        floats,
    )
    csv = tmp_path / "exact.csv"
    csv.write_text(HEADER + 'C1,100.005,30/11/2026,GSCO\nC2,"1,234,567.10",30/11/2026,X\n')

    assert ingest(box, parquet)["published"] == 3
    assert ingest(box, floats, source="ledger")["published"] == 1
    assert ingest(box, csv)["published"] == 2

    amounts = {r["key"]["trade_id"]: r["fields"]["amount"] for r in box.records()}
    assert amounts["P1"] == Decimal("12345678901234.123456")
    assert amounts["P2"] == Decimal("0.000001") and amounts["P3"] is None
    assert amounts["F1"] == Decimal("0.1")
    assert amounts["C1"] == Decimal("100.005") and amounts["C2"] == Decimal("1234567.10")
    assert all(isinstance(a, Decimal) for k, a in amounts.items() if k != "P3")


def _rows(n: int, prefix: str) -> str:
    return HEADER + "".join(f"{prefix}{i},{i}.25,30/11/2026,GSCO\n" for i in range(n))


def _published_keys(box: Sandbox, source: str) -> list[str]:
    return [r["key"]["trade_id"] for r in box.records() if r["source"] == source]


def test_a_watched_directory_reads_each_complete_file_once_across_restarts(
    servers: ServerUrls, tmp_path: Path
) -> None:
    box = sandbox(servers, tmp_path / "home", "watch")
    box.apply(RECON)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.csv").write_text(_rows(3, "A"))
    (drop / "b.csv.part").write_text(_rows(2, "B"))  # still being uploaded
    (drop / ".c.csv").write_text(_rows(2, "C"))  # hidden: a writer's temporary name
    watch = ("ingest", "watch", str(drop), "--recon", "drops", "--source", "custody")

    first = box.cli(*watch, "--once", "--settle", "0.2s").stdout.splitlines()
    assert [json.loads(line)["file"] for line in first] == [str(drop / "a.csv")]

    (drop / "b.csv.part").rename(drop / "b.csv")
    (drop / ".c.csv").rename(drop / "c.csv")
    second = box.cli(*watch, "--once", "--settle", "0.2s").stdout.splitlines()
    assert sorted(json.loads(line)["file"] for line in second) == [
        str(drop / "b.csv"),
        str(drop / "c.csv"),
    ]
    (drop / "a.csv").touch()  # a new mtime, same content: still the same file
    assert box.cli(*watch, "--once", "--settle", "0.2s").stdout == ""
    assert sorted(_published_keys(box, "custody")) == ["A0", "A1", "A2", "B0", "B1", "C0", "C1"]

    (drop / "a.csv").write_text(_rows(4, "A"))  # new content: a new version of the file
    (third,) = box.cli(*watch, "--once", "--settle", "0.2s").stdout.splitlines()
    assert json.loads(third)["read"] == 4


@pytest.fixture
def watcher(servers: ServerUrls, tmp_path: Path) -> Iterator[tuple[Sandbox, Path, list[str]]]:
    """A long-running ``ingest watch`` (settle 1s, scans every 0.2s) and its summary lines."""
    box = sandbox(servers, tmp_path / "home", "watching")
    box.apply(RECON)
    drop = tmp_path / "drop"
    drop.mkdir()
    proc = box.popen(
        "ingest", "watch", str(drop), "--recon", "drops", "--source", "custody",
        "--settle", "1s", "--interval", "0.2s",
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        yield box, drop, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(timeout=5)


def _wait_for(lines: list[str], n: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(lines) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads(line) for line in lines]


def test_a_file_still_being_written_is_read_only_once_complete(
    watcher: tuple[Sandbox, Path, list[str]],
) -> None:
    box, drop, lines = watcher
    growing = drop / "growing.csv"
    with growing.open("w") as handle:
        handle.write(HEADER)
        for i in range(8):  # a slow writer: a few rows every 0.3s, never idle for 1s
            handle.write(f"G{i},1.00,30/11/2026,GSCO\nG{i}x,2.00,30/11/2026,GSCO\n")
            handle.flush()
            time.sleep(0.3)
    (summary,) = _wait_for(lines, 1)
    assert (summary["file"], summary["read"], summary["published"]) == (str(growing), 16, 16)
    time.sleep(1.5)  # more scans find nothing new
    assert len(lines) == 1
    assert len(_published_keys(box, "custody")) == 16


def test_settings_from_the_recon_run_a_done_marker_directory(
    servers: ServerUrls, tmp_path: Path
) -> None:
    drop = tmp_path / "marked"
    drop.mkdir()
    box = sandbox(servers, tmp_path / "home", "marker")
    box.apply(
        RECON.replace(
            "    date_formats:",
            f"    connector: {{type: directory, path: '{drop}', done_marker: true}}\n"
            "    date_formats:",
        )
    )
    (drop / "x.csv").write_text(_rows(2, "X"))
    run = ("ingest", "run", "--recon", "drops", "--source", "custody", "--once")
    assert box.cli(*run).stdout == ""  # no marker yet: not complete
    (drop / "x.csv.done").touch()
    (line,) = box.cli(*run).stdout.splitlines()
    assert json.loads(line)["published"] == 2
    assert box.cli(*run).stdout == ""
