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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zeronas.benchmarks import Benchmark, get_benchmark
from zeronas.data.datasets import get_dataset
from zeronas.evaluate.metrics import Estimate, paired_spearman, ranking_metrics
from zeronas.proxies.linear_regions import LinearRegions
from zeronas.runner import Evaluator, Store
from zeronas.runner.executors import Executor
from zeronas.spaces.capabilities import LinearRegionNetwork

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


def applies_to(benchmark: str | Benchmark, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether the benchmark's networks have the thin network TE-NAS counts on (else the study is moot)."""
    bench = get_benchmark(benchmark, data_dir)
    space = bench.space
    arch = space.sample(np.random.default_rng(0))
    return isinstance(space.build(arch, bench.datasets[0]), LinearRegionNetwork)


def linear_region_study(
    benchmark: str | Benchmark,
    cells: Sequence[Any],
    accuracy: np.ndarray,
    *,
    dataset: str,
    store: Store | None = None,
    executor: Executor | None = None,
    resamples: int = 1000,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> list[VariantResult]:
    """Score ``cells`` with every variant of the count at once (seed 0) and measure each against ``accuracy``.

    Variants whose crop is larger than the dataset's images are left out.
    """
    side = min(get_dataset(dataset).input_shape[1:])
    chosen = [(label, options) for label, options in VARIANTS if options.get("crop", 3) <= side]
    variants = [LinearRegions(**options) for _, options in chosen]
    evaluator = Evaluator(benchmark, dataset=dataset, proxies=variants, seed=0, store=store, executor=executor,
                          data_dir=data_dir, progress=progress)
    table = evaluator.score(cells)
    default_scores = table[variants[0].key]
    results = []
    for (label, options), proxy in zip(chosen, variants, strict=True):
        scores = table[proxy.key]
        finite = scores[np.isfinite(scores)]
        results.append(VariantResult(
            label=label, options=dict(options),
            metrics=ranking_metrics(scores, accuracy, nan_policy="drop", resamples=resamples, seed=0),
            agreement_with_default=paired_spearman(scores, default_scores),
            distinct_share=float(np.unique(finite).size / max(1, finite.size)),
            saturated_share=float(np.mean(finite >= proxy.samples)) if finite.size else float("nan"),
        ))
    return results
