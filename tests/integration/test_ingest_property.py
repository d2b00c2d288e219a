"""The connector guarantee as a property, on the real Kafka: for any CSV, JSON Lines or
Parquet file, however malformed (quotes, newlines, NULs, bad bytes, huge integers, deep
nesting, megabyte fields, corrupt pages), ``ingest_file`` returns normally, read = published +
dead-lettered, and Kafka holds exactly that many records and dead letters more than before.
A file that is well-formed at the format level also has every row written read once."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from greenai.localstack import ServerUrls
from streams.ingest.files import CSV_FIELD_LIMIT
from tests.integration.ingest_kafka import COLUMNS, KafkaIngest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    database=None,  # no .hypothesis directory in the tree; a failure prints its example
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EDGES = [
    "1,234.50",
    "1.234,50",
    "1,23.4",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 5000,
    "1e999999",
    "1" * 40,
    "0." + "0" * 40 + "1",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+14:00",
    "2026-11-30T10:00:00Z",
    "2026-02-31",
    "NaN",
    "true",
    "\ufeff",
    "\u202e",
]
LONG = [CSV_FIELD_LIMIT - 1, CSV_FIELD_LIMIT + 1, 1_000_100]  # the CSV limit; Kafka's

text = st.text(st.characters(codec="utf-8"), max_size=30)
quoted = st.text('",\r\n \x00ab\\é', max_size=12)
cell = st.one_of(text, quoted, st.sampled_from(EDGES), st.integers().map(str))
long_cell = st.none() | st.tuples(st.sampled_from(LONG), st.sampled_from("xé"))
money = st.decimals(-(10**12), 10**12, places=2)
PLAUSIBLE = {  # values each column's type accepts, for one source or the other
    "trade_id": st.text("ABCXYZ0123456789-", min_size=1, max_size=8),
    "amount": st.one_of(
        money.map(str),
        money.map(lambda d: f"{d:,}"),  # 1,234.50
        money.map(lambda d: f"{d:,}".translate(str.maketrans(",.", ".,"))),  # 1.234,50
    ),
    "quantity": st.integers(-(2**63), 2**63 - 1).map(str),
    "booked_at": st.datetimes().map(lambda t: t.isoformat() + "Z"),
    "settle_date": st.dates().map(str),
    "active": st.sampled_from(["true", "false", "yes", "0", ""]),
    "note": text,
}


@st.composite
def plausible_row(draw: st.DrawFn) -> list[str]:
    """A row whose cells mostly fit their types; one in three has one cell spoiled."""
    cells = [draw(PLAUSIBLE[c]) for c in COLUMNS]
    if draw(st.integers(0, 2)) == 0:
        cells[draw(st.integers(0, len(cells) - 1))] = draw(cell)
    return cells


def outcome(summary: dict[str, Any]) -> None:
    """What an example exercised (``--hypothesis-show-statistics`` shows the spread)."""
    event("published some" if summary["published"] else "published none")
    event("dead-lettered some" if summary["dead_lettered"] else "dead-lettered none")


@pytest.fixture(scope="module")
def kafka(servers: ServerUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaIngest]:
    running = KafkaIngest(servers.kafka_bootstrap_servers, tmp_path_factory.mktemp("property"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def new_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A fresh file name for every example (so no example resumes another's checkpoint)."""
    base = tmp_path_factory.mktemp("examples")
    counter = itertools.count()
    return lambda suffix: base / f"{next(counter)}{suffix}"


def ingest_checked(kafka: KafkaIngest, path: Path, source: str) -> dict[str, Any]:
    before, marks = kafka.ends(), kafka.record_marks()
    summary = kafka.ingest(path, source)  # returns normally, read = published + dead_lettered
    after = kafka.ends()
    assert kafka.records_since(marks) == summary["published"]
    assert after[1] - before[1] == summary["dead_lettered"]
    outcome(summary)
    return summary


# --- CSV ---------------------------------------------------------------------------------

csv_row = st.one_of(
    plausible_row().map(lambda cells: ("cells", cells)),
    st.lists(cell, min_size=1, max_size=len(COLUMNS) + 1).map(lambda cells: ("cells", cells)),
    st.tuples(st.just("line"), st.text(st.characters(codec="utf-8"), max_size=60)),
    st.tuples(st.just("bytes"), st.binary(max_size=40)),
)


def csv_bytes(rows: list[tuple[str, Any]], long: tuple[int, str] | None, ending: str) -> bytes:
    out = io.BytesIO()
    out.write((",".join(COLUMNS) + ending).encode())
    for n, (kind, value) in enumerate(rows):
        if kind == "cells":
            cells = list(value)
            if long and n == 0:  # last and unquoted: a refused field ends at its line
                cells[-1] = long[1] * long[0]
            line = io.StringIO()
            csv.writer(line, lineterminator=ending).writerow(cells)
            out.write(line.getvalue().encode())
        elif kind == "line":
            out.write((value + ending).encode())
        else:
            out.write(value + ending.encode())
    return out.getvalue()


@PROPERTY
@given(
    rows=st.lists(csv_row, max_size=25),
    long=long_cell,
    ending=st.sampled_from(["\n", "\r\n"]),
    source=st.sampled_from(["ledger", "custody"]),
)
def test_any_csv_file_is_read_published_or_dead_lettered_whole(
    kafka: KafkaIngest,
    new_file: Callable[[str], Path],
    rows: list[tuple[str, Any]],
    long: tuple[int, str] | None,
    ending: str,
    source: str,
) -> None:
    path = new_file(".csv")
    path.write_bytes(csv_bytes(rows, long, ending))
    summary = ingest_checked(kafka, path, source)
    if all(kind == "cells" and one_line(value, ending) for kind, value in rows):
        assert summary["read"] == max(len(rows), 1)


