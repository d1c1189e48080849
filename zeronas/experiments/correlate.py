"""The correlation protocol: a seeded sample of a benchmark's population, scored and ranked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zeronas.benchmarks import get_benchmark
from zeronas.errors import ZeronasUserError
from zeronas.evaluate.correlation import NAN_POLICIES, Correlation, correlate_scores
from zeronas.evaluate.ensemble import AGGREGATIONS, ENSEMBLE, ensemble_scores
from zeronas.evaluate.metrics import sample_indices
from zeronas.proxies import Proxy
from zeronas.runner import Evaluator, ScoreTable, Store
from zeronas.runner.executors import Executor
from zeronas.scoring import HEADLINE_PROXIES


@dataclass(frozen=True)
class CorrelateConfig:
    """What to correlate: ``sample`` architectures (None: the whole population with ground truth),
    drawn with ``seed`` from the benchmark's population, scored with ``seed`` (batch and init).

    ``metric`` defaults to the benchmark's default for ``dataset``. ``ensemble`` names member
    proxy keys (scored too if not in ``proxies``) whose rank aggregation is reported as
    ``"ensemble"``. NaN scores are dropped or ranked worst (``nan_policy``).
    """

    benchmark: str = "nb201"
    dataset: str = "cifar10"
    sample: int | None = 1000
    seed: int = 0
    proxies: tuple[str | Proxy, ...] = HEADLINE_PROXIES
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    metric: str | None = None
    nan_policy: str = "drop"
    ensemble: tuple[str, ...] = ()
    aggregation: str = "log_rank"
    # Isomorphic cells share their class representative's score (see Evaluator.share_classes).
    share_classes: bool = False

    def __post_init__(self) -> None:
        if self.nan_policy not in NAN_POLICIES:
            raise ZeronasUserError(f"unknown NaN policy {self.nan_policy!r}; choose from {', '.join(NAN_POLICIES)}")
        if self.aggregation not in AGGREGATIONS:
            raise ZeronasUserError(f"unknown aggregation {self.aggregation!r}; choose from {', '.join(AGGREGATIONS)}")
        if self.sample is not None and self.sample < 1:
            raise ZeronasUserError(f"--sample must be a positive number of cells, got {self.sample}")


@dataclass
class CorrelateResult:
    """Correlations by proxy key (and ``"ensemble"``), with the scored table and ground truth."""

    correlations: dict[str, Correlation]
    table: ScoreTable
    ground_truth: Any
    metric: str
    cells: int
    classes: int = 0  # distinct isomorphism classes scored, when classes share scores (else 0)


def correlate(
    config: CorrelateConfig = CorrelateConfig(),
    *,
    store: Store | None = None,
    executor: Executor | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    tables: bool | str | os.PathLike[str] = True,
) -> CorrelateResult:
    """Score the configured sample and correlate each proxy with the ground truth (oriented rho/tau).

    Scores whose keys match a score table (``tables``: the shipped ones by default, or a
    campaign directory) are read, not recomputed; only what is missing is scored.
    """
    benchmark = get_benchmark(config.benchmark, data_dir)
    metric = benchmark.metric(config.dataset, config.metric).name
    population = benchmark.population(config.dataset, metric)
    index = sample_indices(len(population), config.sample, config.seed)
    archs = [population[i] for i in index]
    # Oriented so that higher is better: a proxy that ranks well then has a positive rho.
    truth = benchmark.ground_truth(archs, config.dataset, metric)
    if not benchmark.metric(config.dataset, metric).higher_is_better:
        truth = -truth
    proxies = list(config.proxies)
    keys_or_names = {p if isinstance(p, str) else p.key for p in proxies}
    proxies += [m for m in config.ensemble if m not in keys_or_names]
    evaluator = Evaluator(benchmark, dataset=config.dataset, proxies=proxies, seed=config.seed,
                          options=config.options, store=store, executor=executor, data_dir=data_dir, progress=progress,
                          tables=tables, share_classes=config.share_classes)
    members = [evaluator.key_for(m) for m in config.ensemble]
    table = evaluator.score(archs)
    out = {
        key: correlate_scores(values, truth, nan_policy=config.nan_policy,
                              higher_is_better=table.higher_is_better[key])
        for key, values in table.values.items()
    }
    if members:
        combined = ensemble_scores(table.values, members, aggregation=config.aggregation,
                                   higher_is_better=table.higher_is_better)
        out[ENSEMBLE] = correlate_scores(combined, truth, nan_policy=config.nan_policy)
    classes = len({evaluator.space.canonical(a) for a in archs}) if config.share_classes else 0
    return CorrelateResult(correlations=out, table=table, ground_truth=truth, metric=metric, cells=len(archs),
                           classes=classes)
