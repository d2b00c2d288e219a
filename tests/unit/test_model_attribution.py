"""The learned cause model and the learner: rules on day one, better with labels, persisted
with the feedback offset so a restart neither forgets nor learns a label twice."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import river

from greenai.up import DEMO_RECON
from streams.attribution import learner as learner_module
from streams.attribution.attributor import Attributor
from streams.attribution.comparison import CANDIDATES, compare, table
from streams.attribution.engine import Engine
from streams.attribution.evaluation import evaluate, plot, text
from streams.attribution.features import extract, vector
from streams.attribution.labelled import LabelledBreak, labelled_breaks
from streams.attribution.learner import IncompatibleCheckpoint, Learner, dumps, loads
from streams.attribution.model import CauseModel
from streams.attribution.rules import attribute as rule_attribute
from streams.domain.vocabulary import CAUSES
from streams.feedback import (
    feedback_codec,
    label_event,
    read_snapshot,
    reverse_event,
    rollback_event,
)
from streams.recon import Recon, load_recon


@pytest.fixture(scope="module")
def demo() -> Recon:
    return load_recon(DEMO_RECON)


@pytest.fixture(scope="module")
def stream(demo: Recon) -> list[LabelledBreak]:
    return list(labelled_breaks(demo, 400, seed=21))


def _labels(demo: Recon, breaks: list[LabelledBreak], flip: bool = False) -> list[dict[str, Any]]:
    """LABEL feedback events for breaks (``flip``: every cause wrong, a drifting analyst)."""
    events = []
    for i, lb in enumerate(breaks):
        brk = lb.brk | {"break_id": f"b-{i}", "cause": None, "disposition": None}
        cause = "UNKNOWN" if flip else lb.cause
        events.append(
            label_event(brk, demo.source_names, demo.fx_rates, cause, analyst="ana", origin="test")
        )
    # the codec is the contract: learn from what a worker would decode
    codec = feedback_codec()
    return [codec.decode(codec.encode(e)) for e in events]


def _no_versions(version: int) -> bytes:
    raise LookupError(version)


def _fold(learner: Learner, events: list[dict[str, Any]], start: int = 0) -> None:
    for offset, event in enumerate(events, start):
        learner.apply(offset, event, _no_versions)


def _probe(learner: Learner, demo: Recon, breaks: list[LabelledBreak]) -> list[tuple[str, float]]:
    out = []
    for lb in breaks:
        found, _ = learner.attributor.attribute(extract(lb.brk, demo.source_names), demo.fx_rates)
        out.append((found.cause, found.confidence))
    return out


def test_the_compiled_model_gives_rivers_probabilities(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    model = CauseModel()
    for lb in stream[:150]:
        model.learn(vector(extract(lb.brk, demo.source_names), demo.fx_rates), lb.cause)
    for lb in stream[150:250]:
        v = vector(extract(lb.brk, demo.source_names), demo.fx_rates)
        river_says = model.classifier.predict_proba_one(model.prepare(v))
        scaled, cats = model.compiled.inputs(v)
        fast = dict(zip(CAUSES, model.compiled.proba(scaled, cats), strict=True))
        assert {c: fast[c] for c in river_says} == pytest.approx(river_says, abs=1e-9)
        assert all(fast[c] == 0 for c in CAUSES if c not in river_says)


def test_without_labels_the_rules_decide(demo: Recon, stream: list[LabelledBreak]) -> None:
    attributor = Attributor()
    for lb in stream[:50]:
        f = extract(lb.brk, demo.source_names)
        found, _ = attributor.attribute(f, demo.fx_rates)
        assert found == rule_attribute(f, demo.fx_rates)


def test_labels_make_it_better_than_the_rules_on_breaks_it_never_saw(demo: Recon) -> None:
    report = evaluate(demo, 200, delay=25, seed=5, holdout=400)
    at_200 = report.holdout_at_target
    assert at_200 >= 0.95 and at_200 > report.holdout[0]["rules"] + 0.05, report.holdout
    assert report.prequential_accuracy > report.rules_prequential_accuracy


def test_the_eval_prints_per_cause_figures_and_writes_a_plot(demo: Recon, tmp_path: Path) -> None:
    report = evaluate(demo, 60, delay=10, seed=6, holdout=200)
    out = text(report)
    assert "rule-only baseline" in out and "FAT_FINGER" in out and "precision" in out
    png = plot(report, tmp_path / "eval.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explanations_name_features_and_values(demo: Recon, stream: list[LabelledBreak]) -> None:
    learner = Learner()
    _fold(learner, _labels(demo, stream[:120]))
    fx = next(lb for lb in stream[200:] if lb.cause == "FX")
    found, _ = learner.attributor.attribute(extract(fx.brk, demo.source_names), demo.fx_rates)
    assert found.cause == "FX" and 0 < found.confidence <= 1
    assert found.explanation and all(e.weight > 0 and e.value for e in found.explanation)
    assert len({e.feature for e in found.explanation}) == len(found.explanation)


def test_an_offset_already_reflected_is_not_learned_again(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    events = _labels(demo, stream[:30])
    learner = Learner()
    _fold(learner, events)
    _fold(learner, events)  # the same offsets, replayed
    assert learner.labels_seen == 30 and learner.next_offset == 30


def test_restart_from_a_checkpoint_then_replay_learns_every_label_exactly_once(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    events = _labels(demo, stream[:120])
    straight = Learner()
    _fold(straight, events)

    crashed = Learner()
    _fold(crashed, events[:50])
    checkpoint = dumps(crashed)
    _fold(crashed, events[50:80])  # learned, then the process died before checkpointing

    restarted = loads(checkpoint)
    assert restarted.next_offset == 50
    _fold(restarted, events)  # the worker replays the topic from its start: 0..49 are no-ops
    assert restarted.part.labels == straight.part.labels
    assert restarted.labels_seen == 120
    probe = stream[200:260]
    assert _probe(restarted, demo, probe) == _probe(straight, demo, probe)
    assert (
        restarted.attributor.model.compiled.w_num == straight.attributor.model.compiled.w_num
    ).all()


def test_a_checkpoint_records_the_river_version_and_refuses_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = dumps(Learner())
    assert pickle.loads(data)["river"] == river.__version__ == "0.26.1"
    monkeypatch.setattr(learner_module.river, "__version__", "0.99.0")
    with pytest.raises(IncompatibleCheckpoint, match=r"river 0\.26\.1"):
        loads(data)


def test_rollback_returns_to_the_stored_model_and_keeps_reading_forward(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    events = _labels(demo, stream[:40])
    learner = Learner()
    _fold(learner, events[:20])
    stored = {7: dumps(learner)}
    _fold(learner, events[20:40], start=20)
    assert learner.labels_seen == 40
    rollback = rollback_event(7, analyst="ana", origin="test", reason="bad labels")
    learner.apply(40, rollback, stored.__getitem__)
    assert learner.labels_seen == 20 and learner.based_on == 7 and learner.next_offset == 41
    assert learner.overrides.keys() >= {"b-25"}  # analysts' word on breaks stays


def test_drift_in_the_error_stream_raises_an_alert(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    learner = Learner()
    alerts = []
    good, bad = _labels(demo, stream[:200]), _labels(demo, stream[200:320], flip=True)
    for offset, event in enumerate([*good, *bad]):
        alerts += learner.apply(offset, event, _no_versions)
    assert alerts and alerts[0].offset >= 200, [a.offset for a in alerts]
    assert learner.part.drifts == len(alerts)
    assert "error rate" in alerts[0].message
    assert learner.metrics()["drifts"] == len(alerts)


def test_an_analysts_word_wins_for_later_versions_of_the_break(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    engine = Engine()
    fee = next(lb for lb in stream if lb.cause == "FEE")
    brk = fee.brk | {"break_id": "b-x"}
    first = engine.process(brk, demo)
    assert first.decision.decided_by == "model"
    label = _labels(demo, [fee])[0] | {"break_id": "b-x", "cause": "FAT_FINGER"}
    reverse = reverse_event(brk, "ESCALATE", analyst="bo", origin="test", reason=None)
    engine.learner.apply(0, label, _no_versions)
    engine.learner.apply(1, reverse, _no_versions)
    later = engine.process(brk | {"version": brk["version"] + 1}, demo)
    assert later.datum["cause"] == "FAT_FINGER" and later.datum["confidence"] == 1.0
    assert later.datum["disposition"] == "ESCALATE"
    assert later.decision.decided_by == "analyst" and later.decision.model_offset == 2


def test_a_label_carries_everything_learning_needs(
    demo: Recon, stream: list[LabelledBreak]
) -> None:
    (event,) = _labels(demo, stream[:1])
    snap = read_snapshot(event)
    assert snap is not None and snap.sources == demo.source_names
    assert snap.fx_rates["EURUSD"] == Decimal("1.085")
    assert extract(snap.brk, snap.sources) == extract(stream[0].brk, demo.source_names)


def test_the_comparison_measures_every_candidate(demo: Recon) -> None:
    rows = compare(demo, 80, delay=10, seeds=(1,))
    assert [r.model for r in rows] == list(CANDIDATES)
    assert all(0 <= r.accuracy <= 1 and r.us_per_break > 0 for r in rows)
    assert "progressive" not in table(rows, 80, 10, 1) and "| rules only" in table(rows, 80, 10, 1)
