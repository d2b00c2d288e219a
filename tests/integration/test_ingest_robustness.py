"""Every bad row is published or dead-lettered, on the real Kafka: each failure class lands
in the dead-letter topic with its one-line reason and location while the connector goes on,
also at volume; only Kafka itself not acknowledging ends a run."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from greenai.localstack import ServerUrls
from streams.ingest import publisher
from streams.ingest.checkpoint import CheckpointStore
from streams.ingest.context import SourceContext
from streams.ingest.dead_letters import RAW_LIMIT
from streams.ingest.drops import ingest_file
from streams.ingest.files import CSV_FIELD_LIMIT
from streams.ingest.metrics import SourceMetrics
from streams.ingest.validate import CanonicalRow
from streams.kafka import DeliveryFailed, SafeProducer
from streams.topics import Topics
from tests.integration.ingest_kafka import COLUMNS, RECON, KafkaIngest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

HEADER = ",".join(COLUMNS) + "\n"
OVER_KAFKA = 1_000_100  # a field under the CSV limit whose record is over message.max.bytes


@pytest.fixture(scope="module")
def kafka(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaIngest]:
    running = KafkaIngest(servers.kafka_bootstrap_servers, tmp_path_factory.mktemp("robust"))
    yield running
    running.close()


def csv_line(*cells: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def good(trade_id: str) -> str:
    return csv_line(trade_id, "1,234.50", "10", "2026-11-30T10:00:00Z", "2026-12-02", "true", "ok")


def with_cell(trade_id: str, column: str, value: str) -> str:
    cells = dict(zip(COLUMNS, [trade_id, "1.00", "1", "", "", "", ""], strict=True))
    return csv_line(*(cells | {column: value}).values())


def test_every_csv_failure_class_is_dead_lettered_and_the_file_goes_on(
    kafka: KafkaIngest, tmp_path: Path
) -> None:
    path = tmp_path / "classes.csv"
    path.write_text(
        HEADER
        + good("C1")  # 2
        + with_cell("C2", "amount", "1.234,50")  # 3: ambiguous under 1,234.50
        + with_cell("C3", "quantity", "9223372036854775808")  # 4
        + with_cell("C4", "quantity", "9" * 5000)  # 5
        + with_cell("C5", "booked_at", "9999-12-31T23:00:00-05:00")  # 6
        + with_cell("C6", "amount", "1" * 30)  # 7
        + with_cell("C7", "note", "x" * (CSV_FIELD_LIMIT + 1))  # 8
        + '"C8"x,1,1,,,,\n'  # 9: a stray quote
        + with_cell("C9", "note", "n" * OVER_KAFKA)  # 10
        + with_cell("C10", "amount", "1e999999")  # 11
        + good("C11")  # 12: the file went on
        + 'C12,"1.00,1,,,,\n'  # 13: a quote not closed where it should be ...
        + good("C13"),  # 14: ... is closed by the next line's opening quote: one bad record
        encoding="utf-8",
    )
    summary = kafka.ingest(path)
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (12, 2, 10)

    dead = {k: v for k, v in kafka.dead_letters().items() if k.startswith("classes.csv:")}
    reasons = {k: v["reason"] for k, v in dead.items()}
    assert re.fullmatch(
        r"record too large for Kafka: 1000\d\d\d bytes, over message.max.bytes",
        reasons.pop("classes.csv:10"),
    )
    assert reasons == {
        "classes.csv:3": "amount: not a decimal with '.' as decimal separator and ',' between "
        "thousands: '1.234,50'",
        "classes.csv:4": "quantity: integer out of range (beyond 64-bit): '9223372036854775808'",
        "classes.csv:5": "quantity: integer out of range (beyond 64-bit): '"
        + "9" * 59
        + "… (5002 characters)",
        "classes.csv:6": "booked_at: timestamp out of range (years 1 to 9999 in UTC): "
        "'9999-12-31T23:00:00-05:00'",
        "classes.csv:7": "amount: decimal out of range (at most 20 digits before the point): '"
        + "1" * 30
        + "'",
        "classes.csv:8": f"bad CSV: field larger than field limit ({CSV_FIELD_LIMIT})",
        "classes.csv:9": "bad CSV: ',' expected after '\"'",
        "classes.csv:11": "amount: decimal out of range (at most 20 digits before the point): "
        "'1e999999'",
        "classes.csv:13": "bad CSV: ',' expected after '\"' (lines 13-14)",
    }
    assert all(d["stage"] == "ingest" and d["source"] == "ledger" for d in dead.values())
    for location in ("classes.csv:8", "classes.csv:10"):  # the dead letter itself fits
        raw = dead[location]["raw"]
        assert len(raw.encode()) < RAW_LIMIT + 100 and "(truncated: " in raw
    assert json.loads(dead["classes.csv:13"]["raw"]) == {"lines": 'C12,"1.00,1,,,,\n' + good("C13")}

    records = kafka.records()
    assert records["classes.csv:2"]["fields"]["amount"] == Decimal("1234.50")
    assert records["classes.csv:12"]["key"] == {"trade_id": "C11"}


def json_line(**cells: str) -> str:
    """A JSON Lines row with every column, ``cells`` given as JSON text (the rest null)."""
    row = {c: "null" for c in COLUMNS} | cells
    return "{" + ", ".join(f'"{k}": {v}' for k, v in row.items()) + "}"


def test_jsonl_and_parquet_failure_classes_are_dead_lettered(
    kafka: KafkaIngest, tmp_path: Path
) -> None:
    lines = tmp_path / "classes.jsonl"
    lines.write_text(
        "\n".join(
            [
                json_line(trade_id='"J1"', amount="1234.50"),
                json_line(trade_id='"J2"', note="[" * 50_000 + "]" * 50_000),
                json_line(trade_id='"J3"', quantity="123456789012345678901234567890"),
                json_line(trade_id='"J4\\ud800"'),
                json_line(trade_id='"J5"', amount="1e999999"),
                json_line(trade_id='"J6"', amount='"1.234,50"'),
            ]
        )
    )
    summary = kafka.ingest(lines)
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (6, 1, 5)

    parquet = tmp_path / "classes.parquet"
    n = 30
    table = pa.table(
        {
            "trade_id": [f"P{i}" for i in range(n)],
            "amount": pa.array(
                [Decimal("1.5")] * (n - 1) + [Decimal("9" * 36)], pa.decimal128(38, 2)
            ),
            "quantity": pa.array([1] * (n - 2) + [2**63, 1], pa.uint64()),
            "booked_at": pa.array([0] * (n - 3) + [2**62, 0, 0], pa.timestamp("us")),
            "settle_date": [date(2026, 11, 30)] * n,
            "active": [True] * n,
            "note": ["1.234,50"] * n,
        }
    )
    pq.write_table(table, parquet, row_group_size=10, compression="none")
    pq.write_table(table, tmp_path / "whole.parquet", row_group_size=10, compression="none")
    group = pq.ParquetFile(parquet).metadata.row_group(1).column(0)  # rows 11-20: corrupt
    data = bytearray(parquet.read_bytes())
    data[group.data_page_offset : group.data_page_offset + 32] = b"\xff" * 32
    parquet.write_bytes(bytes(data))
    summary = kafka.ingest(parquet, "custody")
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (11, 10, 1)
    summary = kafka.ingest(tmp_path / "whole.parquet", "custody")
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (30, 27, 3)

    dead = kafka.dead_letters()
    reasons = {
        k: v["reason"]
        for k, v in dead.items()
        if k.startswith(("classes.jsonl", "classes.parquet", "whole."))
    }
    assert reasons.pop("classes.parquet:11").startswith("unreadable Parquet from row 11 on: ")
    assert reasons == {
        "classes.jsonl:2": "bad JSON: nested deeper than 64 levels",
        "classes.jsonl:3": "quantity: integer out of range (beyond 64-bit): "
        "'123456789012345678901234567890'",
        "classes.jsonl:4": "trade_id: not valid Unicode text (a lone surrogate): 'J4\\ud800'",
        "classes.jsonl:5": "amount: decimal out of range (at most 20 digits before the point): "
        "'1e999999'",
        "classes.jsonl:6": "amount: not a decimal with '.' as decimal separator and ',' between "
        "thousands: '1.234,50'",
        "whole.parquet:28": "booked_at: unreadable value (date value out of range)",
        "whole.parquet:29": "quantity: integer out of range (beyond 64-bit): 9223372036854775808",
        "whole.parquet:30": "amount: decimal out of range (at most 20 digits before the point): "
        "Decimal('" + "9" * 36 + ".00')",
    }
    raw = dead["classes.jsonl:4"]["raw"]  # valid UTF-8, the JSON escape as in the input
    assert '"J4\\ud800"' in raw and json.loads(raw)["trade_id"] == "J4\ud800"
    assert json.loads(dead["classes.parquet:11"]["raw"]) == {
        "file": "classes.parquet",
        "from_row": 11,
    }
    records = kafka.records()
    assert records["classes.jsonl:1"]["fields"]["amount"] == Decimal("1234.50")
    assert records["whole.parquet:1"]["fields"]["note"] == "1.234,50"


def test_an_unforeseen_validation_or_avro_failure_is_dead_lettered_and_the_run_goes_on(
    kafka: KafkaIngest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: were a rule to miss a value (here: one stands in for the gap), the
    row would still be dead-lettered, never end the run."""
    real = publisher.canonical_row

    def with_gaps(recon: Any, source: str, raw: dict[str, Any]) -> CanonicalRow:
        row = real(recon, source, raw)
        if row.key["trade_id"] == "GAP1":  # an integer beyond Avro's long, let through
            return CanonicalRow(row.key, None, row.fields | {"quantity": 2**70})
        if row.key["trade_id"] == "GAP2":
            raise ZeroDivisionError("division by zero")
        return row

    monkeypatch.setattr(publisher, "canonical_row", with_gaps)
    path = tmp_path / "gaps.csv"
    path.write_text(HEADER + good("G0") + good("GAP1") + good("GAP2") + good("G3"))
    summary = kafka.ingest(path)
    assert (summary["read"], summary["published"], summary["dead_lettered"]) == (4, 2, 2)
    dead = kafka.dead_letters()
    assert dead["gaps.csv:3"]["reason"].startswith(
        "cannot encode the record as Avro: ValueError: 1180591620717411303424 (type <class 'int'>)"
    )
    assert dead["gaps.csv:4"]["reason"] == (
        "cannot validate the row: ZeroDivisionError: division by zero"
    )


