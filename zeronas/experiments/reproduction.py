"""Score a benchmark sample over datasets and seeds, and measure every proxy's ranking quality.

The numbers of a reproduction report, without rendering: :func:`measure` scores (through the
Evaluator and its resumable store) and returns a :class:`Measurements`;
:mod:`zeronas.report` turns it into files.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np

from zeronas.benchmarks import Benchmark, get_benchmark
from zeronas.errors import ZeronasUserError
from zeronas.evaluate.ensemble import (
    AGGREGATIONS,
    ENSEMBLE,
    ensemble_scores,
    normalised_ranks,
    orientation,
    rank_aggregate,
    select_members,
)
from zeronas.evaluate.metrics import Estimate, paired_spearman, ranking_metrics, sample_indices, spearman
from zeronas.runner import Evaluator, ResultStore, Store
from zeronas.runner.executors import Executor, SerialExecutor
from zeronas.runner.table_store import with_tables

# Cheap enough for 3 datasets x 3 seeds x 1,000 cells on a laptop, and covering the headline
# proxies, the strongest baselines and the linear-region count.
DEFAULT_PROXIES = (
    "gradsign", "gradalign", "epsinas", "synflow", "naswot", "jacob_cov", "meco", "snip",
    "linear_regions", "params", "flops",
)
SELECTION_DATASET = "cifar10"
CIFAR10_VALID_COLUMN = "cifar10_valid_test_acc_v1_0"


@dataclass
class Measurements:
    """Everything a report shows. ``scores[dataset][seed][proxy]`` are raw (unoriented) scores."""

    space: str
    datasets: list[str]
    seeds: list[int]
    proxies: list[str]
    cells: list[str]
    accuracy: dict[str, np.ndarray]
    scores: dict[str, dict[int, dict[str, np.ndarray]]]
    metrics: dict[str, dict[str, dict[str, Estimate]]]  # dataset -> proxy -> metric
    rho_by_seed: dict[str, dict[str, list[float]]]  # dataset -> proxy -> rho per seed
    seed_agreement: dict[str, dict[str, float]]  # dataset -> proxy -> mean pairwise rho between seeds
    # dataset -> proxy -> mean over cells of (highest - lowest) rank percentile across seeds (0 = fixed)
    cell_rank_shift: dict[str, dict[str, float]] = field(default_factory=dict)
    # dataset -> proxy -> rho (seed 0) under a protocol choice a published number may have used:
    # "nan_drop"/"nan_worst" and, for CIFAR-10, "cifar10_valid_drop"/"cifar10_valid_worst" (against
    # the test accuracy of networks trained on the cifar10-valid split)
    protocol_checks: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    # dataset -> rho(params) on the sample minus rho(params) on every cell: how much the sample
    # alone moves a correlation, measured where the table gives the answer for all cells
    sample_effect: dict[str, float] = field(default_factory=dict)
    ensemble_members: list[str] = field(default_factory=list)
    ensemble_selection: dict[str, Any] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)  # by proxy key
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def oriented(scores: Mapping[str, np.ndarray], higher_is_better: Mapping[str, bool] | None = None) -> dict[str, np.ndarray]:
    return {name: orientation(name, higher_is_better) * np.asarray(v, dtype=np.float64) for name, v in scores.items()}


@dataclass(frozen=True)
class ReproductionConfig:
    """What a reproduction report measures.

    ``sample`` architectures (None: the whole population) drawn with ``sample_seed`` from the
    benchmark's population, scored with ``proxies`` for seeds 0..seeds-1 on each dataset
    (seeds change the batch and the initialisation, never the cells). With ``ensemble``, its
    members are ``ensemble_members`` or chosen by greedy selection on ``selection_sample``
    further cells, disjoint from the reported ones (first dataset, seed 0).
    """

    benchmark: str = "nb201"
    datasets: tuple[str, ...] | None = None  # None: every dataset of the benchmark
    sample: int | None = 1000
    seeds: int = 3
    proxies: tuple[str, ...] = DEFAULT_PROXIES
    sample_seed: int = 0
    ensemble: bool = True
    ensemble_members: tuple[str, ...] | None = None
    selection_sample: int = 1000
    aggregation: str = "log_rank"
    nan_policy: str = "drop"
    resamples: int = 1000

    def __post_init__(self) -> None:
        if self.datasets is not None and not self.datasets:
            raise ZeronasUserError("no datasets given; pass --datasets, e.g. cifar10,cifar100")
        if self.seeds < 1:
            raise ZeronasUserError(f"--seeds must be at least 1, got {self.seeds}")
        if self.aggregation not in AGGREGATIONS:
            raise ZeronasUserError(f"unknown aggregation {self.aggregation!r}; choose from {', '.join(AGGREGATIONS)}")


def measure(
    config: ReproductionConfig = ReproductionConfig(),
    *,
    store: Store | str | os.PathLike[str] | None = None,
    executor: Executor | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    tables: bool | str | os.PathLike[str] = True,
) -> Measurements:
    """Score and measure what ``config`` asks; every score goes through ``store`` (resumable).

    Scores whose keys match a score table (``tables``: the shipped ones, or a campaign
    directory) are read from it; each cell is still scored as itself (no class sharing).
    """
    start = time.perf_counter()
    benchmark = get_benchmark(config.benchmark, data_dir)
    if config.datasets is None:
        config = replace(config, datasets=benchmark.datasets)
    for dataset in config.datasets:
        benchmark.check_dataset(dataset)
    store = with_tables(store if isinstance(store, Store) else ResultStore(store), tables)
    executor = executor if executor is not None else SerialExecutor()
    selection_dataset = config.datasets[0] if SELECTION_DATASET not in config.datasets else SELECTION_DATASET
    population = benchmark.population(selection_dataset)
    index = sample_indices(len(population), config.sample, config.sample_seed)
    cells = [population[i] for i in index]

    def evaluator(dataset: str, seed: int) -> Evaluator:
        return Evaluator(benchmark, dataset=dataset, proxies=list(config.proxies), seed=seed, store=store,
                         executor=executor, data_dir=data_dir, progress=progress)

    keys = evaluator(selection_dataset, 0).keys
    members: list[str] = []
    selection: dict[str, Any] = {}
    if config.ensemble:
        members, selection = _ensemble_members(benchmark, population, index, config, keys, selection_dataset,
                                               evaluator)
    seed_list = list(range(config.seeds))
    scores: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    accuracy: dict[str, np.ndarray] = {}
    higher_is_better: dict[str, bool] = {}
    for dataset in config.datasets:
        accuracy[dataset] = benchmark.ground_truth(cells, dataset)
        scores[dataset] = {}
        for seed in seed_list:
            table = evaluator(dataset, seed).score(cells)
            higher_is_better.update(table.higher_is_better)
            scored = table.as_dict()
            if members:
                scored[ENSEMBLE] = ensemble_scores(scored, members, aggregation=config.aggregation,
                                                   higher_is_better=higher_is_better)
            scores[dataset][seed] = scored

    names = list(keys) + ([ENSEMBLE] if members else [])
    metrics = {d: {} for d in config.datasets}
    rho_by_seed = {d: {} for d in config.datasets}
    agreement = {d: {} for d in config.datasets}
    rank_shift = {d: {} for d in config.datasets}
    for dataset in config.datasets:
        for name in names:
            per_seed = [orientation(name, higher_is_better) * scores[dataset][s][name] for s in seed_list]
            metrics[dataset][name] = ranking_metrics(per_seed[0], accuracy[dataset], nan_policy=config.nan_policy,
                                                     resamples=config.resamples, seed=config.sample_seed)
            rho_by_seed[dataset][name] = [spearman(v, accuracy[dataset], config.nan_policy) for v in per_seed]
            agreement[dataset][name] = _seed_agreement(per_seed)
            rank_shift[dataset][name] = _cell_rank_shift(per_seed)

    checks = {d: {name: _protocol_checks(benchmark, d, orientation(name, higher_is_better) * scores[d][0][name],
                                         cells, accuracy[d])
                  for name in names} for d in config.datasets}
    return Measurements(
        space=benchmark.name, datasets=list(config.datasets), seeds=seed_list, proxies=names,
        cells=[benchmark.space.format(c) for c in cells],
        accuracy=accuracy, scores=scores, metrics=metrics, rho_by_seed=rho_by_seed, seed_agreement=agreement,
        cell_rank_shift=rank_shift, protocol_checks=checks,
        sample_effect={d: _sample_effect(benchmark, d, cells, accuracy[d]) for d in config.datasets},
        ensemble_members=members, ensemble_selection=selection, higher_is_better=higher_is_better,
        settings={"sample": config.sample, "sample_seed": config.sample_seed, "nan_policy": config.nan_policy,
                  "resamples": config.resamples, "aggregation": config.aggregation,
                  "results": str(getattr(store, "path", None)),
                  "metrics": {d: benchmark.default_metric(d) for d in config.datasets},
                  "population": len(population), "benchmark_description": benchmark.description,
                  "metric_description": benchmark.metric(config.datasets[0]).description},
        seconds=time.perf_counter() - start,
    )


def _protocol_checks(benchmark: Benchmark, dataset: str, oriented_scores: np.ndarray, cells: Sequence[Any],
                     accuracy: np.ndarray) -> dict[str, float]:
    out = {f"nan_{policy}": spearman(oriented_scores, accuracy, policy) for policy in ("drop", "worst")}
    if CIFAR10_VALID_COLUMN in benchmark.metrics(dataset):
        valid = benchmark.ground_truth(cells, dataset, CIFAR10_VALID_COLUMN)
        out |= {f"cifar10_valid_{policy}": spearman(oriented_scores, valid, policy) for policy in ("drop", "worst")}
    return out


def _sample_effect(benchmark: Benchmark, dataset: str, cells: Sequence[Any], accuracy: np.ndarray) -> float:
    """rho(params) on the sample minus on the whole population, where the benchmark records params."""
    metric = benchmark.params_metric(dataset)
    if metric is None:
        return math.nan
    population = benchmark.population(dataset, metric)
    everywhere = spearman(benchmark.ground_truth(population, dataset, metric),
                          benchmark.ground_truth(population, dataset), "drop")
    return spearman(benchmark.ground_truth(cells, dataset, metric), accuracy, "drop") - everywhere


def _cell_rank_shift(per_seed: list[np.ndarray]) -> float:
    """Mean over cells of how far a cell's rank percentile moves between seeds (NaN ranked worst)."""
    if len(per_seed) < 2:
        return math.nan  # one seed shows no movement, which is not stability
    percentiles = np.stack([100.0 * normalised_ranks(v) for v in per_seed])
    return float(np.mean(percentiles.max(0) - percentiles.min(0)))


