"""A proxy scorer for search tests: NAS-Bench-201 parameter counts, computed without torch, so
the arg-max of any candidate list can be re-derived in the test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zeronas.search import ProxyScorer
from zeronas.spaces.nb201 import count_parameters


class ParamsScorer(ProxyScorer):
    """Score = parameter count (higher is better), seconds = 1 per architecture; ``nan_when``
    makes chosen architectures undefined (NaN), like epsinas' failures."""

    name = "params"

    def __init__(self, nan_when: Any = None) -> None:
        self.nan_when = nan_when
        self.calls = 0

    def value(self, arch: Any) -> float:
        if self.nan_when is not None and self.nan_when(arch):
            return float("nan")
        return float(count_parameters(arch))

    def score(self, archs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        return np.array([self.value(a) for a in archs]), np.ones(len(archs))