def test_kafka_not_acknowledging_is_what_ends_a_run(tmp_path: Path) -> None:
    settings: dict[str, Any] = {"message.timeout.ms": 1500}
    producer = SafeProducer("127.0.0.1:9", **settings)  # nothing listens there
    ctx = SourceContext(
        producer=producer,
        topics=Topics("nowhere"),
        recon=RECON,
        source="ledger",
        store=CheckpointStore(tmp_path / "state"),
        metrics=SourceMetrics("robust", "ledger"),
        progress=False,
    )
    path = tmp_path / "t.csv"
    path.write_text(HEADER + good("K1"))
    with pytest.raises(DeliveryFailed):
        ingest_file(ctx, path)
    assert list((tmp_path / "state").glob("*.json")) == []  # no checkpoint ran ahead of Kafka


# --- at volume --------------------------------------------------------------------------

Row = dict[str, str]
GOOD_ROW = {
    "trade_id": "V",
    "amount": "1234.50",
    "quantity": "10",
    "booked_at": "2026-11-30T10:00:00Z",
    "settle_date": "2026-12-02",
    "active": "true",
    "note": "ok",
}
BAD_ROWS: list[tuple[Callable[[int], Row], str]] = [
    (lambda i: {"amount": "1.234,50"}, "amount: not a decimal with "),
    (lambda i: {"amount": "1" * 30}, "amount: decimal out of range "),
    (lambda i: {"quantity": str(2**63 + i)}, "quantity: integer out of range (beyond 64-bit)"),
    (lambda i: {"quantity": "7" * (4301 + i % 50)}, "quantity: integer out of range"),
    (lambda i: {"booked_at": "9999-12-31T23:59:00-01:00"}, "booked_at: timestamp out of range"),
    (lambda i: {"settle_date": "31/02/2026"}, "settle_date: not a date"),
    (lambda i: {"trade_id": ""}, "missing key field trade_id"),
    (lambda i: {"note": "x" * (CSV_FIELD_LIMIT + 1)}, "bad CSV: field larger than field limit"),
    (lambda i: {"note": "y" * OVER_KAFKA}, "record too large for Kafka"),
]
MEGABYTES = {7, 8}  # kinds of bad row of a megabyte: one cycle in 40 only


