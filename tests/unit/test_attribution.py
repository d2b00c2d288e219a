from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from greenai.up import DEMO_RECON
from streams.attribution.discriminator import decide
from streams.attribution.features import business_days, extract, is_transposition
from streams.attribution.labelled import break_of
from streams.attribution.rules import attribute
from streams.ingest.synthetic import CAUSES, TradeGenerator, TradePair
from streams.recon import Recon, load_recon


def _break_of(pair: TradePair, recon: Recon) -> dict[str, Any]:
    """The Break datum the diff publishes for a generated trade pair (the real lifecycle)."""
    event = break_of(recon, pair, datetime(2026, 11, 26, tzinfo=UTC))
    assert event is not None, f"{pair.cause} produced no break"
    return event.datum()


def test_business_days_skip_weekends() -> None:
    from datetime import date

    assert business_days(date(2026, 11, 27), date(2026, 11, 30)) == 1  # Fri -> Mon
    assert business_days(date(2026, 11, 30), date(2026, 11, 27)) == -1


def test_transposed_digits_are_recognised() -> None:
    assert is_transposition(Decimal("1234.50"), Decimal("1243.50"))
    assert not is_transposition(Decimal("1234.50"), Decimal("1234.51"))


def test_rules_name_the_injected_cause_of_generated_breaks() -> None:
    recon = load_recon(DEMO_RECON)
    generator = TradeGenerator(seed=11)
    right: Counter[str] = Counter()
    for _ in range(40):
        for cause in CAUSES:
            brk = _break_of(generator.pair(cause), recon)
            found = attribute(extract(brk, recon.source_names), recon.fx_rates)
            right[cause] += found.cause == cause
    # The rule prior is good but not perfect; the learned model (issue 5) improves on it.
    assert all(right[c] >= 30 for c in CAUSES), right


def test_discriminator_auto_closes_small_rounding_and_escalates_big_fat_fingers() -> None:
    small = extract(
        {
            "kind": "MISMATCH",
            "records": {},
            "fields": [{"field": "amount", "values": {"l": "100.00", "r": "100.03"}}],
        },
        ["l", "r"],
    )
    assert decide(small, "ROUNDING", 0.9).disposition == "AUTO_CLOSE"
    big = extract(
        {
            "kind": "MISMATCH",
            "records": {},
            "fields": [{"field": "amount", "values": {"l": "250000.00", "r": "2500000.00"}}],
        },
        ["l", "r"],
    )
    decision = decide(big, "FAT_FINGER", 0.9)
    assert decision.disposition == "ESCALATE" and decision.priority == 1
