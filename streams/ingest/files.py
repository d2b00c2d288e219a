"""File drops: read CSV, JSON Lines and Parquet rows with their location, flagging bad rows.

Readers yield ``RawRow``: the location (``name:line``, the row number for Parquet), the row
as read, and a problem when the row is malformed before validation (wrong column count, bad
encoding, bad JSON). ``read_file`` adds one problem row for a file that has no rows at all
(empty, or a header only), so such a file is dead-lettered instead of vanishing silently.
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
from typing import Any


@dataclass(frozen=True)
class RawRow:
    location: str
    row: dict[str, Any]
    problem: str | None = None

    def raw_text(self) -> str:
        return json.dumps(self.row, default=str, ensure_ascii=False)


_UNDECODABLE = re.compile("[\udc80-\udcff]")  # surrogateescape's stand-ins for bad bytes


def _has_bad_bytes(text: str) -> bool:
    return not text.isascii() and _UNDECODABLE.search(text) is not None


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_csv(path: Path, label: str | None = None) -> Iterator[RawRow]:
    name = label or path.name
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        header = [h.lstrip("\ufeff").strip() for h in header]
        for cells in reader:
            where = f"{name}:{reader.line_num}"
            if not cells:
                continue
            problem = None
            if _has_bad_bytes("".join(cells)):
                problem = "bad encoding: not UTF-8"
                cells = [_printable(c) for c in cells]
            elif len(cells) != len(header):
                problem = f"expected {len(header)} columns, got {len(cells)}"
            if problem:
                yield RawRow(where, {str(i): c for i, c in enumerate(cells)}, problem)
            else:
                yield RawRow(where, dict(zip(header, cells, strict=True)))


def read_jsonl(path: Path, label: str | None = None) -> Iterator[RawRow]:
    name = label or path.name
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{name}:{number}"
            if not line.strip():
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
            try:
                row = json.loads(text, parse_float=str, parse_int=str)
            except json.JSONDecodeError as exc:
                yield RawRow(where, {"line": text.rstrip()}, f"bad JSON: {exc.msg}")
                continue
            if not isinstance(row, dict):
                yield RawRow(where, {"line": text.rstrip()}, "a JSON Lines row must be an object")
                continue
            yield RawRow(where, row)


def exact_cell(value: Any) -> tuple[Any, str | None]:
    """A typed cell (Parquet, SQL) as validation wants it, and a problem if it is unusable.

    Binary floats become their shortest round-trip text (``0.1`` stays ``0.1``), so a decimal
    field never goes through float arithmetic; bytes must be UTF-8 text.
    """
    if isinstance(value, float):
        return repr(value), None
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return raw.decode("utf-8", "backslashreplace"), "bad encoding: not UTF-8"
    if value is None or isinstance(value, str | int | bool | Decimal | date | datetime):
        return value, None
    return json.dumps(value, default=str), None


def typed_row(where: str, row: dict[str, Any]) -> RawRow:
    """A RawRow from a row of typed cells, flagging the first unusable one."""
    cells: dict[str, Any] = {}
    problem = None
    for column, value in row.items():
        cells[column], bad = exact_cell(value)
        if bad and problem is None:
            problem = f"{column}: {bad}"
    return RawRow(where, cells, problem)


def read_parquet(path: Path, label: str | None = None) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    name = label or path.name
    number = 0
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for unreadable files
        yield RawRow(f"{name}:0", {"file": name}, f"not a readable Parquet file: {exc}")
        return
    with parquet:
        for batch in parquet.iter_batches(batch_size=8192):
            for row in batch.to_pylist():
                number += 1
                yield typed_row(f"{name}:{number}", row)


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
                first = _printable(
                    handle.readline(4096).decode("utf-8", "surrogateescape").rstrip("\r\n")
                )
        yield RawRow(f"{name}:0", {"file": name, "first_line": first}, _no_rows_reason(path))