def volume_rows(n: int) -> Iterator[tuple[Row, str | None]]:
    """``n`` rows, one in ten bad (cycling through BAD_ROWS), each with the reason it gets."""
    for i in range(n):
        row = GOOD_ROW | {"trade_id": f"V{i}"}
        bad, kind = divmod(i, 10)
        if kind != 9:
            yield row, None
            continue
        kind = bad % len(BAD_ROWS)
        if kind in MEGABYTES and bad // len(BAD_ROWS) % 40:
            kind = 0
        make, reason = BAD_ROWS[kind]
        yield row | make(i), reason


def test_at_volume_every_row_is_published_or_dead_lettered_exactly_once(
    kafka: KafkaIngest, tmp_path: Path
) -> None:
    n = 40_000
    expected: dict[str, str | None] = {}
    path = tmp_path / "volume.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(HEADER)
        writer = csv.writer(handle, lineterminator="\n")
        for line, (row, reason) in enumerate(volume_rows(n), start=2):
            writer.writerow(row.values())
            expected[f"volume.csv:{line}"] = reason
    lines = tmp_path / "volume.jsonl"
    with lines.open("w", encoding="utf-8") as handle:
        for number, (row, reason) in enumerate(volume_rows(n // 2), start=1):
            if reason and reason.startswith("bad CSV"):
                row, reason = {"trade_id": f"D{number}"}, "bad JSON: nested deeper than 64 levels"
                handle.write('{"trade_id": "D", "note": ' + "[" * 5000 + "]" * 5000 + "}\n")
            else:
                handle.write(json.dumps(row) + "\n")
            expected[f"volume.jsonl:{number}"] = reason
    parquet = tmp_path / "volume.parquet"
    m = n // 2
    table = pa.table(
        {
            "trade_id": [f"V{i}" for i in range(m)],
            "amount": pa.array([Decimal("1234.50")] * m, pa.decimal128(20, 2)),
            "quantity": pa.array([10 if i % 97 else 2**63 + i for i in range(m)], pa.uint64()),
            "booked_at": [datetime(2026, 11, 30, tzinfo=UTC)] * m,
            "settle_date": [date(2026, 12, 2)] * m,
            "active": [True] * m,
            "note": ["ok"] * m,
        }
    )
    pq.write_table(table, parquet, row_group_size=5000)
    for i in range(m):
        expected[f"volume.parquet:{i + 1}"] = (
            None if i % 97 else "quantity: integer out of range (beyond 64-bit)"
        )

    before, marks = kafka.ends(), kafka.record_marks()
    summaries = [kafka.ingest(path), kafka.ingest(lines), kafka.ingest(parquet, "custody")]
    after = kafka.ends()
    published = sum(s["published"] for s in summaries)
    dead_lettered = sum(s["dead_lettered"] for s in summaries)
    assert sum(s["read"] for s in summaries) == len(expected) == 2 * n
    assert after[1] - before[1] == dead_lettered  # a dead letter is a message
    assert kafka.records_since(marks) == published
    assert after[0] - before[0] < published / 20  # records travel in partition batches

    records = {k: v for k, v in kafka.records().items() if k.startswith("volume.")}
    assert len(records) == published  # each origin at most once: kafka.records() checks it
    dead = {k: v for k, v in kafka.dead_letters().items() if k.startswith("volume.")}
    assert not records.keys() & dead.keys()
    assert records.keys() | dead.keys() == expected.keys()
    wrong = {
        loc: (reason, dead.get(loc, {}).get("reason"))
        for loc, reason in expected.items()
        if (loc in records) != (reason is None)
        or (reason is not None and not dead[loc]["reason"].startswith(reason))
    }
    assert not wrong, list(wrong.items())[:5]
    assert len(records) == published and len(dead) == dead_lettered
