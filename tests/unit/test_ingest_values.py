"""Values at the edges: every raw value becomes something the pipeline can carry (Avro) and
compute with exactly downstream (attribution), or is refused with a one-line reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.recon import Recon
from streams.values import BadValue, FieldType, NumberFormat, NumberText, parse, render

DEFAULTS = NumberFormat()
GROUPED = NumberFormat(".", ",")
CONTINENTAL = NumberFormat(",", ".")


def reason(raw: Any, ftype: FieldType, numbers: NumberFormat = DEFAULTS) -> str:
    with pytest.raises(BadValue) as refused:
        parse(raw, ftype, (), numbers)
    text = str(refused.value)
    assert "\n" not in text and len(text) < 200
    return text


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("+00000000000000000000000042", 42),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_integers_within_64_bits_parse(raw: Any, value: int) -> None:
    assert parse(raw, FieldType.INTEGER) == value


@pytest.mark.parametrize(
    "raw",
    ["9223372036854775808", "-9223372036854775809", "1" * 5000, 2**64, -(2**70)],
)
def test_integers_beyond_64_bits_are_refused_before_any_conversion(raw: Any) -> None:
    # 5000 digits would make int() raise its own ValueError (the 4300-digit limit)
    assert reason(raw, FieldType.INTEGER).startswith("integer out of range (beyond 64-bit): ")


def test_only_ascii_digits_make_an_integer() -> None:
    assert reason("١٢٣", FieldType.INTEGER) == "not an integer: '١٢٣'"


@pytest.mark.parametrize(
    "raw",
    [
        "9999-12-31T23:00:00-05:00",
        "0001-01-01T00:30:00+01:00",
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_timestamp_past_the_years_1_to_9999_in_utc_is_refused(raw: Any) -> None:
    assert reason(raw, FieldType.TIMESTAMP).startswith(
        "timestamp out of range (years 1 to 9999 in UTC): "
    )


def test_timestamps_at_the_edges_of_the_range_parse() -> None:
    latest = parse("9999-12-31T23:59:59.999999Z", FieldType.TIMESTAMP)
    assert latest == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert render(parse("0001-01-01T00:00:00", FieldType.TIMESTAMP)) == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("1" * 21, "at most 20 digits before the point"),
        ("1e20", "at most 20 digits before the point"),
        ("1." + "1" * 38, "at most 38 digits"),
        ("1." + "0" * 38, "at most 38 digits"),  # trailing zeros count
        ("0." + "0" * 38 + "1", "at most 38 digits after the point"),
        ("1e-999999999", "at most 38 digits after the point"),
        ("1e999999999999999999999", "its exponent"),
        (Decimal("9" * 38), "at most 20 digits before the point"),  # a Parquet decimal128(38)
    ],
)
def test_decimals_attribution_cannot_quantize_are_refused(raw: Any, why: str) -> None:
    assert reason(raw, FieldType.DECIMAL).startswith(f"decimal out of range ({why}): ")


FX_HEADROOM = Decimal(10**5)  # an FX conversion may grow an amount before it is quantized


def test_the_largest_accepted_decimals_still_quantize_to_cents() -> None:
    for text in ["9" * 20 + "." + "9" * 18, "-" + "9" * 20, "0." + "9" * 38, "1e19"]:
        value = parse(text, FieldType.DECIMAL)
        assert isinstance(value, Decimal)
        (value * FX_HEADROOM).quantize(Decimal("0.01"))  # what attribution's materiality does
    assert parse("12345678901234567890.123456789", FieldType.DECIMAL) == Decimal(
        "12345678901234567890.123456789"
    )


@settings(max_examples=300, deadline=None)
@given(
    sign=st.sampled_from(["", "-", "+"]),
    whole=st.text("0123456789", max_size=50),
    fraction=st.one_of(st.none(), st.text("0123456789", max_size=50)),
    exponent=st.one_of(st.none(), st.integers(-60, 60)),
)
def test_every_decimal_accepted_is_one_attribution_can_quantize_to_cents(
    sign: str, whole: str, fraction: str | None, exponent: int | None
) -> None:
    text = sign + whole + ("" if fraction is None else "." + fraction)
    text += "" if exponent is None else f"e{exponent}"
    try:
        value = parse(text, FieldType.DECIMAL)
    except BadValue as exc:
        assert "\n" not in str(exc)
        return
    if value is None:  # empty text is null
        return
    assert isinstance(value, Decimal)
    (value * FX_HEADROOM).quantize(Decimal("0.01"))
    assert len(render(value) or "") <= 60


def test_text_with_a_lone_surrogate_is_refused() -> None:
    assert reason("ab\ud800", FieldType.STRING).startswith(
        "not valid Unicode text (a lone surrogate): "
    )
    assert parse("zürich ✓", FieldType.STRING) == "zürich ✓"


def test_a_reason_quotes_a_huge_value_cut_short() -> None:
    text = reason("x" * 1_000_000, FieldType.DECIMAL)
    assert text.startswith("not a decimal: 'xxxx") and text.endswith("(1000002 characters)")


@pytest.mark.parametrize(
    ("text", "numbers", "value"),
    [
        ("1,234.50", GROUPED, "1234.50"),
        ("-1,234,567.89", GROUPED, "-1234567.89"),
        ("1234.50", GROUPED, "1234.50"),
        ("999", GROUPED, "999"),
        (".5", GROUPED, "0.5"),
        ("1.234,50", CONTINENTAL, "1234.50"),
        ("1.234.567,8", CONTINENTAL, "1234567.8"),
        ("1,5", CONTINENTAL, "1.5"),
        ("1 234,50", NumberFormat(",", " "), "1234.50"),
        ("1\u00a0234,50", NumberFormat(",", "\u00a0"), "1234.50"),
        ("1\u202f234\u202f567,5", NumberFormat(",", "\u202f"), "1234567.5"),
        ("1'234'567.25", NumberFormat(".", "'"), "1234567.25"),
        ("1234,5", NumberFormat(",", None), "1234.5"),
    ],
)
def test_decimal_text_is_read_with_the_declared_separators(
    text: str, numbers: NumberFormat, value: str
) -> None:
    parsed = parse(text, FieldType.DECIMAL, (), numbers)
    assert isinstance(parsed, Decimal) and parsed.as_tuple() == Decimal(value).as_tuple()


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("1.234,50", GROUPED),  # today's silent 1.2345
        ("1,23.4", GROUPED),  # a group of two
        ("1234,567.00", GROUPED),  # a leading group of four
        ("1,234,56", GROUPED),
        (",123", GROUPED),
        ("1,234.5", CONTINENTAL),
        ("1.5", CONTINENTAL),  # a dot is a thousands separator there: 1.500 would be 1500
        ("1 234,50", NumberFormat(",", "\u00a0")),  # a space where NBSP is declared
        ("1,234", NumberFormat(".", None)),
    ],
)
def test_ambiguous_or_mismatching_decimal_text_is_refused_naming_the_separators(
    text: str, numbers: NumberFormat
) -> None:
    assert reason(text, FieldType.DECIMAL, numbers).startswith(
        f"not a decimal with {numbers.describe()}: "
    )


def test_text_that_is_no_number_at_all_says_just_that() -> None:
    assert reason("12.x", FieldType.DECIMAL) == "not a decimal: '12.x'"
    assert reason("1,2x", FieldType.DECIMAL, CONTINENTAL) == "not a decimal: '1,2x'"


def test_json_numbers_and_floats_are_canonical_whatever_the_separators() -> None:
    assert parse(NumberText("1234.5"), FieldType.DECIMAL, (), CONTINENTAL) == Decimal("1234.5")
    assert parse(NumberText("1e-7"), FieldType.DECIMAL, (), CONTINENTAL) == Decimal("1e-7")
    assert reason(NumberText("inf"), FieldType.DECIMAL) == "not a decimal: 'inf'"
    assert parse(NumberText("0.00000001"), FieldType.STRING) == "0.00000001"


def recon_with(**separators: Any) -> Recon:
    custody = {"fields": {"trade_id": "string", "amount": "decimal"}, **separators}
    return Recon.model_validate(
        {
            "name": "r",
            "key": ["trade_id"],
            "sources": {"ledger": {"fields": {"trade_id": "string"}}, "custody": custody},
        }
    )


def test_a_source_declares_its_separators_and_they_must_differ() -> None:
    spec = recon_with().sources["custody"]
    assert (spec.decimal_separator, spec.thousands_separator) == (".", ",")
    spec = recon_with(decimal_separator=",", thousands_separator="").sources["custody"]
    assert spec.thousands_separator is None
    with pytest.raises(ValueError, match="they must differ"):
        recon_with(decimal_separator=",")
    with pytest.raises(ValueError, match="decimal_separator must be one of"):
        recon_with(decimal_separator=" ")
    with pytest.raises(ValueError, match="thousands_separator must be one of"):
        recon_with(thousands_separator="_")
