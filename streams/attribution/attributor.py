"""Attribution (pure): the rule prior and the learned model, blended by how much the model has
learned, with the evidence that drove the result.

With no labels the rules decide alone (day one is useful). Each label shifts weight to the
model: its share of the vote is ``n / (n + TRUST_LABELS)`` after ``n`` labels, so after
200 labels the model carries ~90% and the rules act as a tie-breaker.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from streams.attribution.explain import describe
from streams.attribution.features import Features, Vector, vector
from streams.attribution.model import CauseModel
from streams.attribution.rules import Attribution, Evidence
from streams.attribution.rules import attribute as rule_attribute
from streams.domain.vocabulary import CAUSES

TRUST_LABELS = 20
TOP_EVIDENCE = 4
CAUSE_INDEX = {c: i for i, c in enumerate(CAUSES)}


def model_trust(labels: int) -> float:
    """The model's share of the vote after ``labels`` labels."""
    return labels / (labels + TRUST_LABELS)


def rule_proba(rule: Attribution) -> dict[str, float]:
    """The rule's verdict as a distribution: its confidence on its cause, the rest spread."""
    rest = (1 - rule.confidence) / (len(CAUSES) - 1)
    return {c: rule.confidence if c == rule.cause else rest for c in CAUSES}


_RULE_VECTORS: dict[tuple[str, float], np.ndarray] = {}


def _rule_vector(rule: Attribution) -> np.ndarray:
    """:func:`rule_proba` as an array over CAUSES (cached: rules have few verdicts)."""
    key = (rule.cause, rule.confidence)
    found = _RULE_VECTORS.get(key)
    if found is None:
        found = np.array([rule_proba(rule)[c] for c in CAUSES])
        _RULE_VECTORS[key] = found
    return found


def blend(rule: Attribution, model: dict[str, float], labels: int) -> dict[str, float]:
    alpha = model_trust(labels) if model else 0.0
    prior = rule_proba(rule)
    return {c: alpha * model.get(c, 0.0) + (1 - alpha) * prior[c] for c in CAUSES}


def _strongest(evidence: list[Evidence]) -> tuple[Evidence, ...]:
    """One entry per feature (the model's and the rules' weights added), strongest first."""
    merged: dict[str, Evidence] = {}
    for e in evidence:
        held = merged.get(e.feature)
        merged[e.feature] = held._replace(weight=round(held.weight + e.weight, 4)) if held else e
    return tuple(sorted(merged.values(), key=lambda e: -e.weight)[:TOP_EVIDENCE])


class Attributor:
    """Rules + :class:`CauseModel`; ``attribute`` is the worker's hot path."""

    def __init__(self, model: CauseModel | None = None) -> None:
        self.model = model or CauseModel()

    def attribute(
        self, f: Features, fx_rates: dict[str, Decimal] | None = None
    ) -> tuple[Attribution, Vector]:
        """The cause, its confidence and evidence; and the vector (for learning, anomaly)."""
        rates = fx_rates or {}
        v = vector(f, rates)
        rule = rule_attribute(f, rates)
        labels = self.model.labels
        if not labels:
            return rule, v
        compiled = self.model.compiled
        scaled, cats = compiled.inputs(v)
        alpha = model_trust(labels)
        proba = alpha * compiled.proba(scaled, cats) + (1 - alpha) * _rule_vector(rule)
        best = int(proba.argmax())
        cause = CAUSES[best]
        pushes = compiled.pushes(scaled, cats, best, TOP_EVIDENCE) if compiled.seen[best] else []
        evidence = self._evidence(pushes, v, f, rates, alpha)
        if rule.cause == cause:
            evidence += [
                Evidence(e.feature, e.value, round(e.weight * (1 - alpha), 4))
                for e in rule.explanation
            ]
        return Attribution(cause, round(float(proba[best]), 4), _strongest(evidence)), v

    @staticmethod
    def _evidence(
        pushes: list[tuple[str, float]],
        v: Vector,
        f: Features,
        rates: dict[str, Decimal],
        alpha: float,
    ) -> list[Evidence]:
        """The model's strongest pushes as readable evidence, weighted by the model's share."""
        total = sum(p for _, p in pushes) or 1.0
        memo: dict[str, str] = {}
        return [
            Evidence(name, describe(name, v, f, rates, memo), round(alpha * push / total, 4))
            for name, push in pushes
        ]

    def learn(self, v: Vector, cause: str) -> None:
        self.model.learn(v, cause)
