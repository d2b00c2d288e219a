"""The learner (pure): everything the feedback log determines, folded offset by offset.

The cause model, the anomaly detector, the labels they have learned, the analysts'
overrides of single breaks, the prequential accuracy on labels and the ADWIN drift detector
on the model's error stream are a function of the feedback events in order.
:meth:`Learner.apply` skips offsets it already reflects, so replaying the log after a
restart from a checkpoint never learns a label twice; a checkpoint is the pickled learner
together with ``next_offset``.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import river
from river import drift, metrics, utils

from streams.attribution.anomaly import AnomalyScorer
from streams.attribution.attributor import Attributor
from streams.attribution.features import extract
from streams.feedback import read_snapshot

FORMAT = 2  # 2: the anomaly detector is part of the model
ACCURACY_WINDOW = 200
# Labels are few and each one counts: check every label (clock=1), and be more sensitive than
# ADWIN's default delta (0.002 misses a wrong-labelling burst the model absorbs in ~20 labels).
DRIFT_DELTA = 0.01


def error_detector() -> drift.ADWIN:
    return drift.ADWIN(delta=DRIFT_DELTA, clock=1)


class IncompatibleCheckpoint(RuntimeError):
    """A checkpoint written by another River version or checkpoint format."""


@dataclass(frozen=True)
class Override:
    """An analyst's word on one break: it wins over the model and the Discriminator."""

    cause: str | None
    disposition: str | None
    analyst: str


@dataclass(frozen=True)
class DriftAlert:
    offset: int
    labels: int
    error_rate: float
    message: str


@dataclass
class ModelPart:
    """What a ROLLBACK replaces: the model and what measures it."""

    attributor: Attributor = field(default_factory=Attributor)
    anomaly: AnomalyScorer = field(default_factory=AnomalyScorer)
    labels: Counter[str] = field(default_factory=Counter)
    errors: drift.ADWIN = field(default_factory=error_detector)
    drifts: int = 0
    accuracy: utils.Rolling = field(
        default_factory=lambda: utils.Rolling(metrics.Accuracy, window_size=ACCURACY_WINDOW)
    )
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (true, predicted)


class Learner:
    def __init__(self) -> None:
        self.part = ModelPart()
        self.next_offset = 0
        self.overrides: dict[str, Override] = {}
        self.based_on: int | None = None  # the version last rolled back to

    @property
    def attributor(self) -> Attributor:
        return self.part.attributor

    @property
    def labels_seen(self) -> int:
        return sum(self.part.labels.values())

    def apply(
        self, offset: int, event: dict[str, Any], load_version: Callable[[int], bytes]
    ) -> list[DriftAlert]:
        """Fold the feedback event at ``offset``; already reflected offsets are no-ops."""
        if offset < self.next_offset:
            return []
        alerts: list[DriftAlert] = []
        action = event["action"]
        break_id = event.get("break_id")
        if action == "LABEL" and break_id:
            alerts = self._label(offset, event)
            self.overrides[break_id] = Override(
                event["cause"], event.get("disposition"), event["analyst"]
            )
        elif action == "REVERSE" and break_id:
            held = self.overrides.get(break_id)
            self.overrides[break_id] = Override(
                held.cause if held else None, event["disposition"], event["analyst"]
            )
        elif action == "ROLLBACK" and event.get("model_version") is not None:
            version = int(event["model_version"])
            try:
                self.part = loads(load_version(version)).part
                self.based_on = version
            except (LookupError, IncompatibleCheckpoint):
                pass  # checked before publishing; a vanished version changes nothing
        self.next_offset = offset + 1
        return alerts

    def _label(self, offset: int, event: dict[str, Any]) -> list[DriftAlert]:
        snap = read_snapshot(event)
        if snap is None:
            return []
        cause = event["cause"]
        part = self.part
        found, v = part.attributor.attribute(extract(snap.brk, snap.sources), snap.fx_rates)
        part.accuracy.update(cause, found.cause)
        part.confusion[(cause, found.cause)] += 1
        before = part.errors.estimation
        part.errors.update(float(found.cause != cause))
        alerts = []
        if part.errors.drift_detected and part.errors.estimation > before:  # worse, not better
            part.drifts += 1
            alerts.append(
                DriftAlert(
                    offset,
                    self.labels_seen,
                    part.errors.estimation,
                    f"attribution error rate changed to {part.errors.estimation:.1%} "
                    f"after {self.labels_seen} labels (ADWIN)",
                )
            )
        part.attributor.learn(v, cause)
        part.anomaly.learn(v)
        part.labels[cause] += 1
        return alerts

    def metrics(self) -> dict[str, Any]:
        """What a model version records: label counts, accuracy, per-cause precision/recall."""
        part = self.part
        return {
            "labels": dict(sorted(part.labels.items())),
            "labels_seen": self.labels_seen,
            "accuracy_recent": round(accuracy(self), 4),
            "drifts": part.drifts,
            "error_rate": round(part.errors.estimation, 4),
            "per_cause": per_cause(part.confusion),
            "overrides": len(self.overrides),
            "based_on": self.based_on,
        }


def accuracy(learner: Learner) -> float:
    """Prequential accuracy on the recent labels (River's Rolling wrapper is untyped)."""
    rolling: Any = learner.part.accuracy
    return float(rolling.get())


def per_cause(confusion: Counter[tuple[str, str]]) -> dict[str, dict[str, float]]:
    causes = sorted({c for pair in confusion for c in pair})
    out = {}
    for c in causes:
        tp = confusion[(c, c)]
        predicted = sum(n for (_, p), n in confusion.items() if p == c)
        actual = sum(n for (t, _), n in confusion.items() if t == c)
        out[c] = {
            "precision": round(tp / predicted, 4) if predicted else 0.0,
            "recall": round(tp / actual, 4) if actual else 0.0,
            "support": actual,
        }
    return out


def dumps(learner: Learner) -> bytes:
    """A checkpoint: the learner with the River version and format it was written with."""
    return pickle.dumps(
        {"format": FORMAT, "river": river.__version__, "learner": learner},
        protocol=pickle.HIGHEST_PROTOCOL,
    )


def loads(data: bytes) -> Learner:
    """A learner from a checkpoint (stored by greenai itself: pickle is trusted here)."""
    try:
        payload = pickle.loads(data)
    except Exception as exc:  # pickle raises almost anything on foreign or damaged bytes
        raise IncompatibleCheckpoint(f"unreadable checkpoint: {exc!r}") from None
    if not isinstance(payload, dict):
        raise IncompatibleCheckpoint("unreadable checkpoint: not a greenai model")
    if payload.get("format") != FORMAT or payload.get("river") != river.__version__:
        raise IncompatibleCheckpoint(
            f"checkpoint written by river {payload.get('river')} (format "
            f"{payload.get('format')}); this is river {river.__version__} (format {FORMAT})"
        )
    learner: Learner = payload["learner"]
    return learner
