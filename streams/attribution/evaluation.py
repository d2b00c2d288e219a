"""Honest quality figures (pure): the attributor as it runs, on generated labelled breaks.

A stream of breaks arrives; each is attributed (rules + model, as the worker does) before
its label is known, and its label arrives ``delay`` breaks later: prequential accuracy. A
held-out set from another seed, never trained on, is scored whenever the model has learned
a checkpoint's number of labels. The rules alone are the baseline on both.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.attribution.attributor import Attributor
from streams.attribution.features import Features, Vector, extract
from streams.attribution.labelled import labelled_breaks
from streams.attribution.learner import per_cause
from streams.attribution.rules import attribute as rule_attribute
from streams.recon import Recon

CHECKPOINTS = (0, 10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000)
TARGET_LABELS = 200
TARGET_ACCURACY = 0.95
ROLLING = 100


@dataclass
class Report:
    labels: int
    delay: int
    seed: int
    holdout_size: int
    prequential_accuracy: float = 0.0  # every break of the stream
    prequential_after_target: float = 0.0  # breaks predicted once TARGET_LABELS were learned
    rules_prequential_accuracy: float = 0.0
    holdout: list[dict[str, float]] = field(default_factory=list)  # per checkpoint
    rolling: list[tuple[int, float]] = field(default_factory=list)  # (labels seen, accuracy)
    per_cause: dict[str, dict[str, float]] = field(default_factory=dict)  # final, held out
    rules_per_cause: dict[str, dict[str, float]] = field(default_factory=dict)
    causes: dict[str, int] = field(default_factory=dict)  # labels learned per cause

    @property
    def holdout_at_target(self) -> float:
        return next((h["model"] for h in self.holdout if h["labels"] == TARGET_LABELS), 0.0)

    @property
    def meets_target(self) -> bool:
        return self.holdout_at_target >= TARGET_ACCURACY

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {
            "holdout_at_target": self.holdout_at_target,
            "meets_target": self.meets_target,
        }


def _read(recon: Recon, n: int, seed: int) -> list[tuple[Features, str]]:
    return [
        (extract(lb.brk, recon.source_names), lb.cause)
        for lb in labelled_breaks(recon, n, seed=seed)
    ]


def _score(
    attributor: Attributor, data: list[tuple[Features, str]], recon: Recon
) -> tuple[float, Counter[tuple[str, str]]]:
    confusion: Counter[tuple[str, str]] = Counter()
    for f, cause in data:
        found, _ = attributor.attribute(f, recon.fx_rates)
        confusion[(cause, found.cause)] += 1
    right = sum(n for (t, p), n in confusion.items() if t == p)
    return right / max(1, len(data)), confusion


def evaluate(
    recon: Recon, labels: int = 600, *, delay: int = 25, seed: int = 1, holdout: int = 1000
) -> Report:
    report = Report(labels, delay, seed, holdout)
    stream = _read(recon, labels + delay, seed)
    test = _read(recon, holdout, seed + 10_000)
    rules_confusion: Counter[tuple[str, str]] = Counter(
        (cause, rule_attribute(f, recon.fx_rates).cause) for f, cause in test
    )
    rules_holdout = sum(n for (t, p), n in rules_confusion.items() if t == p) / len(test)
    attributor = Attributor()
    pending: deque[tuple[Vector, str]] = deque()
    hits: deque[bool] = deque(maxlen=ROLLING)
    right = rules_right = after_right = after_seen = learned = 0
    checkpoints = [c for c in CHECKPOINTS if c <= labels]

    def checkpoint() -> None:
        accuracy, _ = _score(attributor, test, recon)
        report.holdout.append(
            {"labels": learned, "model": round(accuracy, 4), "rules": round(rules_holdout, 4)}
        )

    for f, cause in stream:
        if checkpoints and learned == checkpoints[0]:
            checkpoints.pop(0)
            checkpoint()
        found, v = attributor.attribute(f, recon.fx_rates)
        hit = found.cause == cause
        right += hit
        rules_right += rule_attribute(f, recon.fx_rates).cause == cause
        hits.append(hit)
        if learned >= TARGET_LABELS:
            after_right += hit
            after_seen += 1
        pending.append((v, cause))
        if len(pending) > delay and learned < labels:
            attributor.learn(*pending.popleft())
            learned += 1
            report.rolling.append((learned, sum(hits) / len(hits)))
    if checkpoints and learned == checkpoints[0]:
        checkpoint()
    _, confusion = _score(attributor, test, recon)
    report.prequential_accuracy = round(right / len(stream), 4)
    report.rules_prequential_accuracy = round(rules_right / len(stream), 4)
    report.prequential_after_target = round(after_right / after_seen, 4) if after_seen else 0.0
    report.per_cause = per_cause(confusion)
    report.rules_per_cause = per_cause(rules_confusion)
    report.causes = dict(Counter(c for _, c in stream[:labels]))
    return report


def text(report: Report) -> str:
    """The report as an analyst reads it."""
    lines = [
        f"attribution eval: {report.labels} labels arriving {report.delay} breaks late "
        f"(seed {report.seed}), held-out set of {report.holdout_size} breaks (seed "
        f"{report.seed + 10_000}) never trained on",
        "",
        f"prequential accuracy (rules + model, every break) : {report.prequential_accuracy:.2%}",
        f"prequential accuracy after {TARGET_LABELS} labels              : "
        f"{report.prequential_after_target:.2%}",
        f"rule-only baseline, prequential                   : "
        f"{report.rules_prequential_accuracy:.2%}",
        f"held-out accuracy after {TARGET_LABELS} labels (target >= {TARGET_ACCURACY:.0%})  : "
        f"{report.holdout_at_target:.2%} {'MET' if report.meets_target else 'NOT MET'}",
        "",
        "held-out accuracy by labels learned:",
        "  labels   model    rules",
    ]
    lines += [f"  {h['labels']:>6}  {h['model']:.2%}  {h['rules']:.2%}" for h in report.holdout]
    lines += ["", "per cause, held out, final model vs rules:"]
    lines.append(
        f"  {'cause':<18} {'precision':>9} {'recall':>7}   {'rules P':>7} {'rules R':>7}  n"
    )
    none = {"precision": 0.0, "recall": 0.0, "support": 0}
    for cause in sorted(report.per_cause.keys() | report.rules_per_cause.keys()):
        m = report.per_cause.get(cause, none)
        r = report.rules_per_cause.get(cause, none)
        lines.append(
            f"  {cause:<18} {m['precision']:>9.2%} {m['recall']:>7.2%}   "
            f"{r['precision']:>7.2%} {r['recall']:>7.2%}  {int(m['support'])}"
        )
    return "\n".join(lines)


def plot(report: Report, path: Path) -> Path:
    """Accuracy against labels seen, as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    xs = [h["labels"] for h in report.holdout]
    ax.plot(xs, [h["model"] for h in report.holdout], "o-", label="held out: rules + model")
    ax.plot(
        [x for x, _ in report.rolling],
        [a for _, a in report.rolling],
        "-",
        alpha=0.6,
        label=f"prequential (last {ROLLING} breaks)",
    )
    ax.axhline(report.holdout[0]["rules"], color="grey", ls="--", label="rules only (held out)")
    ax.axhline(TARGET_ACCURACY, color="red", ls=":", label=f"target {TARGET_ACCURACY:.0%}")
    ax.axvline(TARGET_LABELS, color="red", ls=":", alpha=0.4)
    ax.set_xlabel("labels learned")
    ax.set_ylabel("top-1 accuracy")
    ax.set_ylim(0.5, 1.01)
    ax.set_title("greenai attribution: accuracy against labels seen")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
