"""Features of a break (pure): what differs, by how much, and how that looks.

``extract`` reads a Break datum into :class:`Features` (typed values per side);
``vector`` turns them into the flat ``{name: number | category}`` dict the River model,
the anomaly detector and the explanations use. Names are stable and readable:
``amount.fx_error_log10``, ``dates.business_days_max``, ``differs.counterparty`` ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np

AMOUNT_FIELDS = ("amount", "net_amount", "gross_amount", "value", "notional")
DATE_SUFFIX = "_date"
CURRENCY_FIELDS = ("currency", "ccy")
FX_MATCH = 0.005  # a ratio within 0.5% of a known rate is that conversion
FEE_MAX_REL = 0.02  # fees are at most 2% of the amount
HALF_CENT = Decimal("0.005")

Vector = dict[str, float | str]


def as_decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def as_date(text: str | None) -> date | None:
    if text is None or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def business_days(a: date, b: date) -> int:
    """Business days from ``a`` to ``b`` (Mon–Fri), signed."""
    if a <= b:
        return int(np.busday_count(a, b))
    return -int(np.busday_count(b, a))


# --- digit-level similarity (keying errors) ------------------------------------------------


def digit_text(value: Decimal, places: int) -> str:
    """The digits of ``|value|`` at ``places`` decimals, without the point."""
    return format(abs(value).quantize(Decimal(1).scaleb(-places)), "f").replace(".", "")


def decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def is_power_of_ten_ratio(left: Decimal, right: Decimal) -> bool:
    if left == 0 or right == 0:
        return False
    ratio = abs(right / left)
    e = round(math.log10(ratio))
    if e == 0 or abs(e) > 3:
        return False
    power = Decimal(10) ** e
    return abs(ratio - power) <= Decimal("1e-9") * power


def is_transposition(left: Decimal, right: Decimal) -> bool:
    """The digits of one are the other's with two adjacent digits swapped."""
    a, b = format(abs(left), "f"), format(abs(right), "f")
    if len(a) != len(b) or a == b:
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and (a[diffs[1]] == b[diffs[0]])
    )


