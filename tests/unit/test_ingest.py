from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from streams.ingest.files import read_rows
from streams.ingest.validate import BadRow, canonical_row
from streams.recon import Recon


def test_renames_types_and_key(recon: Recon) -> None:
    row = canonical_row(
        recon,
        "custody",
        {"TradeRef": " T1 ", "Amt": "1,234.50", "settle_date": "2026-11-30", "counterparty": "GS"},
    )
    assert row.key == {"trade_id": "T1"}
    assert row.fields["amount"] == Decimal("1234.50")
    assert row.record_id is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"TradeRef": "", "Amt": "1", "settle_date": "", "counterparty": ""},
            "missing key field trade_id",
        ),
        (
            {"TradeRef": "T1", "Amt": "12,3x", "settle_date": "", "counterparty": ""},
            "amount: not a decimal",
        ),
        (
            {"TradeRef": "T1", "Amt": "1", "settle_date": "31/02/2026", "counterparty": ""},
            "settle_date: not a date",
        ),
        ({"TradeRef": "T1", "Amt": "1", "counterparty": ""}, "missing column 'settle_date'"),
    ],
)
def test_bad_rows_say_why(recon: Recon, raw: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRow, match=reason):
        canonical_row(recon, "custody", raw)


def test_csv_flags_column_count_and_encoding(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"TradeRef,Amt\nT1,1.00\nT2,2.00,extra\nT3,\xff\xfe\n")
    rows = list(read_rows(path))
    assert [r.location for r in rows] == ["c.csv:2", "c.csv:3", "c.csv:4"]
    assert rows[0].problem is None and rows[0].row == {"TradeRef": "T1", "Amt": "1.00"}
    assert rows[1].problem == "expected 2 columns, got 3"
    assert rows[2].problem == "bad encoding: not UTF-8" and "\\xff" in rows[2].raw_text()


def test_empty_file_and_header_only_file_have_no_rows(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    (tmp_path / "h.csv").write_text("TradeRef,Amt\n")
    assert list(read_rows(tmp_path / "e.csv")) == []
    assert list(read_rows(tmp_path / "h.csv")) == []


def test_jsonl_keeps_numbers_as_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"TradeRef": "T1", "Amt": 0.1}\nnot json\n')
    good, bad = list(read_rows(path))
    assert good.row["Amt"] == "0.1"
    assert bad.problem and bad.problem.startswith("bad JSON")


def test_a_deleted_row_is_a_tombstone_that_needs_only_its_key(recon: Recon) -> None:
    row = canonical_row(recon, "ledger", {"booking_id": "B1", "trade_id": "T1", "_deleted": "1"})
    assert row.deleted and row.key == {"trade_id": "T1"} and row.record_id == "B1"
    assert not canonical_row(
        recon,
        "custody",
        {"TradeRef": "T1", "Amt": "1", "settle_date": "", "counterparty": "", "_deleted": ""},
    ).deleted
    with pytest.raises(BadRow, match="missing column 'booking_id'"):
        canonical_row(recon, "ledger", {"trade_id": "T1", "_deleted": "true"})
    with pytest.raises(BadRow, match="_deleted: not a boolean"):
        canonical_row(recon, "ledger", {"booking_id": "B1", "trade_id": "T1", "_deleted": "x"})


def test_each_source_reads_decimal_text_with_its_own_separators(recon: Recon) -> None:
    continental = recon.model_copy(deep=True)
    spec = continental.sources["custody"]
    spec.decimal_separator, spec.thousands_separator = ",", "."
    row = {"TradeRef": "T1", "Amt": "1.234,50", "settle_date": "", "counterparty": ""}
    assert canonical_row(continental, "custody", row).fields["amount"] == Decimal("1234.50")
    with pytest.raises(BadRow) as refused:  # under the defaults it was once silently 1.2345
        canonical_row(recon, "custody", row)
    assert str(refused.value) == (
        "amount: not a decimal with '.' as decimal separator and ',' between thousands: '1.234,50'"
    )


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Amt", "1" * 30, "amount: decimal out of range (at most 20 digits before the point)"),
        ("settle_date", "10000-01-01", "settle_date: not a date"),
        ("TradeRef", "T\ud800", "trade_id: not valid Unicode text (a lone surrogate)"),
    ],
)
def test_values_the_pipeline_cannot_carry_are_bad_rows_naming_the_field(
    recon: Recon, column: str, value: str, reason: str
) -> None:
    row = {"TradeRef": "T1", "Amt": "1", "settle_date": "", "counterparty": ""} | {column: value}
    with pytest.raises(BadRow, match=re.escape(reason)):
        canonical_row(recon, "custody", row)
