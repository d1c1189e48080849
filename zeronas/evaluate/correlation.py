"""Spearman and Kendall correlations with an explicit NaN policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from zeronas.errors import ZeronasUserError


@dataclass(frozen=True)
class Correlation:
    """Signed rank correlations of scores with accuracy.

    ``n`` counts the cells used, ``nan`` the cells whose score is NaN/inf: left out under the
    ``drop`` policy, ranked below every finite score under ``worst``.
    """

    spearman: float
    kendall: float
    n: int
    nan: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


NAN_POLICIES = ("drop", "worst")


def correlate_scores(
    scores: np.ndarray, accuracy: np.ndarray, *, nan_policy: str = "drop", higher_is_better: bool = True
) -> Correlation:
    """Spearman rho and Kendall tau-b (both signed) of ``scores`` against ``accuracy``.

    ``nan_policy="drop"`` leaves cells with a non-finite score out; ``"worst"`` ranks them below
    every finite score (the proxy's orientation decides which end is worst), which is what
    official code does where an undefined score comes out as -inf (log 0) or 0.
    """
    if nan_policy not in NAN_POLICIES:
        raise ZeronasUserError(f"unknown NaN policy {nan_policy!r}; choose from {', '.join(NAN_POLICIES)}")
    scores = np.asarray(scores, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if scores.shape != accuracy.shape:
        raise ValueError(f"scores {scores.shape} and accuracy {accuracy.shape} differ in shape")
    finite_score = np.isfinite(scores)
    missing = int((~finite_score).sum())
    if nan_policy == "worst":
        scores = np.where(finite_score, scores, -np.inf if higher_is_better else np.inf)
        used = np.isfinite(accuracy)
    else:
        used = finite_score & np.isfinite(accuracy)
    n = int(used.sum())
    if n < 3 or np.unique(scores[used]).size < 2:
        return Correlation(float("nan"), float("nan"), n, missing)
    rho = stats.spearmanr(scores[used], accuracy[used]).statistic
    tau = stats.kendalltau(scores[used], accuracy[used]).statistic
    return Correlation(float(rho), float(tau), n, missing)