def edit_distance(a: str, b: str, cap: int = 6) -> int:
    """Levenshtein distance, capped (short strings: digits, identifiers)."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) >= cap:
        return cap
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return min(previous[-1], cap)


def digit_edits(a: str, b: str, cap: int = 6) -> int:
    """Keying edits between two digit strings: substitutions when the lengths agree, one for
    a digit dropped or doubled, ``cap`` for anything else."""
    if len(a) == len(b):
        return min(cap, sum(x != y for x, y in zip(a, b, strict=True)))
    if abs(len(a) - len(b)) == 1:
        short, long = (a, b) if len(a) < len(b) else (b, a)
        i = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), None)
        if i is None or short[i:] == long[i + 1 :]:
            return 1
    return cap


def single_digit_magnitude(value: Decimal) -> bool:
    """``value`` is one non-zero digit times a power of ten (100, 0.3, 7000)."""
    if value == 0:
        return False
    digits = value.normalize().as_tuple().digits
    return len(digits) == 1


def is_rounding_of(exact: Decimal, rounded: Decimal) -> bool:
    """``rounded`` is ``exact`` rounded (half-up, down or up) to fewer decimals."""
    places = decimals_of(exact)
    shown = decimals_of(rounded.normalize()) if rounded else 0
    if shown >= places:
        return False
    for keep in range(shown, places):
        unit = Decimal(1).scaleb(-keep)
        for mode in (ROUND_HALF_UP, ROUND_DOWN, ROUND_UP):
            if exact.quantize(unit, mode) == rounded:
                return True
    return False


# --- the break, read -----------------------------------------------------------------------


@dataclass
class Features:
    kind: str
    differing: list[str]
    numeric: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    dates: dict[str, int] = field(default_factory=dict)  # business days right - left
    text: list[str] = field(default_factory=list)
    context: dict[str, str | None] = field(default_factory=dict)
    calendar_days: dict[str, int] = field(default_factory=dict)
    text_values: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    recon: str = ""
    sides: tuple[str, str] = ("", "")
    missing_in: str | None = None
    doubled: dict[str, int] = field(default_factory=dict)  # source -> extra bookings
    currencies: tuple[str | None, str | None] = (None, None)  # of the left and right record

    def amount_pair(self) -> tuple[str, Decimal, Decimal] | None:
        """The money field that differs (the first numeric one when no amount does)."""
        for name in (*AMOUNT_FIELDS, *self.numeric):
            if name in self.numeric:
                left, right = self.numeric[name]
                return name, left, right
        return None

    def amount(self) -> tuple[Decimal, str | None] | None:
        """The booked amount and its currency (from the left record, or the one present)."""
        for name in AMOUNT_FIELDS:
            value = as_decimal(self.context.get(name))
            if value is not None:
                return value, self.context.get("currency")
        return None


def extract(brk: dict[str, Any], sources: list[str]) -> Features:
    """Features of a Break datum; ``sources`` in recon order (first is left, last is right)."""
    left_name, right_name = sources[0], sources[-1]
    feats = Features(
        kind=brk["kind"],
        differing=[],
        recon=brk.get("recon", ""),
        sides=(left_name, right_name),
        missing_in=brk.get("missing_in"),
    )
    if feats.kind == "DUPLICATE":
        for diff in brk["fields"]:
            for source in diff["values"]:
                feats.doubled[source] = int(as_decimal(diff.get("delta")) or 1)
    else:
        feats.differing = [d["field"] for d in brk["fields"]]
        for diff in brk["fields"]:
            _read_diff(feats, diff["field"], diff["values"], left_name, right_name)
    records = brk["records"]
    left: dict[str, str | None] = records.get(left_name) or next(iter(records.values()), {})
    right: dict[str, str | None] = records.get(right_name) or left
    feats.context = {k: left.get(k) for k in ("currency", "counterparty", *AMOUNT_FIELDS)}
    ccy = next((f for f in CURRENCY_FIELDS if f in left or f in right), None)
    if ccy:
        feats.currencies = (left.get(ccy), right.get(ccy))
    return feats


def _read_diff(
    feats: Features, name: str, values: dict[str, str | None], left_name: str, right_name: str
) -> None:
    lt, rt = values.get(left_name), values.get(right_name)
    if name.endswith(DATE_SUFFIX) or (as_date(lt) and as_date(rt)):
        ld, rd = as_date(lt), as_date(rt)
        if ld and rd:
            feats.dates[name] = business_days(ld, rd)
            feats.calendar_days[name] = (rd - ld).days
            return
    ln, rn = as_decimal(lt), as_decimal(rt)
    if ln is not None and rn is not None:
        feats.numeric[name] = (ln, rn)
    else:
        feats.text.append(name)
        feats.text_values[name] = (lt, rt)


# --- the break, as numbers -----------------------------------------------------------------


def _log10(value: float, low: float, high: float) -> float:
    if value == math.inf:
        return float(high)
    return float(max(low, min(high, math.log10(value) if value else low)))


_RATES: dict[int, tuple[dict[str, Decimal], list[tuple[float, str]]]] = {}


def _candidates(rates: dict[str, Decimal]) -> list[tuple[float, str]]:
    """Every rate and its inverse as floats (cached per rates dict: a recon's is reused)."""
    cached = _RATES.get(id(rates))
    if cached is not None and cached[0] is rates:
        return cached[1]
    found = [(float(r), n) for n, r in rates.items() if r] + [
        (1 / float(r), f"1/{n}") for n, r in rates.items() if r
    ]
    if len(_RATES) > 64:
        _RATES.clear()
    _RATES[id(rates)] = (rates, found)
    return found


def fx_error(left: Decimal, right: Decimal, rates: dict[str, Decimal]) -> tuple[float, str]:
    """The smallest relative distance of right/left to a known rate (or its inverse)."""
    if left == 0 or right == 0 or not rates:
        return 1.0, ""
    ratio = float(abs(right / left))
    best, pair = math.inf, ""
    for candidate, label in _candidates(rates):
        err = abs(ratio / candidate - 1)
        if err < best:
            best, pair = err, label
    return min(best, 1.0), pair


def fee_signals(delta: Decimal, amount: Decimal) -> Vector:
    """How much a delta looks like a fee: round amounts, (half) basis points, small share."""
    size = abs(delta)
    base = abs(amount)
    bps = float(size / base * 10000) if base else 0.0
    out: Vector = {
        "fee.round": float(size >= 1 and size == size.to_integral_value()),
        "fee.round5": float(size >= 5 and size % 5 == 0),
        "fee.bps": min(bps, 1000.0),
        "fee.bps_whole": 0.0,
        "fee.bps_half": 0.0,
        "fee.small_share": float(base > 0 and size >= Decimal("0.5") and bps <= FEE_MAX_REL * 1e4),
    }
    if base and size >= 1:
        for unit, name in ((Decimal(1), "fee.bps_whole"), (Decimal("0.5"), "fee.bps_half")):
            whole = (size / base * 10000 / unit).to_integral_value() * unit
            if whole and abs(size - base * whole / 10000) <= HALF_CENT:
                out[name] = 1.0
    return out


def numeric_signals(prefix: str, left: Decimal, right: Decimal) -> Vector:
    """Delta size (absolute, relative, in units of the last decimal) and keying patterns."""
    delta = right - left
    size = abs(delta)
    top = max(abs(left), abs(right))
    places = max(decimals_of(left), decimals_of(right))
    out: Vector = {
        f"{prefix}.delta_abs_log10": _log10(float(size), -4, 10),
        f"{prefix}.delta_rel_log10": _log10(float(size / top) if top else 1.0, -12, 1),
        f"{prefix}.delta_sign": float((delta > 0) - (delta < 0)),
        f"{prefix}.delta_ulps_log10": _log10(float(size.scaleb(places)), 0, 12),
        f"{prefix}.sub_unit": float(size < 1),
        f"{prefix}.rounded": float(is_rounding_of(left, right) or is_rounding_of(right, left)),
    }
    if left and right:
        log_ratio = math.log10(float(abs(right / left)))
        nearest = round(log_ratio)
        out[f"{prefix}.ratio_log10"] = max(-6.0, min(6.0, log_ratio))
        out[f"{prefix}.pow10_error"] = abs(log_ratio - nearest) if nearest else 1.0
        out[f"{prefix}.pow10"] = float(is_power_of_ten_ratio(left, right))
    a, b = digit_text(left, places), digit_text(right, places)
    out[f"{prefix}.transposed"] = float(is_transposition(left, right))
    out[f"{prefix}.digit_edits"] = float(digit_edits(a.lstrip("0"), b.lstrip("0")))
    out[f"{prefix}.same_digits"] = float(a != b and sorted(a) == sorted(b))
    out[f"{prefix}.delta_one_digit"] = float(single_digit_magnitude(size))
    out[f"{prefix}.delta_nines"] = float(
        size > 0 and size % 9 == 0 and single_digit_magnitude(size / 9)
    )
    return out


SIMILARITY_CHARS = 64  # reference fields are codes; longer text is compared by its start


def _text_similarity(pairs: dict[str, tuple[str | None, str | None]]) -> Vector:
    """How alike the differing text fields are. The edit distance costs length squared, so
    only the first ``SIMILARITY_CHARS`` characters of each take part: a megabyte field
    costs what a code does."""
    best_sim, best_prefix, last_only = 0.0, 0.0, 0.0
    for left, right in pairs.values():
        if not left or not right:
            continue
        lt, rt = left[:SIMILARITY_CHARS], right[:SIMILARITY_CHARS]
        longest = max(len(lt), len(rt))
        best_sim = max(best_sim, 1 - edit_distance(lt, rt, cap=longest) / longest)
        prefix = next((i for i, (x, y) in enumerate(zip(lt, rt, strict=False)) if x != y), 0)
        prefix = prefix or min(len(lt), len(rt))
        best_prefix = max(best_prefix, prefix / longest)
        last_only = max(last_only, float(len(lt) == len(rt) and lt[:-1] == rt[:-1]))
    return {"text.similarity": best_sim, "text.prefix": best_prefix, "text.last_char": last_only}


AMOUNT_DEFAULTS = (
    numeric_signals("amount", Decimal(0), Decimal(0))
    | {
        "amount.ratio_log10": 0.0,
        "amount.pow10_error": 1.0,
        "amount.pow10": 0.0,
        "amount.fx_error_log10": 0.0,
        "amount.fx_match": 0.0,
    }
    | fee_signals(Decimal(0), Decimal(0))
)
OTHER_NUMERIC = ("delta_rel_log10", "ratio_log10", "pow10", "transposed", "rounded")
# Every numeric feature is always present (trees cannot split on features that are sometimes
# absent: River's splitters would see only the rows that have them).
DEFAULTS: dict[str, float] = {
    "fields.n": 0.0,
    "numeric.n": 0.0,
    "dates.n": 0.0,
    "text.n": 0.0,
    "amount.differs": 0.0,
    **{k: float(v) for k, v in AMOUNT_DEFAULTS.items()},
    **{f"other_numeric.{k}": 0.0 for k in OTHER_NUMERIC},
    "other_numeric.delta_rel_log10": -12.0,
    "dates.business_days": 0.0,
    "dates.business_days_max": 0.0,
    "dates.calendar_days_max": 0.0,
    "dates.moved_together": 0.0,
    "text.similarity": 0.0,
    "text.prefix": 0.0,
    "text.last_char": 0.0,
    "currency.differs": 0.0,
    "duplicate.extra": 0.0,
}


def vector(f: Features, fx_rates: dict[str, Decimal] | None = None) -> Vector:
    """The model's view of a break: numbers for sizes and patterns, strings for categories.

    Dense: every feature of :data:`DEFAULTS` is set, and the categories ``kind``, ``fields``
    (which fields differ), ``side`` (which side is missing or doubled), ``recon``, ``source``,
    ``currency`` and ``counterparty``.
    """
    v: Vector = {
        **DEFAULTS,
        "kind": f.kind,
        "fields": ",".join(sorted(f.differing)) or "-",
        "side": "-",
        "source": "-",
        "recon": f.recon,
        "currency": f.context.get("currency") or "-",
        "counterparty": f.context.get("counterparty") or "-",
        "fields.n": float(len(f.differing)),
        "numeric.n": float(len(f.numeric)),
        "dates.n": float(len(f.dates)),
        "text.n": float(len(f.text)),
    }
    if f.kind == "MISSING":
        v["side"] = "left" if f.missing_in == f.sides[0] else "right"
        v["source"] = f.missing_in or "-"
    elif f.kind == "DUPLICATE":
        source, extra = max(f.doubled.items(), key=lambda kv: kv[1], default=("-", 1))
        v["side"] = "left" if source == f.sides[0] else "right"
        v["source"] = source
        v["duplicate.extra"] = float(extra)
    pair = f.amount_pair()
    if pair:
        name, left, right = pair
        v["amount.differs"] = 1.0
        v.update(numeric_signals("amount", left, right))
        err, _ = fx_error(left, right, fx_rates or {})
        v["amount.fx_error_log10"] = _log10(err, -6, 0)
        v["amount.fx_match"] = float(err <= FX_MATCH)
        v.update(fee_signals(right - left, left))
    for name, (left, right) in f.numeric.items():
        if pair and name == pair[0]:
            continue
        sig = numeric_signals(name, left, right)
        for key in OTHER_NUMERIC:
            value = sig.get(f"{name}.{key}")
            if value is not None:
                v[f"other_numeric.{key}"] = max(float(v[f"other_numeric.{key}"]), float(value))
    if f.dates:
        days = max(f.dates.values(), key=abs)
        v["dates.business_days"] = float(days)
        v["dates.business_days_max"] = float(abs(days))
        v["dates.calendar_days_max"] = float(max(abs(d) for d in f.calendar_days.values()))
        v["dates.moved_together"] = float(len(f.dates) > 1 and len(set(f.dates.values())) == 1)
    if f.text:
        v.update(_text_similarity(f.text_values))
        v["currency.differs"] = float(any(n in CURRENCY_FIELDS for n in f.text))
    return v
