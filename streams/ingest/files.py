"""File drops: read CSV, JSON Lines and Parquet rows with their location, flagging bad rows.

Readers yield ``RawRow``: the location (``name:line``, the row number for Parquet), the row
as read, and a problem when the row is malformed before validation (wrong column count, bad
encoding, bad CSV or JSON, an unreadable Parquet value or page). ``read_file`` adds one
problem row for a file that has no rows at all (empty, or a header only), so such a file is
dead-lettered instead of vanishing silently.

A reader never raises for what a file holds: a malformed record is a problem row at its
location and reading goes on with the next record, so that every record read is published
or dead-lettered. A Parquet file that cannot be read on from some row is one problem row
saying so, and its reading stops there.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from streams.ingest.dead_letters import RAW_LIMIT, one_line, printable
from streams.values import NumberText

CSV_FIELD_LIMIT = 1 << 20  # a longer field cannot make a record that fits in Kafka anyway
LINE_LIMIT = 8 << 20  # a longer line is refused without being held in memory
JSON_DEPTH_LIMIT = 64  # levels of nesting a JSON Lines row may have


@dataclass(frozen=True)
class RawRow:
    location: str
    row: dict[str, Any]
    problem: str | None = None

    def raw_text(self) -> str:
        try:
            return json.dumps(self.row, default=str, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            return f"<the row cannot be shown as JSON: {exc}>"


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # surrogateescape's stand-ins for bad bytes


def _has_bad_bytes(text: str) -> bool:
    return not text.isascii() and _UNDECODABLE.search(text) is not None


class LineTooLong(Exception):
    """A physical line over ``LINE_LIMIT`` (skipped to its end, never held in memory)."""

    def __init__(self) -> None:
        super().__init__(f"line longer than {LINE_LIMIT >> 20} MiB")


class _CsvLines:
    """The lines of a CSV file, for ``csv.reader``: it remembers where the record being read
    started and its first ``RAW_LIMIT`` characters (for a dead letter), and raises
    ``LineTooLong`` for an overlong line; ``csv.reader`` resumes on the next line after an
    error."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self.number = 0  # lines read so far
        self.first = 1  # the first line of the record being read
        self._text: list[str] = []
        self._kept = 0

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline(LINE_LIMIT)
        if not line:
            raise StopIteration
        self.number += 1
        if self._kept < RAW_LIMIT:
            self._text.append(line[: RAW_LIMIT - self._kept])
            self._kept += len(line)
        if len(line) == LINE_LIMIT and not line.endswith(("\n", "\r")):
            while (rest := self._handle.readline(LINE_LIMIT)) and not rest.endswith(("\n", "\r")):
                pass
            raise LineTooLong
        return line

    def next_record(self) -> None:
        self.first = self.number + 1
        self._text.clear()
        self._kept = 0

    def problem(self, name: str, exc: Exception, what: str = "bad CSV") -> RawRow:
        """The record being read as a problem row, at its first line."""
        lines = f" (lines {self.first}-{self.number})" if self.number > self.first else ""
        text = printable("".join(self._text))
        return RawRow(f"{name}:{self.first}", {"lines": text}, f"{what}: {exc}{lines}")


def read_csv(path: Path, label: str | None = None) -> Iterator[RawRow]:
    """Rows of a CSV file, located at their first line. Quoting is strict: a quote inside a
    quoted field must be doubled, and a closing quote must end the field."""
    name = label or path.name
    csv.field_size_limit(CSV_FIELD_LIMIT)
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        lines = _CsvLines(handle)
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, LineTooLong) as exc:
            yield lines.problem(name, exc, "bad CSV header")
            return
        if header is None:
            return
        header = [h.lstrip("\ufeff").strip() for h in header]
        while True:
            lines.next_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, LineTooLong) as exc:
                yield lines.problem(name, exc)
                continue
            if not cells:
                continue
            where = f"{name}:{lines.first}"
            problem = None
            if _has_bad_bytes("".join(cells)):
                problem = "bad encoding: not UTF-8"
                cells = [printable(c) for c in cells]
            elif len(cells) != len(header):
                problem = f"expected {len(header)} columns, got {len(cells)}"
            if problem:
                yield RawRow(where, {str(i): c for i, c in enumerate(cells)}, problem)
            else:
                yield RawRow(where, dict(zip(header, cells, strict=True)))


