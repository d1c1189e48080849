"""Score a benchmark sample over datasets and seeds, and measure every proxy's ranking quality.

The numbers of a report, without rendering: :func:`measure` scores (through the resumable
result store) and returns a :class:`Measurements`; ``render.py`` turns it into files.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from zeronas.data import DATASETS, accuracy_column, load_nb201_table
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
from zeronas.evaluate.metrics import Estimate, paired_spearman, ranking_metrics, spearman
from zeronas.evaluate.protocol import sample_indices
from zeronas.proxies import get_proxy_class
from zeronas.runner import ResultStore, score_archs
from zeronas.spaces import SPACES

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
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def oriented(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: orientation(name) * np.asarray(v, dtype=np.float64) for name, v in scores.items()}


def measure(
    results: str | os.PathLike[str] | ResultStore,
    *,
    space: str = "nb201",
    datasets: Sequence[str] = ("cifar10", "cifar100", "imagenet16"),
    sample: int = 1000,
    seeds: int = 3,
    proxies: Sequence[str] = DEFAULT_PROXIES,
    sample_seed: int = 0,
    ensemble: bool = True,
    ensemble_members: Sequence[str] | None = None,
    selection_sample: int = 1000,
    aggregation: str = "log_rank",
    nan_policy: str = "drop",
    resamples: int = 1000,
    data_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Measurements:
    """Score ``sample`` cells (drawn with ``sample_seed``) with ``proxies`` for seeds 0..seeds-1.

    Seeds change the data batch and the initialisation, never the cells. Every score goes to
    the JSON-lines file ``results``, so a rerun rescoring nothing regenerates the numbers.
    With ``ensemble``, its members are either given or chosen by greedy selection on
    ``selection_sample`` further cells, disjoint from the reported ones (CIFAR-10, seed 0).
    ``workers`` scoring processes run side by side (:func:`zeronas.runner.score_archs`).
    """
    start = time.perf_counter()
    _check(space, datasets, seeds, proxies, aggregation)
    table = load_nb201_table(data_dir)
    search_space = SPACES[space](data_dir)
    all_archs = search_space.all_archs()
    index = sample_indices(len(all_archs), sample, sample_seed)
    cells = [all_archs[i] for i in index]
    store = results if isinstance(results, ResultStore) else ResultStore(results)

    members: list[str] = []
    selection: dict[str, Any] = {}
    if ensemble:
        members, selection = _ensemble_members(
            search_space, all_archs, index, table, list(proxies), ensemble_members, selection_sample,
            sample_seed, aggregation, store, data_dir, workers, progress,
        )

    seed_list = list(range(seeds))
    scores: dict[str, dict[int, dict[str, np.ndarray]]] = {}
    accuracy: dict[str, np.ndarray] = {}
    for dataset in datasets:
        accuracy[dataset] = table.column(accuracy_column(dataset))[index]
        scores[dataset] = {}
        for seed in seed_list:
            scored = score_archs(search_space, cells, dataset=dataset, proxies=list(proxies), seed=seed,
                                 data_dir=data_dir, store=store, workers=workers, progress=progress)
            if members:
                scored[ENSEMBLE] = ensemble_scores(scored, members, aggregation=aggregation)
            scores[dataset][seed] = scored

    names = list(proxies) + ([ENSEMBLE] if members else [])
    metrics = {d: {} for d in datasets}
    rho_by_seed = {d: {} for d in datasets}
    agreement = {d: {} for d in datasets}
    rank_shift = {d: {} for d in datasets}
    for dataset in datasets:
        for name in names:
            per_seed = [orientation(name) * scores[dataset][s][name] for s in seed_list]
            metrics[dataset][name] = ranking_metrics(per_seed[0], accuracy[dataset], nan_policy=nan_policy,
                                                     resamples=resamples, seed=sample_seed)
            rho_by_seed[dataset][name] = [spearman(v, accuracy[dataset], nan_policy) for v in per_seed]
            agreement[dataset][name] = _seed_agreement(per_seed)
            rank_shift[dataset][name] = _cell_rank_shift(per_seed)

    checks = {d: {name: _protocol_checks(d, orientation(name) * scores[d][0][name], table, index)
                  for name in names} for d in datasets}
    return Measurements(
        space=space, datasets=list(datasets), seeds=seed_list, proxies=names, cells=[str(c) for c in cells],
        accuracy=accuracy, scores=scores, metrics=metrics, rho_by_seed=rho_by_seed, seed_agreement=agreement,
        cell_rank_shift=rank_shift, protocol_checks=checks,
        sample_effect={d: _sample_effect(d, table, index) for d in datasets},
        ensemble_members=members, ensemble_selection=selection,
        settings={"sample": sample, "sample_seed": sample_seed, "nan_policy": nan_policy, "resamples": resamples,
                  "aggregation": aggregation, "results": str(store.path)},
        seconds=time.perf_counter() - start,
    )


def _check(space: str, datasets: Sequence[str], seeds: int, proxies: Sequence[str], aggregation: str) -> None:
    if space not in SPACES:
        raise ZeronasUserError(f"unknown space {space!r}; choose from {', '.join(SPACES)}")
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown or not datasets:
        raise ZeronasUserError(f"unknown datasets {unknown or datasets}; choose from {', '.join(DATASETS)}")
    if seeds < 1:
        raise ZeronasUserError(f"--seeds must be at least 1, got {seeds}")
    for name in proxies:
        get_proxy_class(name)
    if aggregation not in AGGREGATIONS:
        raise ZeronasUserError(f"unknown aggregation {aggregation!r}; choose from {', '.join(AGGREGATIONS)}")


def _protocol_checks(dataset: str, oriented_scores: np.ndarray, table, index: np.ndarray) -> dict[str, float]:
    accuracy = table.column(accuracy_column(dataset))[index]
    out = {f"nan_{policy}": spearman(oriented_scores, accuracy, policy) for policy in ("drop", "worst")}
    if dataset == "cifar10":
        valid = table.column(CIFAR10_VALID_COLUMN)[index]
        out |= {f"cifar10_valid_{policy}": spearman(oriented_scores, valid, policy) for policy in ("drop", "worst")}
    return out


def _sample_effect(dataset: str, table, index: np.ndarray) -> float:
    params = table.column(f"params_M_{dataset}")
    accuracy = table.column(accuracy_column(dataset))
    return spearman(params[index], accuracy[index], "drop") - spearman(params, accuracy, "drop")


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


def _ensemble_members(space, all_archs, index, table, candidates, given, selection_sample, sample_seed,
                      aggregation, store, data_dir, workers, progress) -> tuple[list[str], dict[str, Any]]:
    if given:
        missing = [m for m in given if m not in candidates]
        if missing:
            raise ZeronasUserError(f"ensemble members {', '.join(missing)} are not among the report's proxies")
        return list(given), {"chosen_by": "given"}
    remaining = np.setdiff1d(np.arange(len(all_archs)), index)
    pick = remaining[sample_indices(len(remaining), selection_sample, sample_seed + 1)]
    scored = score_archs(space, [all_archs[i] for i in pick], dataset=SELECTION_DATASET, proxies=candidates,
                         seed=0, data_dir=data_dir, store=store, workers=workers, progress=progress)
    accuracy = table.column(accuracy_column(SELECTION_DATASET))[pick]
    candidates_oriented = oriented(scored)
    members = select_members(candidates_oriented, accuracy, aggregation=aggregation)
    rho = spearman(rank_aggregate(candidates_oriented, members, aggregation=aggregation), accuracy)
    return members, {"chosen_by": "greedy selection", "cells": int(len(pick)), "dataset": SELECTION_DATASET,
                     "selection_rho": rho}
