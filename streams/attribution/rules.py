"""Rule-based attribution (pure): the day-one prior for a break's likely cause."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from streams.attribution.features import Features, is_power_of_ten_ratio, is_transposition

ROUNDING_ABS = Decimal("0.05")
ROUNDING_REL = Decimal("0.000001")
CENT = Decimal("0.01")
FX_TOLERANCE = Decimal("0.005")
FEE_MAX_REL = Decimal("0.02")
TIMING_MAX_BUSINESS_DAYS = 5


class Evidence(NamedTuple):
    """One feature that drove a cause: its name, its value as read, its share."""

    feature: str
    value: str
    weight: float


class Attribution(NamedTuple):
    cause: str
    confidence: float
    explanation: tuple[Evidence, ...]


def _fx_match(left: Decimal, right: Decimal, rates: dict[str, Decimal]) -> str | None:
    if left == 0 or right == 0:
        return None
    ratio = abs(right / left)
    for pair, rate in rates.items():
        for candidate in (rate, 1 / rate):
            if abs(ratio - candidate) <= FX_TOLERANCE * candidate:
                return pair
    return None


def _fee_like(delta: Decimal, amount: Decimal) -> str | None:
    """A delta that looks like a fee: a round amount, or whole basis points of the amount."""
    if amount == 0 or abs(delta) > FEE_MAX_REL * abs(amount):
        return None
    if abs(delta) < 1:
        return None
    if delta == delta.to_integral_value():
        return f"round fee {abs(delta)}"
    bps = (abs(delta) / abs(amount) * 10000).to_integral_value()
    if bps and abs(abs(delta) - abs(amount) * bps / 10000) <= CENT / 2:
        return f"{bps} bp of amount"
    return None


def attribute(f: Features, fx_rates: dict[str, Decimal] | None = None) -> Attribution:
    """The likely cause of a break from its features, with the evidence that decided it."""
    if f.kind == "MISSING":
        return Attribution("MISSING_BOOKING", 0.9, (Evidence("kind", "MISSING", 1.0),))
    if f.kind == "DUPLICATE":
        return Attribution("DUPLICATE_BOOKING", 0.95, (Evidence("kind", "DUPLICATE", 1.0),))
    pair = f.amount_pair()
    fx = _fx_match(pair[1], pair[2], fx_rates or {}) if pair else None
    if f.text:
        if fx and set(f.text) <= {"currency"}:
            return Attribution(
                "FX",
                0.9,
                (
                    Evidence("ratio_matches_fx_rate", fx, 0.7),
                    Evidence("currency_differs", "currency", 0.3),
                ),
            )
        return Attribution(
            "STATIC_DATA", 0.85, (Evidence("reference_fields_differ", ", ".join(f.text), 0.9),)
        )
    if f.dates and not f.numeric:
        days = max(f.dates.values(), key=abs)
        within = abs(days) <= TIMING_MAX_BUSINESS_DAYS
        return Attribution(
            "TIMING",
            0.85 if within else 0.55,
            (
                Evidence("date_diff_business_days", str(days), 0.9),
                Evidence("dates_differ", ", ".join(f.dates), 0.1),
            ),
        )
    if pair is None:
        return Attribution(
            "UNKNOWN", 0.3, (Evidence("differing_fields", ", ".join(f.differing), 0),)
        )
    name, left, right = pair
    delta = right - left
    rel = abs(delta) / abs(left) if left else Decimal(1)
    base = (
        Evidence(f"{name}_abs_delta", format(delta, "f"), 0.3),
        Evidence(f"{name}_rel_delta", f"{rel:.6f}", 0.3),
    )
    if is_power_of_ten_ratio(left, right):
        return Attribution(
            "FAT_FINGER",
            0.9,
            (Evidence(f"{name}_ratio_power_of_ten", f"{right / left:.4g}", 0.9), *base),
        )
    if is_transposition(left, right):
        return Attribution(
            "FAT_FINGER",
            0.85,
            (Evidence(f"{name}_transposed_digits", f"{left} vs {right}", 0.9), *base),
        )
    if abs(delta) <= ROUNDING_ABS:
        return Attribution(
            "ROUNDING", 0.9, (Evidence("delta_at_rounding_scale", format(delta, "f"), 0.9), *base)
        )
    if fx:
        return Attribution("FX", 0.85, (Evidence("ratio_matches_fx_rate", fx, 0.9), *base))
    fee = _fee_like(delta, left)
    if fee:
        return Attribution("FEE", 0.75, (Evidence("fee_like_delta", fee, 0.8), *base))
    if rel <= ROUNDING_REL:
        return Attribution(
            "ROUNDING", 0.7, (Evidence("delta_at_rounding_scale", f"{rel:.2e}", 0.7), *base)
        )
    return Attribution("UNKNOWN", 0.3, base)
