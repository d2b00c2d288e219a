"""The learned cause model (pure): River softmax regression over the break vector.

Categories are one-hot encoded, numbers standard-scaled (both River preprocessors that learn
only from labelled breaks), plus a constant bias. The choice of this model over ARF and the
Hoeffding Adaptive Tree is measured in ``streams/attribution/comparison.py`` and recorded in
docs/attribution.md. Learning is a pure function of the labels in order, so every worker
that learns the same labels holds the same weights.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
from river import linear_model, optim, preprocessing

from streams.attribution.features import DEFAULTS, Vector
from streams.domain.vocabulary import CAUSES

__all__ = ["CAUSES", "CauseModel", "Compiled"]
LEARNING_RATE = 0.05
BIAS = "bias"


def split(v: Vector) -> tuple[dict[str, str], dict[str, float]]:
    """Categories and numbers of a vector."""
    cats: dict[str, str] = {}
    nums: dict[str, float] = {}
    for name, value in v.items():
        if isinstance(value, str):
            cats[name] = value
        else:
            nums[name] = value
    return cats, nums


class CauseModel:
    """One-hot ∪ standard scaling → ``linear_model.SoftmaxRegression`` (SGD)."""

    name = "softmax-regression"

    def __init__(self, learning_rate: float = LEARNING_RATE) -> None:
        self.onehot = preprocessing.OneHotEncoder(drop_zeros=True)
        self.scaler = preprocessing.StandardScaler()
        self.classifier = linear_model.SoftmaxRegression(optimizer=optim.SGD(learning_rate))
        self.labels = 0
        self._compiled: Compiled | None = None

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._compiled = None

    @property
    def compiled(self) -> Compiled:
        """The weights as arrays for fast prediction (rebuilt after each label)."""
        if self._compiled is None:
            self._compiled = Compiled.of(self)
        return self._compiled

    def prepare(self, v: Vector) -> dict[str, float]:
        """The classifier's input: ``name=value`` indicators, scaled numbers and the bias."""
        cats, nums = split(v)
        x: dict[str, float] = self.onehot.transform_one(cats)
        x.update(self.scaler.transform_one(nums))
        x[BIAS] = 1.0
        return x

    def predict_proba(self, v: Vector) -> dict[str, float]:
        """Probability per cause seen in labels (empty before the first label)."""
        if not self.labels:
            return {}
        return dict(self.classifier.predict_proba_one(self.prepare(v)))

    def learn(self, v: Vector, cause: str) -> None:
        cats, nums = split(v)
        self.onehot.learn_one(cats)
        self.scaler.learn_one(nums)
        self.classifier.learn_one(self.prepare(v), cause)
        self.labels += 1
        self._compiled = None

    def contributions(self, x: dict[str, float], cause: str) -> dict[str, float]:
        """How much each input pushes ``cause`` above the average cause (logit units)."""
        weights = self.classifier.weights
        classes = list(weights)
        if cause not in weights:
            return {}
        out = {}
        for name, value in x.items():
            if not value:
                continue
            mine = weights[cause].get(name, 0.0)
            mean = sum(weights[c].get(name, 0.0) for c in classes) / len(classes)
            out[name] = (mine - mean) * value
        return out


NUMERIC = tuple(DEFAULTS)
CATEGORIES = ("kind", "fields", "side", "source", "recon", "currency", "counterparty")
_numbers = operator.itemgetter(*NUMERIC)


@dataclass(frozen=True)
class Compiled:
    """A read-only numpy copy of a :class:`CauseModel`, laid out over CAUSES: the same
    probabilities as River's ``predict_proba_one`` (tested) at a fraction of the cost, and
    each feature's push towards a cause (for the explanation)."""

    mean: np.ndarray  # of NUMERIC
    inv_std: np.ndarray  # 0 where the variance is 0 (River's safe division)
    w_num: np.ndarray  # CAUSES x NUMERIC
    w_cat: dict[str, np.ndarray]  # one-hot input -> weight per cause
    w_bias: np.ndarray  # per cause; -inf for causes never labelled
    centred_num: np.ndarray  # w_num minus its mean over the labelled causes
    centred_cat: dict[str, np.ndarray]
    seen: np.ndarray  # causes labelled at least once

    @classmethod
    def of(cls, model: CauseModel) -> Compiled:
        weights = model.classifier.weights
        seen = np.array([c in weights for c in CAUSES])
        means, variances = model.scaler.means, model.scaler.vars
        mean = np.array([means.get(n, 0.0) for n in NUMERIC])
        var = np.array([variances.get(n, 0.0) for n in NUMERIC])
        inv_std = np.divide(1.0, np.sqrt(var), out=np.zeros_like(var), where=var > 0)

        def row(name: str) -> np.ndarray:
            return np.array([weights[c].get(name, 0.0) if c in weights else 0.0 for c in CAUSES])

        w_num = np.array([row(n) for n in NUMERIC]).T
        inputs = {k for c in weights for k in weights[c]} - set(NUMERIC) - {BIAS}
        w_cat = {k: row(k) for k in inputs}
        w_bias = np.where(seen, row(BIAS), -np.inf)
        n_seen = max(1, int(seen.sum()))
        centred_num = w_num - w_num[seen].sum(axis=0) / n_seen
        centred_cat = {k: w - w[seen].sum() / n_seen for k, w in w_cat.items()}
        return cls(mean, inv_std, w_num, w_cat, w_bias, centred_num, centred_cat, seen)

    def inputs(self, v: Vector) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """Scaled numbers (in NUMERIC order) and the (feature, one-hot input) categories."""
        try:
            nums = np.array(_numbers(v), dtype=float)
        except KeyError:  # a sparse vector: absent numbers are 0, as River sees them
            nums = np.array([v.get(n, 0.0) for n in NUMERIC], dtype=float)
        cats = [(k, f"{k}_{v[k]}") for k in CATEGORIES if k in v]
        return (nums - self.mean) * self.inv_std, cats

    def proba(self, scaled: np.ndarray, cats: list[tuple[str, str]]) -> np.ndarray:
        """Probability per cause (in CAUSES order; 0 for causes never labelled)."""
        logits = self.w_num @ scaled + self.w_bias
        for _, name in cats:
            w = self.w_cat.get(name)
            if w is not None:
                logits += w
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def pushes(
        self, scaled: np.ndarray, cats: list[tuple[str, str]], k: int, top: int
    ) -> list[tuple[str, float]]:
        """The ``top`` vector features pushing cause ``k`` hardest above the average labelled
        cause (logit units, positive pushes only)."""
        num = self.centred_num[k] * scaled
        best = np.argpartition(-num, top)[:top] if len(num) > top else np.arange(len(num))
        found = [(NUMERIC[i], float(num[i])) for i in best if num[i] > 0]
        for feature, name in cats:
            w = self.centred_cat.get(name)
            if w is not None and w[k] > 0:
                found.append((feature, float(w[k])))
        found.sort(key=lambda kv: -kv[1])
        return found[:top]
