"""Search experiments on a benchmark: R seeded runs of one algorithm (vanilla, proxy-assisted or
training-free arg-max), scored against the benchmark's ground truth.

Training is simulated from the benchmark's recorded runs (:mod:`zeronas.search.simulate`):
fitness is one random seed's validation accuracy on the search dataset, and a run's final
architecture is its best evaluation by fitness. The final architectures are reported by the
test accuracy (``<dataset>_test_acc``) of every dataset of the benchmark, so a search on
CIFAR-10 also reports its transfer to the others. Run r uses seed ``seed + r``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zeronas import _json as strict_json
from zeronas.benchmarks import get_benchmark
from zeronas.errors import ZeronasUserError
from zeronas.evaluate.ensemble import DEFAULT_MEMBERS
from zeronas.evaluate.metrics import difference_with_interval, mean_with_interval
from zeronas.search import (
    NB201_SEARCH_COST_SCALE,
    ProxyScorer,
    SimulatedTrainer,
    get_searcher,
    list_searchers,
    live_scorer,
    make_assistance,
    run_search,
    table_scorer,
    training_records,
)
from zeronas.search.loop import BUDGET_UNITS

ARGMAX = "argmax"


def algorithms() -> list[str]:
    """Every algorithm an experiment runs: the registered searchers and training-free arg-max."""
    return [*list_searchers(), ARGMAX]


@dataclass(frozen=True)
class SearchConfig:
    """One search experiment.

    ``dataset``: the search dataset (fitness and proxy scores). ``algorithm``: a registered
    searcher or ``"argmax"`` (the proxy's arg-max among ``budget`` random architectures drawn
    with replacement; ``budget=0``: the whole population, one run). ``proxy``: a proxy name or
    ``"ensemble"`` (the rank ensemble of ``members``), scores read from ``tables``;
    ``proxy_options`` configure the proxy instance (e.g. ``{"reduction": "mean"}``).
    ``assist``: ``k10``, ``warmup``, ``move`` (see :func:`zeronas.search.make_assistance`).
    ``budget_unit``: ``evals`` or simulated ``seconds``; each evaluation costs the recorded
    training time x ``cost_scale`` (default 12/200: NAS-Bench-201's 12-epoch search schedule
    approximated from the 200-epoch time). ``charge_proxy``: proxy seconds count against the
    budget (the papers' protocol does not charge them; both are reported).
    """

    benchmark: str = "nb201"
    dataset: str = "cifar10"
    algorithm: str = "rea"
    proxy: str | None = None
    proxy_options: Mapping[str, Any] = field(default_factory=dict)
    assist: str | None = None
    budget: float = 100
    budget_unit: str = "evals"
    runs: int = 500
    seed: int = 0
    charge_proxy: bool = False
    cost_scale: float = NB201_SEARCH_COST_SCALE
    algorithm_options: Mapping[str, Any] = field(default_factory=dict)
    members: tuple[str, ...] = DEFAULT_MEMBERS
    proxy_seed: int = 0
    tables: bool | str = True
    workers: int = 1

    def __post_init__(self) -> None:
        if self.algorithm not in algorithms():
            raise ZeronasUserError(f"unknown search algorithm {self.algorithm!r}; "
                                   f"choose from {', '.join(algorithms())}")
        if self.budget_unit not in BUDGET_UNITS:
            raise ZeronasUserError(f"unknown budget unit {self.budget_unit!r}; choose from {', '.join(BUDGET_UNITS)}")
        if self.runs < 1:
            raise ZeronasUserError(f"runs must be >= 1, got {self.runs}")
        if self.algorithm == ARGMAX:
            if self.proxy is None:
                raise ZeronasUserError("argmax selects by a proxy; pass --proxy NAME or --proxy ensemble")
            if self.assist is not None or self.budget_unit != "evals":
                raise ZeronasUserError("argmax takes a budget in architectures (--budget N, 0 for all) and no --assist")
            if self.budget < 0:
                raise ZeronasUserError(f"argmax needs --budget N >= 1 (or 0: the whole space), got {self.budget}")
        else:
            if (self.proxy is None) != (self.assist is None):
                raise ZeronasUserError("a proxy-assisted search needs both --proxy and --assist (k10, warmup or move)")
            if not self.budget > 0:
                raise ZeronasUserError(f"the budget must be > 0, got {self.budget}")
        if self.budget_unit == "evals" and not float(self.budget).is_integer():
            raise ZeronasUserError(f"a budget in evaluations (or architectures) is a whole number, got {self.budget}")
        if self.workers < 1:
            raise ZeronasUserError(f"workers must be >= 1, got {self.workers}")
        if self.proxy_options and (self.proxy is None or self.proxy == "ensemble"):
            raise ZeronasUserError("proxy options configure one proxy; give --proxy NAME (not the ensemble)")
        if self.proxy_options:
            self.proxy_instance()  # an unknown option or a bad value: one line listing the valid ones
        if self.charge_proxy and self.proxy is None:
            raise ZeronasUserError("--charge-proxy charges a proxy's seconds; add --proxy and --assist")

    def proxy_instance(self) -> Any:
        """The proxy as the scorer is asked for it: its name, or a configured instance."""
        if not self.proxy_options:
            return self.proxy
        from zeronas.proxies import get_proxy

        return get_proxy(self.proxy, **dict(self.proxy_options))

    @property
    def proxy_key(self) -> str | None:
        """The proxy's result key: its name, with its non-default options (``gradsign[reduction=mean]``)."""
        return self.proxy_instance().key if self.proxy_options else self.proxy

    @property
    def algorithm_label(self) -> str:
        """The algorithm and its options, without the assistance: what vanilla and assisted share."""
        if not self.algorithm_options:
            return self.algorithm
        return self.algorithm + " (" + ", ".join(f"{k}={v}" for k, v in sorted(self.algorithm_options.items())) + ")"

    @property
    def label(self) -> str:
        if self.algorithm == ARGMAX:
            return f"argmax {self.proxy_key} N={int(self.budget) or 'all'}"
        name = self.algorithm_label
        if self.proxy is not None:
            name += f" + {self.proxy_key} {self.assist}" + (", proxy time charged" if self.charge_proxy else "")
        return name


@dataclass
class SearchResult:
    """Per-run outcomes and their summary; ``final[dataset]``: mean, std and 95% interval of the
    chosen architectures' test accuracy (%)."""

    config: SearchConfig
    runs: list[dict[str, Any]]
    final: dict[str, dict[str, Any]]
    cost: dict[str, Any]
    seconds: float
    curves: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, with_runs: bool = True) -> dict[str, Any]:
        settings = {k: v for k, v in asdict(self.config).items() if k != "workers"}
        settings["algorithm_options"] = dict(self.config.algorithm_options)
        settings["members"] = list(self.config.members) if self.config.proxy == "ensemble" else None
        out = {"label": self.config.label, "settings": settings, "final": self.final, "cost": self.cost,
               "wall_seconds": self.seconds, **self.extra}
        if with_runs:
            out["runs"] = self.runs
        return out


