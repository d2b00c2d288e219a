from __future__ import annotations

from collections import Counter
from decimal import Decimal

from greenai.up import DEMO_RECON
from streams.attribution.discriminator import decide
from streams.attribution.features import business_days, extract, is_transposition
from streams.attribution.rules import attribute
from streams.diff.compare import diff_records
from streams.ingest.synthetic import CAUSES, TradeGenerator
from streams.ingest.validate import canonical_row
from streams.recon import load_recon
from streams.values import render


def _break_of(pair, recon):  # type: ignore[no-untyped-def]
    """The Break datum the diff would publish for a generated trade pair."""
    rows = {
        "ledger": [canonical_row(recon, "ledger", r) for r in pair.ledger],
        "custody": [canonical_row(recon, "custody", r) for r in pair.custody],
    }
    records = {s: {f: render(v) for f, v in rs[0].fields.items()} for s, rs in rows.items() if rs}
    if len(rows["ledger"]) > 1:
        kind, fields = "DUPLICATE", []
    elif len(records) < 2:
        kind, fields = "MISSING", []
    else:
        kind = "MISMATCH"
        fields = [
            {
                "field": d.field,
                "values": {s: render(v) for s, v in d.values.items()},
                "delta": render(d.delta),
            }
            for d in diff_records(recon, {s: rs[0].fields for s, rs in rows.items()})
        ]
    return {"kind": kind, "fields": fields, "records": records}


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
