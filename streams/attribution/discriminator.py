"""The Discriminator (pure): what a break needs — auto-close, a queue, or escalation.

The decision weighs the cause and its confidence, the materiality (money at stake in the
recon's reporting currency, converted with its ``fx_rates``), how unusual the break looks
(the anomaly score) and the recon's :class:`DiscriminatorRules`. Every decision carries the
reasons that made it, for the audit trail and for analysts reversing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from streams.attribution.features import AMOUNT_FIELDS, Features
from streams.domain.discriminator_rules import DEFAULT_RULES, DiscriminatorRules

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Decision:
    disposition: str
    priority: int
    materiality: Decimal
    reasons: tuple[str, ...] = ()


def to_reporting(
    amount: Decimal, currency: str | None, rates: dict[str, Decimal], reporting: str
) -> Decimal | None:
    """``amount`` in ``reporting`` currency via a direct or inverse rate (None: no rate)."""
    if not currency or currency == reporting:
        return amount
    rate = rates.get(f"{currency}{reporting}")
    if rate:
        return amount * rate
    rate = rates.get(f"{reporting}{currency}")
    if rate:
        return amount / rate
    return None


def materiality(
    f: Features, rates: dict[str, Decimal] | None = None, reporting: str = "USD"
) -> Decimal:
    """Money at stake in the reporting currency: for an amount mismatch, the difference of
    both sides each converted from its own currency (an FX break at the reference rate is
    nearly nothing); otherwise the whole booked amount (a trade settling late, missing or
    doubled puts all of it at risk). Amounts without a rate count as they are."""
    rates = rates or {}
    pair = f.amount_pair()
    if f.kind == "MISMATCH" and pair and pair[0] in AMOUNT_FIELDS:
        _, left, right = pair
        lc, rc = f.currencies
        lr, rr = to_reporting(left, lc, rates, reporting), to_reporting(right, rc, rates, reporting)
        money = abs(rr - lr) if lr is not None and rr is not None else abs(right - left)
        return money.quantize(CENT)
    booked = f.amount()
    if booked is None:
        return Decimal(0)
    amount, currency = booked
    converted = to_reporting(amount, currency, rates, reporting)
    return abs(converted if converted is not None else amount).quantize(CENT)


def priority_of(money: Decimal, rules: DiscriminatorRules) -> int:
    return next((p for p, floor in enumerate(rules.priority_bands, 1) if money >= floor), 5)


def decide(
    f: Features,
    cause: str,
    confidence: float,
    *,
    anomaly: float = 0.0,
    rules: DiscriminatorRules | None = None,
    fx_rates: dict[str, Decimal] | None = None,
    money: Decimal | None = None,
) -> Decision:
    """The disposition and priority (1 most urgent .. 5) of an attributed break
    (``money``: its materiality when already known)."""
    rules = rules or DEFAULT_RULES
    ccy = rules.reporting_currency
    money = materiality(f, fx_rates, ccy) if money is None else money
    priority = priority_of(money, rules)
    at_stake = f"materiality {money} {ccy}"
    if anomaly >= rules.anomaly_escalate and money >= rules.anomaly_min_materiality:
        return Decision(
            "ESCALATE",
            min(priority, 2),
            money,
            (f"unusual break (anomaly {anomaly:.2f} >= {rules.anomaly_escalate})", at_stake),
        )
    limit = rules.auto_close.get(cause)
    if (
        limit is not None
        and money < limit
        and confidence >= rules.auto_close_min_confidence
        and anomaly < rules.anomaly_escalate
    ):
        return Decision(
            "AUTO_CLOSE",
            5,
            money,
            (
                f"{cause} below the auto-close limit of {limit} {ccy}",
                f"confidence {confidence:.2f} >= {rules.auto_close_min_confidence}",
                at_stake,
            ),
        )
    if cause in rules.escalate_causes and money >= rules.escalate_materiality:
        return Decision(
            "ESCALATE",
            min(priority, 2),
            money,
            (f"{cause} at or above {rules.escalate_materiality} {ccy}", at_stake),
        )
    reasons = [f"{cause} for an analyst", at_stake]
    if confidence < rules.low_confidence:
        priority = max(1, priority - 1)
        reasons.append(f"low confidence {confidence:.2f}: priority raised")
    return Decision("QUEUE", priority, money, tuple(reasons))
