"""Spearman and Kendall correlations with an explicit NaN policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.evaluate.metrics import apply_nan_policy, kendall_of_finite, spearman_of_finite


@dataclass(frozen=True)
class Correlation:
    """Rank correlations of scores with accuracy, oriented: positive means the proxy ranks well.

    A lower-is-better proxy (``higher_is_better=False``) that ranks well shows a positive rho;
    ``raw_spearman``/``raw_kendall`` give the sign of the raw scores. ``n`` counts the cells
    used, ``nan`` the cells whose score is NaN/inf: left out under the ``drop`` policy, ranked
    below every finite score under ``worst``.
    """

    spearman: float
    kendall: float
    n: int
    nan: int
    higher_is_better: bool = True

    @property
    def raw_spearman(self) -> float:
        return self.spearman if self.higher_is_better else -self.spearman

    @property
    def raw_kendall(self) -> float:
        return self.kendall if self.higher_is_better else -self.kendall

    def as_dict(self) -> dict[str, float | int | bool]:
        return {**asdict(self), "raw_spearman": self.raw_spearman, "raw_kendall": self.raw_kendall}


NAN_POLICIES = ("drop", "worst")


def correlate_scores(
    scores: np.ndarray, accuracy: np.ndarray, *, nan_policy: str = "drop", higher_is_better: bool = True
) -> Correlation:
    """Spearman rho and Kendall tau-b of ``scores`` against ``accuracy``, oriented by ``higher_is_better``.

    ``nan_policy="drop"`` leaves cells with a non-finite score out; ``"worst"`` ranks them below
    every finite score (the proxy's orientation decides which end is worst), which is what
    official code does where an undefined score comes out as -inf (log 0) or 0.
    """
    if nan_policy not in NAN_POLICIES:
        raise ZeronasUserError(f"unknown NaN policy {nan_policy!r}; choose from {', '.join(NAN_POLICIES)}")
    sign = 1.0 if higher_is_better else -1.0
    scores = np.asarray(scores, dtype=np.float64)
    missing = int((~np.isfinite(scores)).sum())
    # Orient first, so that "worst" means the bottom of the ranking whichever way the proxy points.
    oriented, accuracy = apply_nan_policy(sign * scores, accuracy, nan_policy)
    return Correlation(spearman_of_finite(oriented, accuracy), kendall_of_finite(oriented, accuracy),
                       len(accuracy), missing, higher_is_better)
