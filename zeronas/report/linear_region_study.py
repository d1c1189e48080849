"""Is the linear-region count a dependable criterion? Its ranking under changed settings.

TE-NAS counts distinct ReLU patterns of a thin one-cell network over 3,000 random 3x3 crops,
after a Kaiming re-initialisation. This study rescores the report's cells with one setting
changed at a time (crop size, number of crops, initialisation) and reports, for each, the
Spearman rho with accuracy, the agreement with the TE-NAS ranking, and how saturated the
count is (a count equal to the number of crops cannot separate cells). Seed effects come from
the report's own seeds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from zeronas.evaluate.metrics import Estimate, paired_spearman, ranking_metrics
from zeronas.proxies.linear_regions import LinearRegions
from zeronas.runner import ResultStore, score_archs
from zeronas.spaces import SearchSpace

PROXY = "linear_regions"

# (label, options changed from the TE-NAS setting)
VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("TE-NAS: 3x3 crops, 3,000 crops, Kaiming init", {}),
    ("8x8 crops", {"crop": 8}),
    ("16x16 crops", {"crop": 16}),
    ("32x32 inputs (whole image, one channel)", {"crop": 32}),
    ("300 crops", {"samples": 300}),
    ("1,000 crops", {"samples": 1000}),
    ("default PyTorch init", {"init": "model"}),
)


@dataclass
class VariantResult:
    label: str
    options: dict[str, Any]
    metrics: dict[str, Estimate]
    agreement_with_default: float  # Spearman rho between this variant's and TE-NAS's scores per cell
    distinct_share: float  # distinct counts / cells: 1 = every cell separable, low = many ties
    saturated_share: float  # share of cells whose count equals the number of crops


def linear_region_study(
    space: SearchSpace,
    cells: list[Any],
    accuracy: np.ndarray,
    *,
    dataset: str,
    store: ResultStore,
    resamples: int = 1000,
    data_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> list[VariantResult]:
    """Score ``cells`` with each variant of the count (seed 0) and measure it against ``accuracy``."""
    results = []
    default_scores = None
    for label, options in VARIANTS:
        scores = score_archs(space, cells, dataset=dataset, proxies=[PROXY], seed=0, options={PROXY: options},
                             data_dir=data_dir, store=store, workers=workers, progress=progress)[PROXY]
        if default_scores is None:
            default_scores = scores
        samples = options.get("samples", LinearRegions().samples)
        finite = scores[np.isfinite(scores)]
        results.append(VariantResult(
            label=label, options=dict(options),
            metrics=ranking_metrics(scores, accuracy, nan_policy="drop", resamples=resamples, seed=0),
            agreement_with_default=paired_spearman(scores, default_scores),
            distinct_share=float(np.unique(finite).size / max(1, finite.size)),
            saturated_share=float(np.mean(finite >= samples)) if finite.size else float("nan"),
        ))
    return results