# The state a run needs, built once per experiment; worker processes inherit it (fork).
_STATE: dict[str, Any] = {}


def _prepare(config: SearchConfig, data_dir: str | os.PathLike[str] | None, scorer: Any) -> dict[str, Any]:
    benchmark = get_benchmark(config.benchmark, data_dir)
    benchmark.check_dataset(config.dataset)
    state: dict[str, Any] = {"benchmark": benchmark, "config": config}
    state["records"] = training_records(benchmark, config.dataset)
    if scorer is not None:
        state["scorer"] = scorer
    elif config.proxy is not None and config.tables is False:
        state["scorer"] = live_scorer(benchmark, config.dataset, config.proxy_instance(), seed=config.proxy_seed,
                                      members=config.members, data_dir=data_dir)
    elif config.proxy is not None:
        state["scorer"] = table_scorer(benchmark, config.dataset, config.proxy_instance(), seed=config.proxy_seed,
                                       members=config.members, tables=config.tables, data_dir=data_dir)
    return state


def _one_run(run: int) -> dict[str, Any]:
    state = _STATE
    config, benchmark = state["config"], state["benchmark"]
    space = benchmark.space
    run_seed = config.seed + run
    assist = make_assistance(config.assist, state["scorer"]) if config.assist is not None else None
    searcher = get_searcher(config.algorithm)(space, seed=run_seed, assist=assist, **dict(config.algorithm_options))
    trainer = SimulatedTrainer(space, state["records"], np.random.default_rng([1, run_seed]),
                               cost_scale=config.cost_scale)
    trajectory = run_search(searcher, trainer, budget=config.budget, budget_unit=config.budget_unit,
                            charge_proxy=config.charge_proxy)
    # proxy seconds up to the last counted evaluation (a step the budget refused is not spent)
    proxy_seconds = trajectory.proxy_seconds[-1] if len(trajectory) else 0.0
    if not len(trajectory):  # the budget refused even the first evaluation
        return {"seed": run_seed, "arch": None, "fitness": float("nan"), "evaluations": 0, "train_seconds": 0.0,
                "proxy_seconds": proxy_seconds, "trajectory": _digest(space, trajectory), "_archs": [],
                "_incumbents": np.zeros(0, dtype=np.int64), "_cost": np.zeros(0)}
    best = trajectory.best_index()
    return {"seed": run_seed, "arch": space.format(trajectory.archs[best]), "fitness": trajectory.fitness[best],
            "evaluations": len(trajectory), "train_seconds": float(np.sum(trajectory.train_seconds)),
            "proxy_seconds": proxy_seconds, "trajectory": _digest(space, trajectory), "_archs": trajectory.archs,
            "_incumbents": trajectory.incumbents(),
            "_cost": np.cumsum(trajectory.train_seconds) + (np.asarray(trajectory.proxy_seconds)
                                                             if config.charge_proxy else 0.0)}


