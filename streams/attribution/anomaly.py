"""How unusual a break looks (pure): River ``anomaly.HalfSpaceTrees`` over a few vector
features scaled into [0, 1] by fixed limits (HST assumes that range).

The detector is part of the model: it learns from the breaks analysts label, in the order
of the feedback log, is checkpointed with the model and rolled back with it. A break's score
therefore depends only on the break and the labels folded so far, never on the order in
which the workers happened to see other breaks: a replay or a crash after the same labels
gives the same scores. The score is 0 until the first window of ``WINDOW`` labelled breaks
is complete (HST has no reference mass before that).
"""

from __future__ import annotations

from river import anomaly

from streams.attribution.features import Vector

WINDOW = 50
LIMITS: dict[str, tuple[float, float]] = {
    "amount.delta_abs_log10": (-4.0, 10.0),
    "amount.delta_rel_log10": (-12.0, 1.0),
    "amount.fx_error_log10": (-6.0, 0.0),
    "amount.pow10_error": (0.0, 1.0),
    "amount.digit_edits": (0.0, 6.0),
    "fee.bps": (0.0, 1000.0),
    "dates.business_days_max": (0.0, 20.0),
    "dates.calendar_days_max": (0.0, 30.0),
    "fields.n": (0.0, 10.0),
    "text.similarity": (0.0, 1.0),
    "other_numeric.delta_rel_log10": (-12.0, 1.0),
}


def scaled(v: Vector) -> dict[str, float]:
    """The detector's input: each watched feature mapped into [0, 1] and clipped."""
    out = {}
    for name, (low, high) in LIMITS.items():
        value = v.get(name, low)
        raw = value if isinstance(value, float | int) else low
        out[name] = min(1.0, max(0.0, (raw - low) / (high - low)))
    return out


class AnomalyScorer:
    def __init__(self, seed: int = 42, n_trees: int = 10, height: int = 8) -> None:
        self.detector = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=WINDOW, seed=seed
        )
        self.learned = 0

    def score(self, v: Vector) -> float:
        """The anomaly score in [0, 1] (high: unusual); learns nothing."""
        if self.learned < WINDOW:
            return 0.0
        return float(self.detector.score_one(scaled(v)))

    def learn(self, v: Vector) -> None:
        """A labelled break joins the reference."""
        self.detector.learn_one(scaled(v))
        self.learned += 1
