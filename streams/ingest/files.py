"""File drops: read CSV and JSON Lines rows with their location, flagging malformed rows.

Readers yield ``RawRow``: the location (``path:line``), the row as read, and a problem when
the row is malformed before validation (wrong column count, bad encoding, bad JSON).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RawRow:
    location: str
    row: dict[str, Any]
    problem: str | None = None

    def raw_text(self) -> str:
        return json.dumps(self.row, default=str, ensure_ascii=False)


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_csv(path: Path) -> Iterator[RawRow]:
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        header = [h.lstrip("\ufeff").strip() for h in header]
        for cells in reader:
            where = f"{path.name}:{reader.line_num}"
            if not cells:
                continue
            problem = None
            if any(_has_bad_bytes(c) for c in cells):
                problem = "bad encoding: not UTF-8"
                cells = [_printable(c) for c in cells]
            elif len(cells) != len(header):
                problem = f"expected {len(header)} columns, got {len(cells)}"
            if problem:
                yield RawRow(where, {str(i): c for i, c in enumerate(cells)}, problem)
            else:
                yield RawRow(where, dict(zip(header, cells, strict=True)))


def read_jsonl(path: Path) -> Iterator[RawRow]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path.name}:{number}"
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


READERS = {".csv": read_csv, ".jsonl": read_jsonl, ".ndjson": read_jsonl}


def read_rows(path: Path) -> Iterator[RawRow]:
    """Rows of a file, by its suffix."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unsupported file type (use {', '.join(READERS)})")
    return reader(path)
