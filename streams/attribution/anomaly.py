"""How unusual a break looks (pure): River ``anomaly.HalfSpaceTrees`` over a few vector
features scaled into [0, 1] by fixed limits (HST assumes that range).

Each worker keeps its own detector, learning from every break it attributes (unlabelled),
so it follows the mix of breaks its partitions see. The score is 0 until the first window
of ``WINDOW`` learned breaks is complete (HST has no reference mass before that).
"""

from __future__ import annotations

import math

from river import anomaly

from streams.attribution.features import Vector

WINDOW = 250
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
    "materiality_log10": (0.0, 10.0),
}


def scaled(v: Vector, materiality: float) -> dict[str, float]:
    """The detector's input: each watched feature mapped into [0, 1] and clipped."""
    out = {}
    for name, (low, high) in LIMITS.items():
        if name == "materiality_log10":
            raw = math.log10(1 + materiality)
        else:
            value = v.get(name, low)
            raw = value if isinstance(value, float | int) else low
        out[name] = min(1.0, max(0.0, (raw - low) / (high - low)))
    return out


class AnomalyScorer:
    """Scores every break; learns one in ``learn_every`` (the reference mass of a window is
    estimated as well from a sample, at a fraction of the cost)."""

    def __init__(
        self, seed: int = 42, n_trees: int = 10, height: int = 8, learn_every: int = 4
    ) -> None:
        self.detector = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=WINDOW, seed=seed
        )
        self.learn_every = learn_every
        self.seen = 0
        self.learned = 0

    def score_and_learn(self, v: Vector, materiality: float) -> float:
        """The anomaly score in [0, 1] (high: unusual), then learn the break (sampled)."""
        x = scaled(v, materiality)
        score = float(self.detector.score_one(x)) if self.learned >= WINDOW else 0.0
        if self.seen % self.learn_every == 0:
            self.detector.learn_one(x)
            self.learned += 1
        self.seen += 1
        return score
