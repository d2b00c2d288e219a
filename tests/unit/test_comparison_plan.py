"""The compiled comparison plan answers exactly as the rules read field by field.

The reference here is ``diff_records`` as it was before the plan: for every compared field,
the recon's type and rule looked up again and ``values_agree`` / ``delta`` applied. The plan
must give the same diffs (fields, values, deltas, order) on thousands of generated pairs: the
demo feed with every cause of break, and random values of every type under every rule,
nulls, NaN and infinities, unequal text that normalises equal, instants in other offsets.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from streams.diff.compare import (
    FieldDiff,
    Fields,
    comparison_plan,
    delta,
    diff_records,
    values_agree,
)
from streams.ingest.synthetic import TradeGenerator
from streams.ingest.validate import canonical_row
from streams.recon import Recon, load_recon
from streams.values import Value

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "trades.yaml"


def rule_by_rule(recon: Recon, records: dict[str, Fields]) -> list[FieldDiff]:
    left_name, *others = recon.source_names
    left = records[left_name]
    diffs = []
    for field in recon.compared_fields():
        ftype, rule = recon.field_type(field), recon.rule(field)
        if all(values_agree(left.get(field), records[o].get(field), ftype, rule) for o in others):
            continue
        values = {name: records[name].get(field) for name in recon.source_names}
        last = records[others[-1]].get(field)
        diffs.append(FieldDiff(field, values, delta(left.get(field), last, ftype)))
    return diffs


def same_diffs(a: list[FieldDiff], b: list[FieldDiff]) -> bool:
    """Alike to the last digit and type: a delta of 0 is not 0.00, an int is not a Decimal
    (by repr: a signalling NaN cannot even be compared with itself)."""
    return [repr(d) for d in a] == [repr(d) for d in b]


def test_the_plan_finds_the_rule_by_rule_diffs_on_the_demo_feed_with_every_cause() -> None:
    recon = load_recon(DEMO)
    generator = TradeGenerator(seed=11, break_rate=0.6, variety=True)
    compared = 0
    for _ in range(3000):
        pair = generator.pair()
        ledgers = [canonical_row(recon, "ledger", r).fields for r in pair.ledger]
        custodies = [canonical_row(recon, "custody", r).fields for r in pair.custody]
        for ledger in ledgers:
            for custody in custodies:
                records = {"ledger": ledger, "custody": custody}
                assert same_diffs(diff_records(recon, records), rule_by_rule(recon, records))
                compared += 1
    assert compared > 2000


EVERY_RULE = {
    "name": "every_rule",
    "key": ["id"],
    "sources": {
        s: {
            "fields": {
                "id": "string",
                "text": "string",
                "name": "string",
                "exact": "decimal",
                "money": "decimal",
                "price": "decimal",
                "both": "decimal",
                "count": "integer",
                "near_count": "integer",
                "day": "date",
                "near_day": "date",
                "at": "timestamp",
                "near_at": "timestamp",
                "flag": "boolean",
                "mixed": "string" if s == "a" else "integer",
            }
        }
        for s in ("a", "b", "c")
    },
    "compare": {
        "name": {"ignore_case": True, "trim": True},
        "money": {"abs_tol": 0.01},
        "price": {"rel_tol": 0.001},
        "both": {"abs_tol": 0.5, "rel_tol": 0.01},
        "near_count": {"abs_tol": 1},
        "near_day": {"tol_days": 1},
        "near_at": {"tol_days": 2},
    },
}


def some_value(field: str, rng: random.Random) -> Value:
    if rng.random() < 0.08:
        return None
    match field:
        case "text" | "name":
            return rng.choice(["GSCO", "gsco", " GSCO ", "G  SCO", "Caf\u00e9", "Cafe\u0301", ""])
        case "exact" | "money" | "price" | "both":
            return rng.choice(
                [
                    Decimal("100.00"),
                    Decimal("100"),
                    Decimal("100.01"),
                    Decimal("100.011"),
                    Decimal("99.5"),
                    Decimal("100.1"),
                    Decimal("-0"),
                    Decimal("0"),
                    Decimal("NaN"),
                    Decimal("sNaN"),
                    Decimal("Infinity"),
                    Decimal("-Infinity"),
                    5,
                ]
            )
        case "count" | "near_count":
            return rng.choice([0, 1, 2, 5, -1, 2**62])
        case "day" | "near_day":
            return date(2026, 1, 5) + timedelta(days=rng.choice([0, 0, 1, -1, 2]))
        case "at" | "near_at":
            hours = rng.choice([0, 0, 30, -49])
            base = datetime(2026, 1, 5, 12, tzinfo=UTC) + timedelta(hours=hours)
            return base.astimezone(timezone(timedelta(hours=rng.choice([0, 2, -5]))))
        case "flag":
            return rng.choice([True, False])
        case "mixed":
            return rng.choice(["5", "05", 5, 6])
    return "x"


def test_the_plan_answers_as_the_rules_on_random_values_of_every_type_and_rule() -> None:
    recon = Recon.model_validate(EVERY_RULE)
    rng = random.Random(5)
    fields = list(EVERY_RULE["sources"]["a"]["fields"])  # type: ignore[index]
    found = 0
    for _ in range(5000):
        base = {f: some_value(f, rng) for f in fields}
        records = {
            s: {f: (some_value(f, rng) if rng.random() < 0.3 else base[f]) for f in fields}
            for s in ("a", "b", "c")
        }
        records["a"]["mixed"] = rng.choice(["5", "05", None])
        diffs = diff_records(recon, records)
        assert same_diffs(diffs, rule_by_rule(recon, records))
        found += len(diffs)
    assert found > 10000


def test_a_recon_is_compiled_once_and_a_copy_compiles_afresh() -> None:
    recon = load_recon(DEMO)
    assert comparison_plan(recon) is comparison_plan(recon)
    copy = recon.model_copy(deep=True)
    copy.compare.pop("amount")
    assert comparison_plan(copy) is not comparison_plan(recon)
    assert [f.field for f in comparison_plan(copy).fields] == copy.compared_fields()
    ledger = {"trade_id": "T1", "amount": Decimal("100.00")}
    records = {"ledger": ledger, "custody": ledger | {"amount": Decimal("100.01")}}
    assert diff_records(recon, records) == []  # abs_tol 0.01
    assert [d.field for d in diff_records(copy, records)] == ["amount"]  # exact now
