"""Breaks as a spreadsheet: the rows of an export (pure), written as CSV or XLSX (openpyxl),
and the end-of-day report of a recon as a workbook.

Amounts stay exact: a decimal is its text in CSV and a number written from its exact text in
XLSX; instants are UTC (ISO 8601 in CSV, Excel date-times without a zone in XLSX, said in the
column's name).

>>> row = export_row({"break_id": "b-1", "recon": "trades", "key": {"trade_id": "T1"},
...     "kind": "MISMATCH", "status": "OPEN", "fields": [{"field": "amount",
...     "values": {"ledger": "10.00", "custody": "12.00"}, "delta": "2.00"}], "tags": ["x"]})
>>> row["key"], row["differences"], row["tags"]
('trade_id=T1', 'amount: ledger 10.00, custody 12.00 (delta 2.00)', 'x')
>>> csv_text([row])[:40]
'break_id,recon,key,kind,status,missing_i'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

COLUMNS = (
    "break_id",
    "recon",
    "key",
    "kind",
    "status",
    "missing_in",
    "cause",
    "confidence",
    "disposition",
    "priority",
    "materiality",
    "owner",
    "tags",
    "age_days",
    "ageing_bucket",
    "due_utc",
    "overdue",
    "first_seen_utc",
    "updated_at_utc",
    "version",
    "revision",
    "close_reason",
    "close_note",
    "closed_by",
    "approved_by",
    "written_off",
    "proposal",
    "differences",
)
DECIMALS = ("materiality", "written_off")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.astimezone(UTC).replace(tzinfo=None)


def _differences(fields: list[dict[str, Any]]) -> str:
    parts = []
    for f in fields:
        values = ", ".join(f"{s} {v if v is not None else '-'}" for s, v in f["values"].items())
        delta = f" (delta {f['delta']})" if f.get("delta") is not None else ""
        parts.append(f"{f['field']}: {values}{delta}")
    return "; ".join(parts)


def export_row(b: dict[str, Any]) -> dict[str, Any]:
    """One break (the API's shape) as a row of the export."""
    p = b.get("proposal")
    row = {c: b.get(c) for c in COLUMNS}
    return row | {
        "key": "; ".join(f"{k}={v}" for k, v in b["key"].items()),
        "tags": " ".join(b.get("tags") or ()),
        "due_utc": _utc(b.get("due")),
        "first_seen_utc": _utc(b.get("first_seen")),
        "updated_at_utc": _utc(b.get("updated_at")),
        "overdue": bool(b.get("overdue")),
        "proposal": f"{p['action']} ({p['reason']}) by {p['by']}" if p else None,
        "differences": _differences(b.get("fields") or []),
    }


def csv_text(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: v.isoformat() + "Z" if isinstance(v, datetime) else v for k, v in row.items()}
        )
    return out.getvalue()


def _sheet_value(column: str, value: Any) -> Any:
    if column in DECIMALS and value is not None:
        return Decimal(str(value))
    return value


def xlsx_bytes(sheets: dict[str, tuple[tuple[str, ...], Iterable[dict[str, Any]]]]) -> bytes:
    """A workbook of one sheet per entry: its title -> (columns, rows)."""
    book = Workbook(write_only=True)
    for title, (columns, rows) in sheets.items():
        sheet = book.create_sheet(title[:31])
        sheet.append(list(columns))
        for row in rows:
            sheet.append([_sheet_value(c, row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def breaks_workbook(rows: Iterable[dict[str, Any]]) -> bytes:
    return xlsx_bytes({"Breaks": (COLUMNS, rows)})


DAY_COLUMNS = (
    "day",
    "keys_seen",
    "matched",
    "clean_matched",
    "opened",
    "resolved",
    "closed",
    "auto_closed",
    "match_rate",
    "auto_close_rate",
    "mean_hours_to_settle",
)


def eod_workbook(
    recon: str,
    business_date: str,
    taken_at: datetime | None,
    summary: dict[str, Any],
    open_rows: list[dict[str, Any]],
) -> bytes:
    """The end-of-day report of a recon: the day's figures, the ageing of what was open at
    the cut-off, and those breaks."""
    facts: list[dict[str, Any]] = [
        {"what": "recon", "value": recon},
        {"what": "business date", "value": business_date},
        {"what": "taken at (UTC)", "value": _utc(taken_at) if taken_at else "live"},
        *({"what": k, "value": v} for k, v in summary.get("day", {}).items() if k != "day"),
        {"what": "open", "value": summary.get("open", {}).get("total")},
        {"what": "overdue", "value": summary.get("open", {}).get("overdue")},
    ]
    buckets = [
        {"bucket": b, "breaks": n} for b, n in summary.get("open", {}).get("by_bucket", {}).items()
    ]
    causes = [
        {"cause": c, "breaks": n} for c, n in summary.get("open", {}).get("by_cause", {}).items()
    ]
    return xlsx_bytes(
        {
            "Summary": (("what", "value"), facts),
            "Ageing": (("bucket", "breaks"), buckets),
            "By cause": (("cause", "breaks"), causes),
            "Open breaks": (COLUMNS, (export_row(b) for b in open_rows)),
        }
    )
