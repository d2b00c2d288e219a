"""Comparison rules: pure functions deciding whether field values agree across sources.

Numeric tolerance follows datacompy: ``|a - b| <= abs_tol + rel_tol * |b|`` where ``a`` is
the left (first) source and ``b`` the source compared with it. Arithmetic is Decimal only.

``values_agree`` is the rule; :class:`ComparisonPlan` is the same rule compiled once per recon
(each field's type and rule resolved, a comparator picked for them), which ``diff_records``
runs on every record.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from streams.derived import derived
from streams.recon import CompareRule, Recon
from streams.values import FieldType, Value, normalize_text

Fields = dict[str, Value]
Agree = Callable[[Value, Value], bool]


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


def comparator(ftype: FieldType, rule: CompareRule) -> Agree:
    """``values_agree`` for one field's type and rule, answering exactly as it does: what
    depends on the type and rule alone is decided here, once. Equal values of the type agree
    under every rule, so only unequal ones go through the rule."""
    match ftype:
        case FieldType.DATE | FieldType.TIMESTAMP if not rule.tol_days:
            return operator.eq  # null equals only null, and an instant only an equal one
        case FieldType.BOOLEAN:
            return operator.eq
        case FieldType.STRING:

            def agree(a: Value, b: Value) -> bool:
                return (type(a) is str and a == b) or values_agree(a, b, ftype, rule)

            return agree
        case FieldType.DECIMAL | FieldType.INTEGER:

            def agree(a: Value, b: Value) -> bool:
                if type(a) is type(b) and (type(a) is Decimal or type(a) is int):
                    try:
                        if a == b:
                            return True
                    except InvalidOperation:  # a signalling NaN: the rule says what it is
                        pass
                return values_agree(a, b, ftype, rule)

            return agree

    def by_rule(a: Value, b: Value) -> bool:
        return values_agree(a, b, ftype, rule)

    return by_rule


@dataclass(frozen=True, slots=True)
class FieldComparison:
    """One compared field: its type and whether two of its values agree."""

    field: str
    ftype: FieldType
    agree: Agree


@dataclass(frozen=True, slots=True)
class ComparisonPlan:
    """A recon's comparison with every rule resolved: its sources (left first) and the
    compared fields in left-source order."""

    sources: tuple[str, ...]
    fields: tuple[FieldComparison, ...]

    @classmethod
    def compile(cls, recon: Recon) -> ComparisonPlan:
        fields = []
        for name in recon.compared_fields():
            ftype = recon.field_type(name)
            fields.append(FieldComparison(name, ftype, comparator(ftype, recon.rule(name))))
        return cls(tuple(recon.source_names), tuple(fields))

    def diff(self, records: dict[str, Fields]) -> list[FieldDiff]:
        """The fields on which any source disagrees with the left source.

        ``records`` maps every source name to its canonical fields; all must be present.
        """
        left_name, *others = self.sources
        left = records[left_name]
        rest = [records[o] for o in others]
        diffs: list[FieldDiff] = []
        for compared in self.fields:
            field, agree = compared.field, compared.agree
            a = left.get(field)
            for other in rest:
                if not agree(a, other.get(field)):
                    break
            else:
                continue
            values = {name: records[name].get(field) for name in self.sources}
            diffs.append(FieldDiff(field, values, delta(a, rest[-1].get(field), compared.ftype)))
        return diffs


def comparison_plan(recon: Recon) -> ComparisonPlan:
    """The recon's compiled comparison (compiled on first use, once per recon object)."""
    return derived(recon, ComparisonPlan.compile)


def diff_records(recon: Recon, records: dict[str, Fields]) -> list[FieldDiff]:
    """The fields on which any source disagrees with the left source.

    ``records`` maps every source name to its canonical fields; all sources must be present.
    """
    return comparison_plan(recon).diff(records)
