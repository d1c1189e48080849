"""Ranking-quality metrics of proxy scores against accuracy, with bootstrap 95% intervals.

Every metric takes scores already oriented so that higher predicts better (multiply a
lower-is-better proxy by -1) and accuracies; non-finite scores follow a NaN policy
(``drop``: left out; ``worst``: ranked below every finite score).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from zeronas.errors import ZeronasUserError

TOP_FRACTION = 0.1


def apply_nan_policy(scores: np.ndarray, accuracy: np.ndarray, nan_policy: str) -> tuple[np.ndarray, np.ndarray]:
    """The (scores, accuracy) pairs a metric sees: ``drop`` leaves out undefined scores, ``worst``
    ranks them below every finite score; cells without an accuracy are always left out."""
    scores = np.asarray(scores, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if scores.shape != accuracy.shape or scores.ndim != 1:
        raise ValueError(f"scores {scores.shape} and accuracy {accuracy.shape} must be 1-D of one length")
    if nan_policy == "worst":
        scores = np.where(np.isfinite(scores), scores, -np.inf)
        keep = np.isfinite(accuracy)
    elif nan_policy == "drop":
        keep = np.isfinite(scores) & np.isfinite(accuracy)
    else:
        raise ZeronasUserError(f"unknown NaN policy {nan_policy!r}; choose drop or worst")
    return scores[keep], accuracy[keep]


def top_precision(scores: np.ndarray, accuracy: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """Share of the top-``fraction`` cells by score that are in the top ``fraction`` by accuracy (0..1)."""
    k = max(1, math.ceil(fraction * len(scores)))
    if len(scores) < 2:
        return math.nan
    by_score = np.argsort(-scores, kind="stable")[:k]
    threshold = np.sort(accuracy)[::-1][k - 1]
    return float(np.mean(accuracy[by_score] >= threshold))


def argmax_accuracy(scores: np.ndarray, accuracy: np.ndarray) -> float:
    """Accuracy (%) of the best-scored cell; the mean over cells tied at the best score."""
    if len(scores) == 0:
        return math.nan
    best = scores == np.max(scores)
    return float(np.mean(accuracy[best]))


def spearman_of_finite(scores: np.ndarray, accuracy: np.ndarray) -> float:
    """Spearman rho of pairs already through ``apply_nan_policy``; NaN below 3 pairs or constant scores."""
    if len(scores) < 3 or np.unique(scores).size < 2:
        return math.nan
    return float(stats.spearmanr(scores, accuracy).statistic)


def kendall_of_finite(scores: np.ndarray, accuracy: np.ndarray) -> float:
    """Kendall tau-b of pairs already through ``apply_nan_policy``; NaN below 3 pairs or constant scores."""
    if len(scores) < 3 or np.unique(scores).size < 2:
        return math.nan
    return float(stats.kendalltau(scores, accuracy).statistic)


def spearman(scores: np.ndarray, accuracy: np.ndarray, nan_policy: str = "drop") -> float:
    """Spearman rho of oriented ``scores`` with ``accuracy`` under ``nan_policy``; NaN when undefined."""
    return spearman_of_finite(*apply_nan_policy(scores, accuracy, nan_policy))


def paired_spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho of two score vectors over the cells finite in both; NaN when undefined."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    both = np.isfinite(x) & np.isfinite(y)
    if np.unique(y[both]).size < 2:
        return math.nan
    return spearman_of_finite(x[both], y[both])


METRICS = {
    "spearman": spearman_of_finite,
    "kendall": kendall_of_finite,
    "top10_precision": top_precision,
    "argmax_accuracy": argmax_accuracy,
}


@dataclass(frozen=True)
class Estimate:
    """A point value with its bootstrap 95% percentile interval."""

    value: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def ranking_metrics(
    scores: np.ndarray,
    accuracy: np.ndarray,
    *,
    nan_policy: str = "drop",
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Spearman, Kendall, top-10% precision, arg-max accuracy and coverage, each with a 95% interval.

    The interval resamples cells with replacement (``resamples`` times, seeded). ``coverage``
    is the share of cells with a finite score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(scores), size=(resamples, len(scores)))
    prepared = apply_nan_policy(scores, accuracy, nan_policy)
    samples = [apply_nan_policy(scores[d], accuracy[d], nan_policy) for d in draws]  # once per draw, for every metric
    out: dict[str, Estimate] = {}
    for name, metric in METRICS.items():
        boot = np.array([metric(*sample) for sample in samples])
        out[name] = _estimate(metric(*prepared), boot)
    finite = np.isfinite(scores).astype(np.float64)
    out["coverage"] = _estimate(float(finite.mean()), finite[draws].mean(axis=1))
    return out


def _estimate(value: float, boot: np.ndarray) -> Estimate:
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return Estimate(value, math.nan, math.nan)
    low, high = np.percentile(boot, [2.5, 97.5])
    return Estimate(value, float(low), float(high))


def sample_indices(total: int, sample: int | None, seed: int) -> np.ndarray:
    """``sample`` distinct indices of ``range(total)`` drawn with ``seed``, sorted (all if None or >= total)."""
    if sample is not None and sample < 1:
        raise ZeronasUserError(f"--sample must be a positive number of cells, got {sample}")
    if sample is None or sample >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=sample, replace=False))


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def mean_with_interval(values: np.ndarray, *, resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """``{"mean", "std" (sample, ddof 1), "ci95": [lo, hi], "n"}`` of finite ``values``; the interval
    is the percentile bootstrap of the mean (scipy.stats.bootstrap, seeded)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"mean": math.nan, "std": math.nan, "ci95": [math.nan, math.nan], "n": 0}
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    if values.size < 2 or std == 0.0:
        return {"mean": float(values.mean()), "std": std, "ci95": [float(values.mean())] * 2, "n": int(values.size)}
    ci = stats.bootstrap((values,), np.mean, n_resamples=resamples, method="percentile",
                         rng=np.random.default_rng(seed)).confidence_interval
    return {"mean": float(values.mean()), "std": std, "ci95": [float(ci.low), float(ci.high)], "n": int(values.size)}


def difference_with_interval(a: np.ndarray, b: np.ndarray, *, resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """``{"diff", "ci95"}``: mean(a) - mean(b) of two independent samples, with the percentile
    bootstrap interval (each sample resampled on its own)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    diff = float(a.mean() - b.mean())
    ci = stats.bootstrap((a, b), _mean_difference, n_resamples=resamples, method="percentile", paired=False,
                         vectorized=True, rng=np.random.default_rng(seed)).confidence_interval
    return {"diff": diff, "ci95": [float(ci.low), float(ci.high)]}
