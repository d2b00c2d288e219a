"""Break features: the patterns analysts recognise, as numbers the model can learn from."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from greenai.up import DEMO_RECON
from streams.attribution.features import (
    DEFAULTS,
    digit_edits,
    extract,
    fee_signals,
    fx_error,
    is_rounding_of,
    numeric_signals,
    vector,
)
from streams.attribution.labelled import labelled_breaks
from streams.ingest.synthetic import CAUSES
from streams.recon import Recon, load_recon

D = Decimal


@pytest.fixture(scope="module")
def demo() -> Recon:
    return load_recon(DEMO_RECON)


def _mismatch(field: str, left: str, right: str, **records: str) -> dict[str, object]:
    return {
        "recon": "r",
        "kind": "MISMATCH",
        "fields": [{"field": field, "values": {"l": left, "r": right}, "delta": None}],
        "records": {"l": dict(records), "r": dict(records)},
    }


def test_digit_edits_count_substitutions_and_a_dropped_or_doubled_digit() -> None:
    assert digit_edits("123450", "123450") == 0
    assert digit_edits("123450", "124450") == 1
    assert digit_edits("123450", "12350") == 1  # a 4 dropped
    assert digit_edits("123450", "1233450") == 1  # a 3 doubled
    assert digit_edits("123450", "9") == 6


def test_keying_patterns_show_in_the_amount_signals() -> None:
    times_ten = numeric_signals("amount", D("1234.50"), D("12345.00"))
    assert times_ten["amount.pow10"] == 1.0 and times_ten["amount.pow10_error"] < 1e-9
    swapped = numeric_signals("amount", D("1234.50"), D("1243.50"))
    assert swapped["amount.transposed"] == 1.0 and swapped["amount.delta_nines"] == 1.0
    neighbour = numeric_signals("amount", D("15234.50"), D("15334.50"))
    assert neighbour["amount.delta_one_digit"] == 1.0 and neighbour["amount.digit_edits"] == 1.0


def test_rounding_is_recognised_at_any_number_of_decimals() -> None:
    assert is_rounding_of(D("1234.5678"), D("1234.57"))
    assert is_rounding_of(D("1234.5678"), D("1234"))  # truncated to whole units
    assert not is_rounding_of(D("1234.5678"), D("1234.58"))
    signals = numeric_signals("amount", D("33701.40"), D("33701.00"))
    assert signals["amount.rounded"] == 1.0 and signals["amount.sub_unit"] == 1.0


def test_fx_error_finds_the_rate_or_its_inverse() -> None:
    rates = {"EURUSD": D("1.0850"), "USDJPY": D("151.20")}
    err, pair = fx_error(D("1000.00"), D("1085.00"), rates)
    assert pair == "EURUSD" and err < 1e-9
    err, pair = fx_error(D("15120.00"), D("100.00"), rates)
    assert pair == "1/USDJPY" and err < 1e-9
    assert fx_error(D("1000.00"), D("1300.00"), rates)[0] > 0.1


def test_fee_signals_see_round_amounts_and_basis_points() -> None:
    assert fee_signals(D("-25.00"), D("10000.00"))["fee.round"] == 1.0
    whole = fee_signals(D("-3.70"), D("7400.00"))  # 5 bp
    assert whole["fee.bps_whole"] == 1.0 and whole["fee.bps"] == pytest.approx(5.0)
    half = fee_signals(D("-1.85"), D("7400.00"))  # 2.5 bp
    assert half["fee.bps_half"] == 1.0 and half["fee.bps_whole"] == 0.0
    assert fee_signals(D("-400.00"), D("10000.00"))["fee.small_share"] == 0.0  # 4%: no fee


def test_dates_count_business_days_and_moves_together() -> None:
    brk = {
        "recon": "r",
        "kind": "MISMATCH",
        "fields": [
            {"field": "trade_date", "values": {"l": "2026-11-27", "r": "2026-11-30"}},
            {"field": "settle_date", "values": {"l": "2026-12-01", "r": "2026-12-02"}},
        ],
        "records": {},
    }
    v = vector(extract(brk, ["l", "r"]))
    assert v["dates.business_days_max"] == 1.0  # Fri -> Mon is one business day
    assert v["dates.calendar_days_max"] == 3.0
    assert v["dates.moved_together"] == 1.0
    assert v["fields"] == "settle_date,trade_date"


def test_identifiers_compare_by_similarity() -> None:
    v = vector(extract(_mismatch("isin", "US0378331005", "US0378331007"), ["l", "r"]))
    assert v["text.last_char"] == 1.0 and v["text.similarity"] > 0.9
    v = vector(extract(_mismatch("counterparty", "GSCO", "GSIL"), ["l", "r"]))
    assert v["text.prefix"] == 0.5 and v["currency.differs"] == 0.0


def test_text_similarity_costs_the_same_for_a_megabyte_field() -> None:
    """Edit distance is quadratic: uncapped, two 1 MB fields would take hours."""
    huge = "x" * (1 << 20)
    v = vector(extract(_mismatch("note", huge + "a", huge + "b"), ["l", "r"]))
    assert v["text.similarity"] == 1.0  # alike as far as it looks (the first characters)


def test_amounts_at_the_limit_of_what_connectors_admit_are_attributed() -> None:
    from streams.attribution.engine import Engine

    big = "9" * 20 + "." + "9" * 18  # 38 digits, 20 before the point
    brk = _mismatch("amount", big, "1.5", amount=big) | {
        "break_id": "b-1",
        "status": "OPEN",
        "version": 1,
        "missing_in": None,
        "first_seen": datetime(2026, 12, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    done = Engine().process(brk, None)
    assert done.datum["cause"] != "UNKNOWN" or done.datum["explanation"][0]["feature"] != (
        "attribution_error"
    )


def test_missing_and_doubled_sides_are_named() -> None:
    missing = {"recon": "r", "kind": "MISSING", "missing_in": "l", "fields": [], "records": {}}
    v = vector(extract(missing, ["l", "r"]))
    assert (v["side"], v["source"]) == ("left", "l")
    doubled = {
        "recon": "r",
        "kind": "DUPLICATE",
        "fields": [{"field": "booking_id", "values": {"r": "B1, B1-D"}, "delta": "1"}],
        "records": {"r": {"amount": "10.00"}},
    }
    v = vector(extract(doubled, ["l", "r"]))
    assert (v["side"], v["duplicate.extra"], v["fields"]) == ("right", 1.0, "-")


def test_context_categories_come_from_the_left_record() -> None:
    brk = _mismatch("amount", "100.00", "100.03", currency="EUR", counterparty="GSCO")
    v = vector(extract(brk, ["l", "r"]))
    assert (v["recon"], v["currency"], v["counterparty"], v["kind"]) == (
        "r",
        "EUR",
        "GSCO",
        "MISMATCH",
    )


def test_every_vector_has_every_numeric_feature(demo: Recon) -> None:
    """Trees cannot split on features some rows lack: the vector is dense for every kind."""
    kinds = Counter()
    for lb in labelled_breaks(demo, 300, seed=2):
        v = vector(extract(lb.brk, demo.source_names), demo.fx_rates)
        kinds[v["kind"]] += 1
        assert set(DEFAULTS) <= set(v), set(DEFAULTS) - set(v)
        assert all(isinstance(v[k], float) for k in DEFAULTS)
    assert set(kinds) == {"MISMATCH", "MISSING", "DUPLICATE"}


def test_generated_variety_breaks_with_every_cause(demo: Recon) -> None:
    causes = Counter(lb.cause for lb in labelled_breaks(demo, 400, seed=4))
    assert set(causes) == set(CAUSES)
    fx = next(lb for lb in labelled_breaks(demo, 400, seed=4) if lb.cause == "FX")
    v = vector(extract(fx.brk, demo.source_names), demo.fx_rates)
    assert v["amount.fx_error_log10"] < -2  # within 1% of a reference rate
