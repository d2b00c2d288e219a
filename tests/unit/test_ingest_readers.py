"""Readers never raise for what a file holds: every malformed record is one problem row at
its location, and reading goes on (a Parquet file stops at its first unreadable page)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streams.ingest.dead_letters import RAW_LIMIT, one_line, printable, raw_text
from streams.ingest.files import (
    CSV_FIELD_LIMIT,
    JSON_DEPTH_LIMIT,
    LINE_LIMIT,
    RawRow,
    read_file,
)
from streams.values import NumberText


def rows(path: Path) -> list[tuple[str, str | None]]:
    return [(r.location, r.problem) for r in read_file(path)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_a_csv_field_over_the_limit_is_a_problem_row_and_reading_goes_on(tmp_path: Path) -> None:
    long = "x" * (CSV_FIELD_LIMIT + 1)
    path = write(tmp_path / "f.csv", f"id,note\nT1,a\nT2,{long}\nT3,c\n")
    assert rows(path) == [
        ("f.csv:2", None),
        ("f.csv:3", f"bad CSV: field larger than field limit ({CSV_FIELD_LIMIT})"),
        ("f.csv:4", None),
    ]
    (bad,) = [r for r in read_file(path) if r.problem]
    assert bad.row["lines"].startswith("T2,xxx") and len(bad.row["lines"]) == RAW_LIMIT


def test_a_field_just_under_the_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", f"id,note\nT1,{'x' * CSV_FIELD_LIMIT}\n")
    (row,) = read_file(path)
    assert row.problem is None and len(row.row["note"]) == CSV_FIELD_LIMIT


def test_a_stray_quote_is_refused_at_its_record_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", 'id,note\n"T1"x,a\nT2,b"c\nT3,"d ""e"""\n')
    assert rows(path) == [
        ("q.csv:2", "bad CSV: ',' expected after '\"'"),
        ("q.csv:3", None),  # a quote inside an unquoted field is data
        ("q.csv:4", None),
    ]
    assert [r.row for r in read_file(path)][1:] == [
        {"id": "T2", "note": 'b"c'},
        {"id": "T3", "note": 'd "e"'},
    ]


def test_an_unterminated_quote_is_one_problem_row_naming_the_lines_it_took(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "u.csv", 'id,note\nT1,a\nT2,"open\nT3,c\nT4,d\n')
    assert rows(path) == [
        ("u.csv:2", None),
        ("u.csv:3", "bad CSV: unexpected end of data (lines 3-5)"),
    ]
    bad = list(read_file(path))[1]
    assert bad.row == {"lines": 'T2,"open\nT3,c\nT4,d\n'}


def test_a_quoted_record_over_several_lines_is_located_at_its_first(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", 'id,note\nT1,"two\nlines"\nT2,b\r\nT3,"\x00nul"\n')
    assert [(r.location, r.row) for r in read_file(path)] == [
        ("m.csv:2", {"id": "T1", "note": "two\nlines"}),
        ("m.csv:4", {"id": "T2", "note": "b"}),
        ("m.csv:5", {"id": "T3", "note": "\x00nul"}),
    ]


def test_a_bad_csv_header_is_one_problem_row(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", '"id"x,note\nT1,a\n')
    assert rows(path) == [("h.csv:1", "bad CSV header: ',' expected after '\"'")]


def test_a_line_over_the_line_limit_is_skipped_without_holding_it(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", f"id,note\n{'y' * (LINE_LIMIT + 10)}\nT2,b\n")
    assert rows(path) == [("l.csv:2", "bad CSV: line longer than 8 MiB"), ("l.csv:3", None)]
    path = tmp_path / "l.jsonl"
    path.write_bytes(b'{"a": "' + b"y" * LINE_LIMIT + b'"}\n{"a": "b"}\n')
    assert rows(path) == [("l.jsonl:1", "line longer than 8 MiB"), ("l.jsonl:2", None)]


def test_json_nested_too_deeply_is_a_problem_row(tmp_path: Path) -> None:
    def nested(depth: int) -> str:  # the row object itself is the first level
        return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    path = write(
        tmp_path / "n.jsonl",
        "\n".join([nested(JSON_DEPTH_LIMIT), nested(JSON_DEPTH_LIMIT + 1), nested(100_000)]),
    )
    deep = f"bad JSON: nested deeper than {JSON_DEPTH_LIMIT} levels"
    assert rows(path) == [("n.jsonl:1", None), ("n.jsonl:2", deep), ("n.jsonl:3", deep)]


def test_json_numbers_are_read_as_their_exact_text(tmp_path: Path) -> None:
    path = write(tmp_path / "j.jsonl", '{"a": 1234.50, "b": 123456789012345678901234567890}\n')
    (row,) = read_file(path)
    assert row.row == {"a": "1234.50", "b": "123456789012345678901234567890"}
    assert all(isinstance(v, NumberText) for v in row.row.values())


def corrupt_page(path: Path, group: int) -> None:
    """Overwrite the header of the first data page of row group ``group``."""
    column = pq.ParquetFile(path).metadata.row_group(group).column(0)
    data = bytearray(path.read_bytes())
    data[column.data_page_offset : column.data_page_offset + 32] = b"\xff" * 32
    path.write_bytes(bytes(data))


def test_a_corrupt_parquet_page_ends_the_file_with_one_row_saying_from_where(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.parquet"
    table = pa.table({"id": [f"P{i}" for i in range(3000)], "n": list(range(3000))})
    pq.write_table(table, path, row_group_size=1000, compression="none")
    corrupt_page(path, 1)
    read = list(read_file(path))
    assert len(read) == 1001 and all(r.problem is None for r in read[:1000])
    last = read[-1]
    assert last.location == "c.parquet:1001" and last.row == {"file": "c.parquet", "from_row": 1001}
    assert last.problem and last.problem.startswith("unreadable Parquet from row 1001 on: ")


def test_a_parquet_value_python_cannot_hold_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    micros = [0, 2**62, 1]  # 2**62 µs is past the year 9999
    pq.write_table(
        pa.table({"id": ["A", "B", "C"], "at": pa.array(micros, pa.timestamp("us"))}), path
    )
    first, second, third = read_file(path)
    assert first.problem is None and first.row["at"] == datetime(1970, 1, 1)
    assert second.problem == "at: unreadable value (date value out of range)"
    assert second.row == {"id": "B", "at": 2**62}
    assert third.problem is None


def test_dead_letter_text_is_valid_utf8_bounded_and_says_what_was_cut() -> None:
    assert printable("caf\udce9") == "caf\\xe9"  # a byte that was not UTF-8
    assert printable("\ud800") == "\\ud800"  # a lone surrogate from a JSON escape
    huge = "é" * RAW_LIMIT  # two bytes each
    kept = raw_text(huge)
    assert len(kept.encode("utf-8")) < RAW_LIMIT + 100
    assert kept.endswith(f"... (truncated: {2 * RAW_LIMIT} bytes in all)")
    assert one_line("a\nb\r\n\tc\x0f d" + "z" * 5000) == "a b c d" + "z" * 992 + "…"


def test_a_row_that_cannot_be_shown_as_json_still_has_a_raw_text() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert RawRow("x:1", {"a": deep}).raw_text().startswith("<the row cannot be shown as JSON")
