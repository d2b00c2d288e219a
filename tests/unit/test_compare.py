from __future__ import annotations

from datetime import date
from decimal import Decimal

from streams.diff.compare import delta, diff_records, values_agree
from streams.recon import CompareRule, Recon
from streams.values import FieldType

D = Decimal
EXACT = CompareRule()


def test_abs_tol_is_inclusive_and_exact_in_decimal() -> None:
    rule = CompareRule(abs_tol=D("0.01"))
    assert values_agree(D("100.00"), D("100.01"), FieldType.DECIMAL, rule)
    assert not values_agree(D("100.00"), D("100.011"), FieldType.DECIMAL, rule)
    # 0.1 + 0.2 vs 0.3 would fail in float; it is exact here
    assert values_agree(D("0.1") + D("0.2"), D("0.3"), FieldType.DECIMAL, EXACT)


def test_rel_tol_is_relative_to_the_right_hand_value() -> None:
    rule = CompareRule(rel_tol=D("0.1"))
    assert values_agree(D("110"), D("100"), FieldType.DECIMAL, rule)  # |10| <= 0.1*100
    assert not values_agree(D("100"), D("89"), FieldType.DECIMAL, rule)  # |11| > 8.9


def test_null_equals_only_null() -> None:
    assert values_agree(None, None, FieldType.DECIMAL, EXACT)
    assert not values_agree(None, D(0), FieldType.DECIMAL, EXACT)
    assert not values_agree("", None, FieldType.STRING, EXACT)


def test_infinities_match_only_themselves() -> None:
    inf = D("Infinity")
    assert values_agree(inf, inf, FieldType.DECIMAL, CompareRule(abs_tol=D(1)))
    assert not values_agree(inf, -inf, FieldType.DECIMAL, CompareRule(abs_tol=D(1)))
    assert not values_agree(inf, D(1), FieldType.DECIMAL, CompareRule(abs_tol=D(1)))


def test_strings_trim_case_and_unicode_normalisation() -> None:
    rule = CompareRule(ignore_case=True, trim=True)
    assert values_agree("  Goldman  Sachs ", "goldman sachs", FieldType.STRING, rule)
    assert not values_agree(" GS", "GS", FieldType.STRING, EXACT)
    assert values_agree("Caf\u00e9", "Cafe\u0301", FieldType.STRING, EXACT)  # NFC


def test_date_tolerance_in_days() -> None:
    rule = CompareRule(tol_days=1)
    assert values_agree(date(2026, 1, 5), date(2026, 1, 6), FieldType.DATE, rule)
    assert not values_agree(date(2026, 1, 5), date(2026, 1, 7), FieldType.DATE, rule)
    assert delta(date(2026, 1, 5), date(2026, 1, 7), FieldType.DATE) == 2


def test_delta_is_right_minus_left() -> None:
    assert delta(D("100.00"), D("101.50"), FieldType.DECIMAL) == D("1.50")
    assert delta(5, 3, FieldType.INTEGER) == -2
    assert delta("a", "b", FieldType.STRING) is None


def test_diff_records_reports_only_disagreeing_fields(recon: Recon) -> None:
    left = {
        "booking_id": "B1",
        "trade_id": "T1",
        "amount": D("10.00"),
        "settle_date": date(2026, 1, 2),
        "counterparty": "GSCO",
    }
    right = {
        "trade_id": "T1",
        "amount": D("10.50"),
        "settle_date": date(2026, 1, 2),
        "counterparty": " gsco ",
    }
    diffs = diff_records(recon, {"ledger": left, "custody": right})
    assert [(d.field, d.values, d.delta) for d in diffs] == [
        ("amount", {"ledger": D("10.00"), "custody": D("10.50")}, D("0.50"))
    ]


def test_three_sources_show_every_value() -> None:
    recon = Recon.model_validate(
        {
            "name": "three",
            "key": ["id"],
            "sources": {s: {"fields": {"id": "string", "qty": "integer"}} for s in ("a", "b", "c")},
        }
    )
    diffs = diff_records(
        recon, {"a": {"id": "1", "qty": 5}, "b": {"id": "1", "qty": 5}, "c": {"id": "1", "qty": 6}}
    )
    assert diffs[0].values == {"a": 5, "b": 5, "c": 6}


def test_negative_tolerances_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        CompareRule(abs_tol=D("-0.01"))
