"""Features of a break (pure): what differs, by how much, and how that looks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

AMOUNT_FIELDS = ("amount", "net_amount", "gross_amount", "value", "notional")
DATE_SUFFIX = "_date"


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


def is_power_of_ten_ratio(left: Decimal, right: Decimal) -> bool:
    if left == 0 or right == 0:
        return False
    ratio = abs(right / left)
    return any(
        abs(ratio - Decimal(10) ** e) <= Decimal("1e-9") * Decimal(10) ** e
        for e in (-3, -2, -1, 1, 2, 3)
    )


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


@dataclass
class Features:
    kind: str
    differing: list[str]
    numeric: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    dates: dict[str, int] = field(default_factory=dict)  # business days right - left
    text: list[str] = field(default_factory=list)
    context: dict[str, str | None] = field(default_factory=dict)

    def amount_pair(self) -> tuple[str, Decimal, Decimal] | None:
        for name in (*AMOUNT_FIELDS, *self.numeric):
            if name in self.numeric:
                left, right = self.numeric[name]
                return name, left, right
        return None


def extract(brk: dict[str, Any], sources: list[str]) -> Features:
    """Features of a Break datum; ``sources`` in recon order (first is left, last is right)."""
    feats = Features(kind=brk["kind"], differing=[d["field"] for d in brk["fields"]])
    left_name, right_name = sources[0], sources[-1]
    for diff in brk["fields"]:
        name, values = diff["field"], diff["values"]
        lt, rt = values.get(left_name), values.get(right_name)
        if name.endswith(DATE_SUFFIX) or (as_date(lt) and as_date(rt)):
            ld, rd = as_date(lt), as_date(rt)
            if ld and rd:
                feats.dates[name] = business_days(ld, rd)
                continue
        ln, rn = as_decimal(lt), as_decimal(rt)
        if ln is not None and rn is not None:
            feats.numeric[name] = (ln, rn)
        else:
            feats.text.append(name)
    left = brk["records"].get(left_name) or next(iter(brk["records"].values()), {})
    feats.context = {k: left.get(k) for k in ("currency", "counterparty", "amount")}
    return feats