def _seed_agreement(per_seed: list[np.ndarray]) -> float:
    """Mean Spearman rho between the scores of two seeds, over cells finite in both (1 = same ranking)."""
    values = [rho for a, b in combinations(per_seed, 2) if np.isfinite(rho := paired_spearman(a, b))]
    return float(np.mean(values)) if values else math.nan


def _ensemble_members(benchmark, population, index, config, candidates, dataset, evaluator) -> tuple[list[str], dict[str, Any]]:
    if config.ensemble_members:
        keys = [evaluator(dataset, 0).key_for(m) for m in config.ensemble_members]
        missing = [m for m, k in zip(config.ensemble_members, keys, strict=True) if k not in candidates]
        if missing:
            raise ZeronasUserError(f"ensemble members {', '.join(missing)} are not among the report's proxies")
        return keys, {"chosen_by": "given"}
    remaining = np.setdiff1d(np.arange(len(population)), index)
    if len(remaining) < 2:
        raise ZeronasUserError(
            f"no cells are left beside the {len(index):,} reported ones to choose ensemble members on; pass a smaller "
            "--sample, fixed --ensemble-members or --no-ensemble"
        )
    pick = remaining[sample_indices(len(remaining), config.selection_sample, config.sample_seed + 1)]
    cells = [population[i] for i in pick]
    table = evaluator(dataset, 0).score(cells)
    accuracy = benchmark.ground_truth(cells, dataset)
    candidates_oriented = oriented(table.values, table.higher_is_better)
    members = select_members(candidates_oriented, accuracy, aggregation=config.aggregation)
    rho = spearman(rank_aggregate(candidates_oriented, members, aggregation=config.aggregation), accuracy)
    return members, {"chosen_by": "greedy selection", "cells": int(len(pick)), "dataset": dataset,
                     "selection_rho": rho}
