"""Simulated training against the per-seed file read independently (csv module), and budgets."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from zeronas.benchmarks import get_benchmark
from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError
from zeronas.search import SimulatedTrainer, get_searcher, run_search, training_records

BENCH = get_benchmark("nb201")


@pytest.fixture(scope="module")
def rows():
    with gzip.open(data_file("nasbench201/nb201_perseed_valid_acc_train_time.csv.gz"), "rt") as handle:
        return {row["arch_str"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("dataset,prefix", [("cifar10", "cifar10"), ("cifar100", "cifar100"),
                                            ("imagenet16", "imagenet")])
def test_fitness_is_a_recorded_seed_and_cost_the_scaled_time(rows, dataset, prefix):
    records = training_records(BENCH, dataset)
    trainer = SimulatedTrainer(BENCH.space, records, np.random.default_rng(0), cost_scale=0.06)
    archs = [BENCH.space.all_archs()[i] for i in (0, 1, 6111, 15624)]
    for arch in archs:
        row = rows[str(arch)]
        seeds = {float(row[f"{prefix}_valid_acc_s{s}"]) for s in range(3) if row[f"{prefix}_valid_acc_s{s}"]}
        seen = set()
        for _ in range(40):
            accuracy, seconds = trainer(arch)
            seen.add(accuracy)
            assert seconds == pytest.approx(float(row[f"{prefix}_train_all_time_200ep_s"]) * 0.06)
        assert seen == seeds  # every recorded seed is drawn, nothing else


def test_seed_means_reproduce_the_v1_0_validation_column():
    """v1_0 averaged the runs it had: every recorded seed for most cells, a subset for the rest
    (the per-seed file holds a later release's extra runs)."""
    import itertools

    records = training_records(BENCH, "cifar10")
    truth = BENCH.ground_truth(BENCH.space.all_archs(), "cifar10", "cifar10_valid_val_acc_v1_0")
    every = np.abs(np.nanmean(records.accuracy, axis=1) - truth) < 1e-4
    matched = every.copy()
    for size in (1, 2):
        for subset in itertools.combinations(range(3), size):
            matched |= np.abs(records.accuracy[:, list(subset)].mean(axis=1) - truth) < 1e-4
    assert matched.all() and every.mean() > 0.8


def test_a_seconds_budget_stops_before_it_is_exceeded():
    records = training_records(BENCH, "cifar10")
    trainer = SimulatedTrainer(BENCH.space, records, np.random.default_rng(1), cost_scale=0.06)
    run = run_search(get_searcher("rs")(BENCH.space, seed=1), trainer, budget=3000, budget_unit="seconds")
    spent = sum(run.train_seconds)
    assert spent <= 3000 and len(run) >= 10
    # the next draw of the same stream would have crossed the budget
    replay = SimulatedTrainer(BENCH.space, records, np.random.default_rng(1), cost_scale=0.06)
    rs = get_searcher("rs")(BENCH.space, seed=1)
    costs = []
    for _ in range(len(run) + 1):
        arch = rs.ask()
        costs.append(replay(arch)[1])
        rs.tell(arch, 0.0)
    assert sum(costs) > 3000


def test_incumbents_follow_the_best_fitness_so_far():
    from zeronas.search import Trajectory

    t = Trajectory(archs=list("abcde"), fitness=[float("nan"), 2.0, 1.0, 5.0, 5.0], train_seconds=[1.0] * 5,
                   proxy_seconds=[0.0] * 5)
    assert t.incumbents().tolist() == [-1, 1, 1, 3, 3]  # none before the first finite fitness
    assert t.best_index() == 3


@pytest.mark.parametrize("kwargs,match", [({"budget": 0}, "budget"), ({"budget": 5, "budget_unit": "hours"}, "unit")])
def test_bad_budgets(kwargs, match):
    with pytest.raises(ZeronasUserError, match=match):
        run_search(get_searcher("rs")(BENCH.space, seed=0), lambda a: (1.0, 1.0), **kwargs)


def test_zero_cost_evaluations_cannot_spend_a_seconds_budget():
    with pytest.raises(ZeronasUserError, match="positive cost"):
        run_search(get_searcher("rs")(BENCH.space, seed=0), lambda a: (1.0, 0.0), budget=10, budget_unit="seconds")