def one_line(cells: list[str], ending: str) -> bool:
    """Whether csv.writer writes these cells as one record. It quotes a field only for the
    characters of its line terminator, so with LF endings a bare CR goes out unquoted, and
    a reader that accepts CR line endings (the connector does) rightly sees a line break."""
    return "\r" in ending or not any("\r" in cell for cell in cells)


# --- JSON Lines --------------------------------------------------------------------------

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text | st.sampled_from(EDGES),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)
json_object = st.dictionaries(st.sampled_from(COLUMNS) | text, json_value, max_size=9)
json_line = st.one_of(
    plausible_row().map(lambda cells: json.dumps(dict(zip(COLUMNS, cells, strict=True)))),
    st.builds(lambda row, ascii_: json.dumps(row, ensure_ascii=ascii_), json_object, st.booleans()),
    st.builds(
        lambda row: json.dumps({c: None for c in COLUMNS} | row),
        st.fixed_dictionaries({"trade_id": text}, optional={c: json_value for c in COLUMNS[1:]}),
    ),
    st.integers(1, 5000).map(lambda d: '{"trade_id": "n", "note": ' + "[" * d + "]" * d + "}"),
    st.integers(19, 5000).map(lambda n: '{"trade_id": "i", "quantity": ' + "9" * n + "}"),
    st.just('{"trade_id": "s\\ud800", "note": "\\udc80"}'),
    st.sampled_from(["[]", "1", '"x"', "{", "{}", "  "]),
    st.text(st.characters(codec="utf-8"), max_size=40),
)
json_file = st.lists(st.one_of(json_line.map(str.encode), st.binary(max_size=30)), max_size=25)


@PROPERTY
@given(lines=json_file, long=long_cell, source=st.sampled_from(["ledger", "custody"]))
def test_any_json_lines_file_is_read_published_or_dead_lettered_whole(
    kafka: KafkaIngest,
    new_file: Callable[[str], Path],
    lines: list[bytes],
    long: tuple[int, str] | None,
    source: str,
) -> None:
    if long:
        lines = [json.dumps({"trade_id": "L", "note": long[1] * long[0]}).encode(), *lines]
    data = b"\n".join(lines)
    path = new_file(".jsonl")
    path.write_bytes(data)
    summary = ingest_checked(kafka, path, source)
    assert summary["read"] == max(sum(1 for line in data.split(b"\n") if line.strip()), 1)


# --- Parquet -----------------------------------------------------------------------------

ints64 = st.integers(-(2**63), 2**63 - 1)
micros = st.integers(-62135596800 * 10**6, 253402300799 * 10**6)  # the years 1 to 9999
days = st.integers(-719162, 2932896)
PARQUET_COLUMNS: dict[str, list[tuple[pa.DataType, st.SearchStrategy[Any]]]] = {
    "amount": [
        (pa.decimal128(20, 2), money),
        (pa.decimal128(38, 2), st.decimals(-(10**35), 10**35, places=2)),
        (pa.float64(), st.floats()),
        (pa.string(), cell),
    ],
    "quantity": [
        (pa.int64(), ints64),
        (pa.uint64(), st.integers(0, 2**64 - 1)),
        (pa.string(), cell),
    ],
    "booked_at": [
        (pa.timestamp("us"), micros),
        (pa.timestamp("us"), ints64),  # mostly past the year 9999
        (pa.string(), cell),
    ],
    "settle_date": [
        (pa.date32(), days),
        (pa.date32(), st.integers(-(2**31), 2**31 - 1)),
        (pa.string(), cell),
    ],
    "active": [(pa.bool_(), st.booleans()), (pa.string(), cell)],
    "note": [
        (pa.string(), text),
        (pa.binary(), st.binary(max_size=20)),
        (pa.list_(pa.int64()), st.lists(ints64, max_size=3)),
    ],
}


@st.composite
def parquet_table(draw: st.DrawFn) -> pa.Table:
    """Up to 40 rows; each column of one of its types, with nulls and extreme values."""
    n = draw(st.integers(0, 40))
    ids = st.none() | text | PLAUSIBLE["trade_id"]
    columns = {"trade_id": pa.array([draw(ids) for _ in range(n)], pa.string())}
    for name, choices in PARQUET_COLUMNS.items():
        kind, values = draw(st.sampled_from(choices))
        columns[name] = pa.array([draw(st.none() | values) for _ in range(n)], kind)
    if draw(st.booleans()):  # a column the recon does not declare
        columns["extra"] = pa.array([draw(text) for _ in range(n)], pa.string())
    if draw(st.integers(0, 4)) == 0:  # a declared column missing: every row is bad
        columns.pop("note")
    return pa.table(columns)


damage = st.one_of(
    st.none(),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8),
    ),
)


@PROPERTY
@given(
    table=parquet_table(),
    group_rows=st.integers(1, 16),
    compression=st.sampled_from(["none", "snappy", "zstd"]),
    harm=damage,
    source=st.sampled_from(["ledger", "custody"]),
)
def test_any_parquet_file_is_read_published_or_dead_lettered_whole(
    kafka: KafkaIngest,
    new_file: Callable[[str], Path],
    table: pa.Table,
    group_rows: int,
    compression: str,
    harm: tuple[str, Any] | None,
    source: str,
) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=group_rows, compression=compression)
    data = bytearray(sink.getvalue())
    if harm and harm[0] == "truncate":
        data = data[: int(len(data) * harm[1])]
    elif harm:
        for where, byte in harm[1]:
            data[min(int(len(data) * where), len(data) - 1)] = byte
    path = new_file(".parquet")
    path.write_bytes(bytes(data))
    summary = ingest_checked(kafka, path, source)
    if harm is None:
        assert summary["read"] == max(table.num_rows, 1)
