"""The Discriminator: money at stake in the reporting currency, the recon's rules, anomalies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from greenai.up import DEMO_RECON
from streams.attribution.anomaly import WINDOW, AnomalyScorer
from streams.attribution.discriminator import decide, materiality, to_reporting
from streams.attribution.features import Features, extract, vector
from streams.attribution.labelled import labelled_breaks
from streams.domain.discriminator_rules import DiscriminatorRules
from streams.recon import Recon, load_recon

D = Decimal
RATES = {"EURUSD": D("1.0850"), "USDJPY": D("151.20")}


def _amounts(left: str, right: str, lc: str = "USD", rc: str = "USD") -> Features:
    brk: dict[str, Any] = {
        "recon": "r",
        "kind": "MISMATCH",
        "fields": [{"field": "amount", "values": {"l": left, "r": right}}],
        "records": {
            "l": {"amount": left, "currency": lc},
            "r": {"amount": right, "currency": rc},
        },
    }
    return extract(brk, ["l", "r"])


def test_amounts_convert_to_the_reporting_currency_both_ways() -> None:
    assert to_reporting(D("100"), "EUR", RATES, "USD") == D("108.5000")
    assert to_reporting(D("15120"), "JPY", RATES, "USD") == D(100)
    assert to_reporting(D("100"), "CHF", RATES, "USD") is None


def test_an_fx_break_at_the_reference_rate_is_hardly_material() -> None:
    fx = _amounts("1000.00", "1085.00", lc="EUR", rc="USD")
    assert materiality(fx, RATES) == D("0.00")
    yen = _amounts("151200", "151300", lc="JPY", rc="JPY")
    assert materiality(yen, RATES) == D("0.66")  # 100 JPY


def test_a_lone_booking_puts_its_whole_amount_at_stake() -> None:
    missing = {
        "recon": "r",
        "kind": "MISSING",
        "missing_in": "r",
        "fields": [],
        "records": {"l": {"amount": "2000000.00", "currency": "EUR"}},
    }
    f = extract(missing, ["l", "r"])
    assert materiality(f, RATES) == D("2170000.00")
    decision = decide(f, "MISSING_BOOKING", 0.9, fx_rates=RATES)
    assert (decision.disposition, decision.priority) == ("ESCALATE", 1)
    assert any("MISSING_BOOKING" in r for r in decision.reasons)


def test_the_recon_can_auto_close_fx_below_a_threshold() -> None:
    rules = DiscriminatorRules.model_validate({"auto_close": {"ROUNDING": 1, "FX": 5.0}})
    fx = _amounts("1000.00", "1087.00", lc="EUR", rc="USD")  # 1.50 USD off the rate
    assert decide(fx, "FX", 0.9, rules=rules, fx_rates=RATES).disposition == "AUTO_CLOSE"
    assert decide(fx, "FX", 0.9, fx_rates=RATES).disposition == "QUEUE"  # default rules
    assert decide(fx, "FX", 0.6, rules=rules, fx_rates=RATES).disposition == "QUEUE"


def test_an_unusual_material_break_is_escalated_whatever_its_cause() -> None:
    f = _amounts("50000.00", "75000.00")
    assert decide(f, "FEE", 0.9).disposition == "QUEUE"
    decision = decide(f, "FEE", 0.9, anomaly=0.95)
    assert decision.disposition == "ESCALATE" and decision.priority <= 2
    assert "anomaly" in decision.reasons[0]
    small = _amounts("100.00", "100.03")
    assert decide(small, "ROUNDING", 0.95, anomaly=0.95).disposition == "QUEUE"  # not auto


def test_low_confidence_raises_the_priority() -> None:
    f = _amounts("10000.00", "12000.00")
    sure, unsure = decide(f, "FEE", 0.9), decide(f, "FEE", 0.3)
    assert unsure.priority == sure.priority - 1


def test_the_recon_yaml_carries_the_discriminator_rules(tmp_path: Any) -> None:
    data = yaml.safe_load(DEMO_RECON.read_text())
    data["discriminator"] = {"reporting_currency": "EUR", "auto_close": {"FX": 2.5}}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    recon = load_recon(path)
    assert recon.discriminator is not None
    assert recon.discriminator.auto_close == {"FX": D("2.5")}
    assert Recon.from_json(recon.to_json()).discriminator == recon.discriminator
    data["discriminator"] = {"auto_close": {"TYPO": 1}}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match="unknown cause"):
        load_recon(path)


def test_half_space_trees_score_an_odd_break_above_the_usual_ones() -> None:
    recon = load_recon(DEMO_RECON)
    scorer = AnomalyScorer()
    usual = [
        vector(extract(lb.brk, recon.source_names), recon.fx_rates)
        for lb in labelled_breaks(recon, WINDOW * 4, seed=9)
    ]
    assert scorer.score(usual[0]) == 0.0  # no reference window yet
    for v in usual:
        scorer.learn(v)
    odd = dict(usual[0]) | {
        "fields.n": 9.0,
        "amount.delta_abs_log10": 9.5,
        "dates.business_days_max": 20.0,
        "text.similarity": 1.0,
    }
    typical = [scorer.score(v) for v in usual[:20]]
    assert scorer.score(odd) > max(typical)


def test_the_anomaly_score_depends_on_the_labels_learned_not_on_the_breaks_seen() -> None:
    """Scoring learns nothing: the same break scores the same whatever was scored before,
    so a replay or a crash gives the same score (and disposition) as a clean run."""
    recon = load_recon(DEMO_RECON)
    vectors = [
        vector(extract(lb.brk, recon.source_names), recon.fx_rates)
        for lb in labelled_breaks(recon, WINDOW * 2, seed=4)
    ]
    scorer = AnomalyScorer()
    for v in vectors[:WINDOW]:
        scorer.learn(v)
    first = [scorer.score(v) for v in vectors[WINDOW:]]
    again = [scorer.score(v) for v in reversed(vectors[WINDOW:])]
    assert first == list(reversed(again))
