"""Choosing the model by measurement (pure): River candidates compared with
``evaluate.progressive_val_score`` on generated labelled breaks, labels arriving late.

Every candidate sees the same vectors in the same order; each label is revealed ``delay``
breaks after its break was predicted (analysts label late). ``greenai model compare`` prints
the table; docs/attribution.md records it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from river import base, compose, evaluate, forest, metrics, neighbors, preprocessing, tree

from streams.attribution.attributor import blend
from streams.attribution.features import Vector, extract, vector
from streams.attribution.labelled import labelled_breaks
from streams.attribution.model import CauseModel
from streams.attribution.rules import Attribution
from streams.attribution.rules import attribute as rule_attribute
from streams.recon import Recon

RULE = ("rule", "rule.confidence")


class CauseModelClassifier(base.Classifier):
    """The shipped :class:`CauseModel` as a River classifier."""

    def __init__(self) -> None:
        self.model = CauseModel()

    def learn_one(self, x: dict[Any, Any], y: Any) -> None:
        self.model.learn(_without_rule(x), y)

    def predict_proba_one(self, x: dict[Any, Any], **kwargs: Any) -> dict[Any, float]:
        return self.model.predict_proba(_without_rule(x))


class BlendedClassifier(CauseModelClassifier):
    """What the worker ships: the rule prior blended with :class:`CauseModel`."""

    def predict_proba_one(self, x: dict[Any, Any], **kwargs: Any) -> dict[Any, float]:
        rule = Attribution(str(x["rule"]), float(x["rule.confidence"]), ())
        return blend(rule, self.model.predict_proba(_without_rule(x)), self.model.labels)


class RulesClassifier(base.Classifier):
    """The rule prior alone (learns nothing): the baseline."""

    def learn_one(self, x: dict[Any, Any], y: Any) -> None:
        return None

    def predict_proba_one(self, x: dict[Any, Any], **kwargs: Any) -> dict[Any, float]:
        return {x["rule"]: 1.0}


def _without_rule(x: dict[str, Any]) -> Vector:
    return {k: v for k, v in x.items() if k not in RULE}


def _onehot_scaled() -> Any:
    return compose.Discard(*RULE) | (
        (compose.SelectType(str) | preprocessing.OneHotEncoder(drop_zeros=True))
        + (compose.SelectType(float) | preprocessing.StandardScaler())
    )


CANDIDATES: dict[str, Callable[[int], Any]] = {
    "forest.ARFClassifier(n_models=10)": lambda seed: (
        compose.Discard(*RULE) | forest.ARFClassifier(n_models=10, seed=seed)
    ),
    "tree.HoeffdingAdaptiveTreeClassifier()": lambda seed: (
        compose.Discard(*RULE) | tree.HoeffdingAdaptiveTreeClassifier(seed=seed)
    ),
    "tree.HoeffdingAdaptiveTreeClassifier(grace_period=20, delta=0.01)": lambda seed: (
        compose.Discard(*RULE)
        | tree.HoeffdingAdaptiveTreeClassifier(grace_period=20, delta=0.01, seed=seed)
    ),
    "neighbors.KNNClassifier(n_neighbors=5), one-hot + scaled": lambda seed: (
        _onehot_scaled() | neighbors.KNNClassifier(n_neighbors=5)
    ),
    "linear_model.SoftmaxRegression, one-hot + scaled (CauseModel)": lambda seed: (
        CauseModelClassifier()
    ),
    "rules only (baseline)": lambda seed: RulesClassifier(),
    "rules + CauseModel blend (shipped)": lambda seed: BlendedClassifier(),
}


@dataclass(frozen=True)
class Row:
    model: str
    accuracy: float  # prequential, every break (mean over runs)
    accuracy_sd: float
    macro_f1: float
    accuracy_after_200: float  # prequential, breaks predicted once 200 labels were learned
    us_per_break: float  # predict + learn, mean over the run

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def dataset(recon: Recon, n: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    """(vector + the rule's verdict, true cause) for ``n`` generated breaks."""
    out = []
    for lb in labelled_breaks(recon, n, seed=seed):
        f = extract(lb.brk, recon.source_names)
        x: dict[str, Any] = dict(vector(f, recon.fx_rates))
        rule = rule_attribute(f, recon.fx_rates)
        x["rule"], x["rule.confidence"] = rule.cause, rule.confidence
        out.append((x, lb.cause))
    return out


def _after(data: list[tuple[dict[str, Any], str]], model: Any, delay: int) -> float:
    """Prequential accuracy on the breaks predicted once 200 labels had been learned."""
    right, seen = 0, 0
    for i, (x, y) in enumerate(data):
        if i - delay >= 200:
            right += model.predict_one(x) == y
            seen += 1
        if i >= delay:
            model.learn_one(*data[i - delay])
    return right / seen if seen else 0.0


def compare(
    recon: Recon,
    n: int = 1000,
    *,
    delay: int = 25,
    seeds: tuple[int, ...] = (3, 4, 5),
    names: list[str] | None = None,
) -> list[Row]:
    """Each candidate on ``len(seeds)`` generated streams (data and model seeded alike)."""
    runs = {seed: dataset(recon, n, seed) for seed in seeds}
    rows = []
    for name, make in CANDIDATES.items():
        if names and name not in names:
            continue
        acc, f1, after, seconds = [], [], [], 0.0
        for seed, data in runs.items():
            metric = metrics.Accuracy() + metrics.MacroF1()
            started = time.perf_counter()
            stream: Any = data
            evaluate.progressive_val_score(stream, make(seed), metric, delay=delay)
            seconds += time.perf_counter() - started
            a, f = (m.get() for m in metric)
            acc.append(a)
            f1.append(f)
            after.append(_after(data, make(seed), delay))
        rows.append(
            Row(
                name,
                round(statistics.mean(acc), 4),
                round(statistics.pstdev(acc), 4),
                round(statistics.mean(f1), 4),
                round(statistics.mean(after), 4),
                round(seconds / (n * len(runs)) * 1e6, 1),
            )
        )
    return rows


def table(rows: list[Row], n: int, delay: int, runs: int) -> str:
    """The comparison as a Markdown table."""
    head = (
        f"| model ({runs} runs of {n} breaks, labels {delay} breaks late) "
        "| prequential accuracy | macro F1 | accuracy after 200 labels "
        "| µs per break (predict + learn) |\n|---|---|---|---|---|\n"
    )
    return head + "\n".join(
        f"| {r.model} | {r.accuracy:.4f} ± {r.accuracy_sd:.4f} | {r.macro_f1:.4f} "
        f"| {r.accuracy_after_200:.4f} | {r.us_per_break:.0f} |"
        for r in rows
    )
