"""Comparison rules: pure functions deciding whether field values agree across sources.

Numeric tolerance follows datacompy: ``|a - b| <= abs_tol + rel_tol * |b|`` where ``a`` is
the left (first) source and ``b`` the source compared with it. Arithmetic is Decimal only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from streams.recon import CompareRule, Recon
from streams.values import FieldType, Value, normalize_text

Fields = dict[str, Value]


@dataclass(frozen=True)
class FieldDiff:
    """One field on which the sources disagree: every source's value and right − left."""

    field: str
    values: dict[str, Value]
    delta: Value


def values_agree(a: Value, b: Value, ftype: FieldType, rule: CompareRule) -> bool:
    """Whether ``a`` (left) and ``b`` (right) agree under ``rule``. Null equals only null."""
    if a is None or b is None:
        return a is None and b is None
    match ftype:
        case FieldType.DECIMAL | FieldType.INTEGER:
            return _numbers_agree(Decimal(a), Decimal(b), rule)  # type: ignore[arg-type]
        case FieldType.DATE | FieldType.TIMESTAMP:
            if rule.tol_days and isinstance(a, date) and isinstance(b, date):
                return _within_days(a, b, rule.tol_days)
            return a == b
        case FieldType.STRING:
            return normalize_text(str(a), ignore_case=rule.ignore_case, trim=rule.trim) == (
                normalize_text(str(b), ignore_case=rule.ignore_case, trim=rule.trim)
            )
    return a == b


def _numbers_agree(a: Decimal, b: Decimal, rule: CompareRule) -> bool:
    if a.is_nan() or b.is_nan():
        return a.is_nan() and b.is_nan()
    if a.is_infinite() or b.is_infinite():
        return a == b
    return abs(a - b) <= rule.abs_tol + rule.rel_tol * abs(b)


def _within_days(a: date, b: date, days: int) -> bool:
    """Dates: at most ``days`` calendar days apart; timestamps: |b - a| <= ``days`` x 24 h.

    Symmetric: swapping the sources never changes the answer.
    """
    if isinstance(a, datetime) and isinstance(b, datetime):
        return abs(b - a) <= timedelta(days=days)
    return abs(_days_between(a, b)) <= days


def _days_between(a: date, b: date) -> int:
    """Whole days from ``a`` to ``b``; for timestamps truncated toward zero, so that
    swapping ``a`` and ``b`` only flips the sign (``timedelta.days`` alone floors)."""
    if isinstance(a, datetime) and isinstance(b, datetime):
        span = b - a
        return span.days if span >= timedelta(0) else -((-span).days)
    return (_as_date(b) - _as_date(a)).days


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def delta(a: Value, b: Value, ftype: FieldType) -> Value:
    """Right minus left: exact for numbers, whole days for dates; None where meaningless."""
    if a is None or b is None:
        return None
    if ftype in (FieldType.DECIMAL, FieldType.INTEGER):
        left, right = Decimal(a), Decimal(b)  # type: ignore[arg-type]
        if left.is_finite() and right.is_finite():
            diff = right - left
            return int(diff) if ftype is FieldType.INTEGER else diff
        return None
    if ftype in (FieldType.DATE, FieldType.TIMESTAMP) and isinstance(a, date):
        return _days_between(a, b)  # type: ignore[arg-type]
    return None


def diff_records(recon: Recon, records: dict[str, Fields]) -> list[FieldDiff]:
    """The fields on which any source disagrees with the left source.

    ``records`` maps every source name to its canonical fields; all sources must be present.
    """
    left_name, *others = recon.source_names
    left = records[left_name]
    diffs: list[FieldDiff] = []
    for field in recon.compared_fields():
        ftype = recon.field_type(field)
        rule = recon.rule(field)
        if all(values_agree(left.get(field), records[o].get(field), ftype, rule) for o in others):
            continue
        values = {name: records[name].get(field) for name in recon.source_names}
        last = records[others[-1]].get(field)
        diffs.append(FieldDiff(field, values, delta(left.get(field), last, ftype)))
    return diffs