def _binary_lines(handle: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Lines and whether each was over ``LINE_LIMIT`` (then only its start, the rest skipped)."""
    while line := handle.readline(LINE_LIMIT):
        too_long = len(line) == LINE_LIMIT and not line.endswith(b"\n")
        while too_long and (rest := handle.readline(LINE_LIMIT)) and not rest.endswith(b"\n"):
            pass
        yield line, too_long


def _deeper_than(row: dict[str, Any], limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(row, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _json_row(text: str) -> tuple[Any, str | None]:
    """A JSON Lines row, numbers kept as their exact text, or the problem with it."""
    try:
        row = json.loads(text, parse_float=NumberText, parse_int=NumberText)
    except json.JSONDecodeError as exc:
        return None, f"bad JSON: {exc.msg}"
    except RecursionError:
        return None, f"bad JSON: nested deeper than {JSON_DEPTH_LIMIT} levels"
    if not isinstance(row, dict):
        return None, "a JSON Lines row must be an object"
    brackets = text.count("[") + text.count("{")
    if brackets > JSON_DEPTH_LIMIT and _deeper_than(row, JSON_DEPTH_LIMIT):
        return None, f"bad JSON: nested deeper than {JSON_DEPTH_LIMIT} levels"
    return row, None


def read_jsonl(path: Path, label: str | None = None) -> Iterator[RawRow]:
    name = label or path.name
    with path.open("rb") as handle:
        for number, (line, too_long) in enumerate(_binary_lines(handle), start=1):
            where = f"{name}:{number}"
            if not line.strip():
                continue
            if too_long:
                start = line[:RAW_LIMIT].decode("utf-8", "backslashreplace")
                yield RawRow(where, {"line": start}, str(LineTooLong()))
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                yield RawRow(
                    where,
                    {"line": line.decode("utf-8", "backslashreplace")},
                    "bad encoding: not UTF-8",
                )
                continue
            row, problem = _json_row(text)
            if problem:
                yield RawRow(where, {"line": text.rstrip()}, problem)
            else:
                yield RawRow(where, row)


def exact_cell(value: Any) -> tuple[Any, str | None]:
    """A typed cell (Parquet, SQL) as validation wants it, and a problem if it is unusable.

    Binary floats become their shortest round-trip text (``0.1`` stays ``0.1``), so a decimal
    field never goes through float arithmetic; bytes must be UTF-8 text.
    """
    if isinstance(value, float):
        return NumberText(repr(value)), None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return raw.decode("utf-8", "backslashreplace"), "bad encoding: not UTF-8"
    if value is None or isinstance(value, str | int | bool | Decimal | date | datetime):
        return value, None
    return json.dumps(value, default=str), None


def typed_row(where: str, row: dict[str, Any], problem: str | None = None) -> RawRow:
    """A RawRow from a row of typed cells, flagging the first unusable one."""
    cells: dict[str, Any] = {}
    for column, value in row.items():
        cells[column], bad = exact_cell(value)
        if bad and problem is None:
            problem = f"{column}: {bad}"
    return RawRow(where, cells, problem)


def _batch_rows(batch: Any) -> list[tuple[dict[str, Any], str | None]]:
    """The rows of a Parquet record batch as Python values, and the problem of each.

    A value Python cannot hold (a timestamp past the year 9999, say) fails the whole batch's
    conversion; then the batch is converted cell by cell and such a cell is a problem of its
    row, with the stored number (e.g. microseconds) in its place.
    """
    try:
        return [(row, None) for row in batch.to_pylist()]
    except Exception:  # pyarrow: OverflowError, ValueError, its not-implemented error ...
        pass
    rows = []
    for i in range(batch.num_rows):
        row: dict[str, Any] = {}
        problem = None
        for column, values in zip(batch.schema.names, batch.columns, strict=True):
            cell = values[i]
            try:
                row[column] = cell.as_py()
            except Exception as exc:
                row[column] = getattr(cell, "value", None)
                problem = problem or f"{column}: unreadable value ({exc})"
        rows.append((row, problem))
    return rows


def _batches(parquet: Any) -> Iterator[Any]:
    """Record batches, row group by row group (so a batch never spans an unreadable group)."""
    for group in range(parquet.num_row_groups):
        yield from parquet.iter_batches(batch_size=8192, row_groups=[group])


def read_parquet(path: Path, label: str | None = None) -> Iterator[RawRow]:
    """Rows of a Parquet file, numbered from 1. A page that cannot be read (corrupt,
    truncated) ends the file with one problem row saying from which row on it is unreadable."""
    import pyarrow.parquet as pq

    name = label or path.name
    number = 0
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for unreadable files
        yield RawRow(f"{name}:0", {"file": name}, f"not a readable Parquet file: {exc}")
        return
    with parquet:
        batches = _batches(parquet)
        while True:
            try:
                batch = next(batches, None)
            except Exception as exc:  # OSError, ArrowInvalid, ...: a corrupt page, say
                where = f"{name}:{number + 1}"
                reason = f"unreadable Parquet from row {number + 1} on: {one_line(str(exc), 300)}"
                yield RawRow(where, {"file": name, "from_row": number + 1}, reason)
                return
            if batch is None:
                return
            for row, problem in _batch_rows(batch):
                number += 1
                yield typed_row(f"{name}:{number}", row, problem)


Reader = Callable[[Path, str | None], Iterator[RawRow]]
READERS: dict[str, Reader] = {
    ".csv": read_csv,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".parquet": read_parquet,
}


def reader_for(name: str) -> Reader:
    suffix = Path(name).suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise ValueError(f"{name}: unsupported file type (use {', '.join(READERS)})")
    return reader


def read_rows(path: Path, label: str | None = None) -> Iterator[RawRow]:
    """Rows of a file, by its suffix (``label`` names it in locations; default its name)."""
    return reader_for(label or path.name)(path, label)


def _no_rows_reason(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        return "empty file"
    if path.suffix.lower() == ".csv":
        return "no rows: the file has only a header"
    return "no rows in the file"


def read_file(path: Path, label: str | None = None) -> Iterator[RawRow]:
    """``read_rows``, plus one problem row (location ``name:0``) for a file with no rows."""
    name = label or path.name
    empty = True
    for raw in read_rows(path, label):
        empty = False
        yield raw
    if empty:
        first = ""
        if path.stat().st_size:
            with path.open("rb") as handle:
                first = printable(
                    handle.readline(4096).decode("utf-8", "surrogateescape").rstrip("\r\n")
                )
        yield RawRow(f"{name}:0", {"file": name, "first_line": first}, _no_rows_reason(path))
