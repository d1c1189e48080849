"""Multi-fidelity search: Optuna's Hyperband pruner over a benchmark's runs at several budgets.

Each trial picks one of the benchmark's recorded architectures (TPE or random sampling over
them) and trains it at the smallest budget, then the next, reporting each accuracy to
Hyperband, which stops unpromising trials early. A budget is a separate recorded run, so
reaching the largest costs the runs of every budget before it. Without Hyperband
(``hyperband=False``) every trial trains once, at the largest budget: the single-fidelity
baseline. The search stops before a run would exceed ``budget`` seconds; its answer is the
best trial that reached the largest budget, by that accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from zeronas.benchmarks.base import FidelityRecords, MultiFidelityTraining
from zeronas.errors import ZeronasUserError
from zeronas.search.tpe import _optuna

SAMPLERS = ("tpe", "random")


@dataclass
class MultiFidelityRun:
    """One search: the chosen architecture (None if no trial reached the largest budget) and its
    largest-budget accuracy (%), trials started, completed and pruned, training runs and
    seconds spent, and each training run as (trial, architecture row, budget level)."""

    best: Any | None
    best_accuracy: float
    trials: int
    completed: int
    pruned: int
    runs: int
    seconds: float
    trained: list[tuple[int, int, int]]


def fidelity_records(benchmark: Any, dataset: str) -> FidelityRecords:
    """The multi-fidelity records of ``benchmark`` (one-line error if it has none)."""
    if not isinstance(benchmark, MultiFidelityTraining):
        raise ZeronasUserError(f"benchmark {benchmark.name!r} records no runs at several budgets; "
                               "multi-fidelity search needs one that does (nb101)")
    return benchmark.fidelity_records(dataset)


def hyperband_search(records: FidelityRecords, *, budget: float, seed: int = 0, sampler: str = "tpe",
                     hyperband: bool = True, reduction_factor: int = 3) -> MultiFidelityRun:
    """Search ``records`` within ``budget`` simulated seconds (see the module doc)."""
    optuna = _optuna()
    if sampler not in SAMPLERS:
        raise ZeronasUserError(f"unknown sampler {sampler!r}; choose from {', '.join(SAMPLERS)}")
    if not budget > 0:
        raise ZeronasUserError(f"the budget must be > 0 seconds, got {budget}")
    epochs = records.epochs
    chosen_sampler = (optuna.samplers.TPESampler(seed=seed, multivariate=True) if sampler == "tpe"
                      else optuna.samplers.RandomSampler(seed=seed))
    pruner = (optuna.pruners.HyperbandPruner(min_resource=epochs[0], max_resource=epochs[-1],
                                             reduction_factor=reduction_factor)
              if hyperband else optuna.pruners.NopPruner())
    # a fixed name: Hyperband assigns brackets by a hash of the study name and trial number
    study = optuna.create_study(direction="maximize", sampler=chosen_sampler, pruner=pruner,
                                study_name=f"zeronas-hyperband-{seed}")
    cells = optuna.distributions.CategoricalDistribution(list(range(len(records.archs))))
    levels = range(len(epochs)) if hyperband else [len(epochs) - 1]
    spent, finished = 0.0, False
    trained: list[tuple[int, int, int]] = []
    while not finished:
        trial = study.ask({"cell": cells})
        row = int(trial.params["cell"])
        for level in levels:
            cost = float(records.seconds[row, level])
            if spent + cost > budget:
                finished = True
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                break
            spent += cost
            trained.append((trial.number, row, level))
            accuracy = float(records.accuracy[row, level])
            if level == len(epochs) - 1:
                study.tell(trial, accuracy)
                break
            trial.report(accuracy, epochs[level])
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
    states = [t.state for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value) if complete else None
    return MultiFidelityRun(best=records.archs[best.params["cell"]] if best else None,
                            best_accuracy=float(best.value) if best else float("nan"), trials=len(states),
                            completed=len(complete), pruned=states.count(optuna.trial.TrialState.PRUNED),
                            runs=len(trained), seconds=spent, trained=trained)


def hyperband_experiment(benchmark: Any, dataset: str, *, budget: float, runs: int = 500, seed: int = 0,
                         sampler: str = "tpe", hyperband: bool = True) -> dict[str, Any]:
    """``runs`` seeded searches (seed + r): the chosen cells' largest-budget accuracy (mean, std,
    95% interval), trials and training runs per search."""
    from zeronas.evaluate.metrics import mean_with_interval

    records = fidelity_records(benchmark, dataset)
    results = [hyperband_search(records, budget=budget, seed=seed + r, sampler=sampler, hyperband=hyperband)
               for r in range(runs)]
    return {"architectures": len(records.archs), "epochs": list(records.epochs), "budget_seconds": budget,
            "sampler": sampler, "hyperband": hyperband, "runs": runs,
            "accuracy": mean_with_interval(np.array([r.best_accuracy for r in results])),
            "trials": mean_with_interval(np.array([r.trials for r in results], dtype=float)),
            "completed": mean_with_interval(np.array([r.completed for r in results], dtype=float)),
            "training_runs": mean_with_interval(np.array([r.runs for r in results], dtype=float)),
            "optimum": float(records.accuracy[:, -1].max())}
