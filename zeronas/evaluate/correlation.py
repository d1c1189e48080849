"""Spearman and Kendall correlations with an explicit NaN policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Correlation:
    """Signed rank correlations of scores with accuracy over the cells whose score is finite.

    ``n`` counts the cells used, ``nan`` the cells left out because their score is NaN/inf.
    """

    spearman: float
    kendall: float
    n: int
    nan: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def correlate_scores(scores: np.ndarray, accuracy: np.ndarray) -> Correlation:
    """Spearman rho and Kendall tau-b (both signed) of ``scores`` against ``accuracy``."""
    scores = np.asarray(scores, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if scores.shape != accuracy.shape:
        raise ValueError(f"scores {scores.shape} and accuracy {accuracy.shape} differ in shape")
    finite = np.isfinite(scores) & np.isfinite(accuracy)
    n = int(finite.sum())
    if n < 3 or np.ptp(scores[finite]) == 0:
        return Correlation(float("nan"), float("nan"), n, int((~finite).sum()))
    rho = stats.spearmanr(scores[finite], accuracy[finite]).statistic
    tau = stats.kendalltau(scores[finite], accuracy[finite]).statistic
    return Correlation(float(rho), float(tau), n, int((~finite).sum()))
