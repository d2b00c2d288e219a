"""The Discriminator (pure): what a break needs — auto-close, a queue, or escalation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from streams.attribution.features import Features, as_decimal

AUTO_CLOSE_ROUNDING_BELOW = Decimal(1)
ESCALATE_CAUSES = {"FAT_FINGER", "MISSING_BOOKING", "DUPLICATE_BOOKING"}
ESCALATE_MATERIALITY = Decimal(100_000)
PRIORITY_BANDS = (
    (Decimal(1_000_000), 1),
    (Decimal(100_000), 2),
    (Decimal(10_000), 3),
    (Decimal(1_000), 4),
)


@dataclass(frozen=True)
class Decision:
    disposition: str
    priority: int
    materiality: Decimal


def materiality(f: Features) -> Decimal:
    """How much money is at stake: the amount delta, or the whole amount of a lone booking."""
    pair = f.amount_pair()
    if f.kind == "MISMATCH" and pair:
        return abs(pair[2] - pair[1])
    return abs(as_decimal(f.context.get("amount")) or Decimal(0))


def decide(f: Features, cause: str, confidence: float) -> Decision:
    money = materiality(f)
    priority = next((p for floor, p in PRIORITY_BANDS if money >= floor), 5)
    if cause == "ROUNDING" and confidence >= 0.8 and money < AUTO_CLOSE_ROUNDING_BELOW:
        return Decision("AUTO_CLOSE", 5, money)
    if cause in ESCALATE_CAUSES and money >= ESCALATE_MATERIALITY:
        return Decision("ESCALATE", min(priority, 2), money)
    if cause == "UNKNOWN" and money >= ESCALATE_MATERIALITY:
        return Decision("ESCALATE", priority, money)
    return Decision("QUEUE", priority, money)