def _digest(space: Any, trajectory: Any) -> str:
    """16 hex digits identifying a run's whole trajectory: every architecture evaluated, in
    order, with its fitness (equal digests: the same search)."""
    text = "\n".join(f"{space.format(a)} {f!r}" for a, f in zip(trajectory.archs, trajectory.fitness, strict=True))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run_all(config: SearchConfig) -> list[dict[str, Any]]:
    runs = range(config.runs)
    import multiprocessing

    # workers inherit the prepared state by fork; where there is no fork, runs share one process
    if config.workers == 1 or config.runs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_one_run(r) for r in runs]
    with ProcessPoolExecutor(config.workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_one_run, runs, chunksize=max(1, config.runs // (4 * config.workers))))


def run_search_experiment(config: SearchConfig | None = None, *, data_dir: str | os.PathLike[str] | None = None,
                          scorer: ProxyScorer | None = None, **options: Any) -> SearchResult:
    """Run ``config`` (or a :class:`SearchConfig` built from ``options``).

    ``scorer``: the proxy scores to use instead of reading ``config.proxy`` from the tables
    (any :class:`~zeronas.search.ProxyScorer`; ``config.proxy`` then only labels it).
    """
    config = config if config is not None else SearchConfig(**options)
    if scorer is not None and config.proxy is None:
        raise ZeronasUserError("a scorer is given but no proxy; set proxy (its label) and assist")
    started = time.perf_counter()
    _STATE.clear()
    _STATE.update(_prepare(config, data_dir, scorer))
    try:
        if config.algorithm == ARGMAX:
            return _argmax(config, started)
        runs = _run_all(config)
    finally:
        state = dict(_STATE)
        _STATE.clear()
    benchmark = state["benchmark"]
    datasets = benchmark.datasets
    found = [i for i, r in enumerate(runs) if r["arch"] is not None]  # runs with an evaluation
    final_acc = {ds: np.full(len(runs), np.nan) for ds in datasets}
    for ds in datasets:
        final_acc[ds][found] = benchmark.ground_truth([runs[i]["arch"] for i in found], ds)
    curves = _curves(benchmark, config, runs)
    for i, r in enumerate(runs):
        r["test"] = {ds: float(final_acc[ds][i]) for ds in datasets}  # NaN for a run with no evaluation
        for key in ("_archs", "_incumbents", "_cost"):
            r.pop(key)
    final = {ds: mean_with_interval(final_acc[ds]) for ds in datasets}
    cost = {name: mean_with_interval(np.array([r[name] for r in runs])) for name in
            ("evaluations", "train_seconds", "proxy_seconds")}
    cost["proxy_charged"] = config.charge_proxy
    return SearchResult(config=config, runs=runs, final=final, cost=cost, seconds=time.perf_counter() - started,
                        curves=curves)


def _curves(benchmark: Any, config: SearchConfig, runs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Best-so-far test accuracy on the search dataset: by evaluation (runs x evaluations, the
    last value carried on) and on a grid of simulated seconds."""
    longest = max(1, max(len(r["_archs"]) for r in runs))
    by_eval = np.full((len(runs), longest), np.nan)
    horizon = max([float(r["_cost"][-1]) for r in runs if len(r["_cost"])] or [1.0])
    grid = np.linspace(0.0, config.budget if config.budget_unit == "seconds" else horizon, 101)
    by_time = np.full((len(runs), grid.size), np.nan)
    for i, r in enumerate(runs):
        if not r["_archs"]:
            continue
        truth = np.append(benchmark.ground_truth(r["_archs"], config.dataset), np.nan)
        accuracy = truth[r["_incumbents"]]  # incumbent -1 (no finite fitness yet) reads the NaN
        by_eval[i, :accuracy.size] = accuracy
        by_eval[i, accuracy.size:] = accuracy[-1]
        reached = np.searchsorted(r["_cost"], grid, side="right") - 1  # evaluations finished by each time
        by_time[i] = np.where(reached >= 0, accuracy[np.maximum(reached, 0)], np.nan)
    return {"evaluations": np.arange(1, longest + 1), "by_evaluation": by_eval, "seconds": grid, "by_seconds": by_time}


def _argmax(config: SearchConfig, started: float) -> SearchResult:
    """The proxy's arg-max among N random architectures (with replacement), or the whole population."""
    benchmark, records, scorer = _STATE["benchmark"], _STATE["records"], _STATE["scorer"]
    population = list(benchmark.population(config.dataset))
    datasets = benchmark.datasets
    truth = {ds: benchmark.ground_truth(population, ds) for ds in datasets}
    oracle_fitness = np.nanmean(records.accuracy[records.rows([benchmark.space.identity(a) for a in population])],
                                axis=1)
    n = int(config.budget)
    if n == 0:
        draws = np.arange(len(population))[None, :]
    else:
        draws = np.stack([np.random.default_rng(config.seed + r).integers(0, len(population), n)
                          for r in range(config.runs)])
    if getattr(scorer, "relative", False):  # a rank ensemble ranks among the N drawn, per run
        per_run = [scorer.score([population[i] for i in d]) for d in draws]
        drawn_raw = np.stack([p[0] for p in per_run])
        drawn_seconds = np.stack([p[1] for p in per_run])
    else:  # every cell drawn by any run, scored once (live scoring scores only these)
        needed = np.unique(draws)
        scores, seconds = np.full(len(population), np.nan), np.zeros(len(population))
        scores[needed], seconds[needed] = scorer.score([population[i] for i in needed])
        drawn_raw, drawn_seconds = scores[draws], seconds[draws]
    drawn_scores = np.where(np.isfinite(drawn_raw), drawn_raw, -np.inf)
    pick = np.argmax(drawn_scores, axis=1)  # the first of the highest; the first draw if all are undefined
    chosen = draws[np.arange(len(draws)), pick]
    drawn_fitness = oracle_fitness[draws]
    drawn_fitness = np.where(np.isfinite(drawn_fitness), drawn_fitness, -np.inf)
    oracle = draws[np.arange(len(draws)), np.argmax(drawn_fitness, axis=1)]
    search_truth = truth[config.dataset]
    distinct = [np.unique(d, return_index=True) for d in draws]  # (cells, first position) of each run's draw
    # rank among the distinct cells drawn: 1 + those whose accuracy is higher
    ranks = [1 + int(np.sum(search_truth[cells] > search_truth[c])) for (cells, _), c in zip(distinct, chosen,
                                                                                             strict=True)]
    runs = [{"seed": config.seed + r if n else None, "arch": benchmark.space.format(population[int(c)]),
             "score": float(drawn_raw[r, pick[r]]), "rank_in_sample": ranks[r],
             "all_nan": bool(np.all(drawn_scores[r] == -np.inf)),
             "proxy_seconds": float(drawn_seconds[r, distinct[r][1]].sum()),  # each distinct cell once
             "test": {ds: float(truth[ds][c]) for ds in datasets}} for r, c in enumerate(chosen)]
    final = {ds: mean_with_interval(truth[ds][chosen]) for ds in datasets}
    cost = {"architectures": n or len(population),
            "proxy_seconds": mean_with_interval(np.array([r["proxy_seconds"] for r in runs]))}
    extra = {"rank_in_sample": mean_with_interval(np.array(ranks, dtype=float)),
             "oracle_by_validation": {ds: mean_with_interval(truth[ds][oracle]) for ds in datasets},
             "nan_share": float(np.mean(~np.isfinite(drawn_raw)))}
    return SearchResult(config=config, runs=runs, final=final, cost=cost, seconds=time.perf_counter() - started,
                        extra=extra)


def compare(assisted: SearchResult, vanilla: SearchResult) -> dict[str, dict[str, Any]]:
    """Per dataset: mean test accuracy of ``assisted`` minus ``vanilla`` with a 95% bootstrap
    interval, the two sets of runs resampled independently (their trajectories share seeds, not
    outcomes), which is the wider, conservative interval."""
    out = {}
    for ds in assisted.final:
        a = np.array([r["test"][ds] for r in assisted.runs])
        b = np.array([r["test"][ds] for r in vanilla.runs])
        out[ds] = difference_with_interval(a, b)
    return out


def _fmt(summary: Mapping[str, Any]) -> str:
    lo, hi = summary["ci95"]
    return f"{summary['mean']:.2f} ± {summary['std']:.2f} [{lo:.2f}, {hi:.2f}]"


def markdown_summary(results: Sequence[SearchResult],
                     comparisons: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A Markdown table: test accuracy (mean ± std [95% interval]) per dataset, search cost, and
    the assisted-minus-vanilla difference where ``comparisons`` gives it (by label)."""
    datasets = list(results[0].final)
    ranked = any("rank_in_sample" in r.extra for r in results)
    head = ["search", *[f"{ds} test (%)" for ds in datasets], "evaluations", "train s", "proxy s"]
    head += ["rank among N"] if ranked else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for result in results:
        cost = result.cost
        evaluations = cost.get("evaluations", {}).get("mean", cost.get("architectures"))
        train = cost.get("train_seconds", {}).get("mean", 0.0)
        cells = [result.config.label, *[_fmt(result.final[ds]) for ds in datasets],
                 f"{evaluations:.1f}" if isinstance(evaluations, float) else str(evaluations),
                 f"{train:.0f}", f"{cost['proxy_seconds']['mean']:.0f}"]
        if ranked:
            rank = result.extra.get("rank_in_sample")
            cells.append(f"{rank['mean']:.1f}" if rank else "")
        lines.append("| " + " | ".join(cells) + " |")
    if comparisons:
        lines += ["", "| assisted − vanilla | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
        for label, diff in comparisons.items():
            lines.append(f"| {label} | " + " | ".join(
                f"{diff[ds]['diff']:+.2f} [{diff[ds]['ci95'][0]:+.2f}, {diff[ds]['ci95'][1]:+.2f}]" for ds in datasets)
                + " |")
    return "\n".join(lines) + "\n"


def write_outputs(out: str | os.PathLike[str], results: Sequence[SearchResult],
                  comparisons: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Path]:
    """``summary.json``, ``summary.md`` and best-so-far curve PNGs (by evaluation and by simulated
    seconds; median and inter-quartile band per search) under ``out``."""
    from zeronas.report.figures import search_curves

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "summary.json", "markdown": out / "summary.md"}
    payload = {"results": [r.as_dict() for r in results], "comparisons": dict(comparisons or {})}
    paths["json"].write_text(strict_json.dumps(payload, indent=1) + "\n")
    paths["markdown"].write_text(markdown_summary(results, comparisons))
    curved = [r for r in results if r.curves]
    if curved:
        dataset = curved[0].config.dataset
        ylabel = f"{dataset} test accuracy of the best so far (%)"
        for kind, x_key, y_key, xlabel in (("evaluation", "evaluations", "by_evaluation", "evaluations"),
                                          ("seconds", "seconds", "by_seconds", "simulated training seconds")):
            panels: dict[str, dict[str, Any]] = {}
            for r in curved:  # one panel per algorithm setting, vanilla beside its assisted runs
                panels.setdefault(r.config.algorithm_label, {})[r.config.label] = (r.curves[x_key], r.curves[y_key])
            paths[f"curve_{x_key}"] = search_curves(panels, out / f"best_by_{kind}.png", xlabel=xlabel, ylabel=ylabel)
    return paths
