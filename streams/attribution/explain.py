"""Readable evidence (pure): a model input or vector feature, said the way an analyst reads it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from streams.attribution.features import Features, Vector, fx_error

CATEGORIES = ("kind", "fields", "side", "source", "recon", "currency", "counterparty")
CATEGORY_NAMES = {
    "kind": "break_kind",
    "fields": "differing_fields",
    "side": "side",
    "source": "source",
    "recon": "recon",
    "currency": "currency",
    "counterparty": "counterparty",
}


def feature_of(model_input: str) -> tuple[str, str | None]:
    """The vector feature behind a model input, and the category for one-hot inputs."""
    head, _, value = model_input.partition("_")
    if head in CATEGORIES and value:
        return head, value
    return model_input, None


def _amount_delta(f: Features) -> str:
    pair = f.amount_pair()
    if not pair:
        return "-"
    name, left, right = pair
    delta = right - left
    rel = abs(delta) / abs(left) if left else Decimal(1)
    return f"{name} {format(left, 'f')} -> {format(right, 'f')} (delta {delta:+f}, {rel:.4%})"


def describe(
    name: str,
    v: Vector,
    f: Features,
    fx_rates: dict[str, Decimal],
    memo: dict[str, str] | None = None,
) -> str:
    """The value of vector feature ``name`` for this break, in words and source values
    (``memo`` shares the wording of one break between its features)."""
    value = v.get(name)
    if isinstance(value, str):
        return value
    family = _family(name, f)
    if family is None:
        return f"{value:g}" if isinstance(value, float) else "-"
    if memo is None:
        memo = {}
    if family not in memo:
        memo[family] = _WORDS[family](f, fx_rates)
    return memo[family]


def _family(name: str, f: Features) -> str | None:
    pair = f.amount_pair() is not None
    if name in ("amount.fx_error_log10", "amount.fx_match") and pair:
        return "fx"
    if name.startswith("fee.bps") and pair:
        return "bps"
    if name.startswith(("amount.", "fee.")) and pair:
        return "amount"
    if name.startswith("dates.") and f.dates:
        return "dates"
    if name.startswith(("text.", "currency.")) and f.text_values:
        return "text"
    if name.startswith("other_numeric.") and f.numeric:
        return "other"
    if name == "duplicate.extra" and f.doubled:
        return "doubled"
    return None


def _fx(f: Features, rates: dict[str, Decimal]) -> str:
    _, left, right = f.amount_pair() or ("", Decimal(0), Decimal(0))
    err, rate = fx_error(left, right, rates)
    ratio = right / left if left else Decimal(0)
    return f"ratio {ratio:.6f} vs {rate or 'no rate'} (off {err:.3%})"


def _bps(f: Features, rates: dict[str, Decimal]) -> str:
    _, left, right = f.amount_pair() or ("", Decimal(0), Decimal(0))
    if not left:
        return _amount_delta(f)
    bps = abs(right - left) / abs(left) * 10000
    return f"{abs(right - left):f} = {bps:.2f} bp of {left:f}"


def _dates(f: Features, rates: dict[str, Decimal]) -> str:
    return ", ".join(
        f"{d}: {n:+d} business days ({f.calendar_days.get(d, n):+d} calendar)"
        for d, n in f.dates.items()
    )


def _text(f: Features, rates: dict[str, Decimal]) -> str:
    return ", ".join(f"{k}: {lt!r} vs {rt!r}" for k, (lt, rt) in f.text_values.items())


def _other(f: Features, rates: dict[str, Decimal]) -> str:
    pair = f.amount_pair()
    return ", ".join(
        f"{k}: {format(lt, 'f')} -> {format(rt, 'f')}"
        for k, (lt, rt) in f.numeric.items()
        if not pair or k != pair[0]
    )


def _doubled(f: Features, rates: dict[str, Decimal]) -> str:
    return ", ".join(f"{s}: {n} extra booking(s)" for s, n in f.doubled.items())


_WORDS: dict[str, Callable[[Features, dict[str, Decimal]], str]] = {
    "fx": _fx,
    "bps": _bps,
    "amount": lambda f, rates: _amount_delta(f),
    "dates": _dates,
    "text": _text,
    "other": _other,
    "doubled": _doubled,
}
