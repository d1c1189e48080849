"""Multi-fidelity search on NAS-Bench-101's runs at 4/12/36/108 epochs: the records against the
30k table read independently, and Hyperband's accounting re-derived from its training runs."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from zeronas.benchmarks import get_benchmark
from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError
from zeronas.search.multifidelity import fidelity_records, hyperband_experiment, hyperband_search

BENCH = get_benchmark("nb101")


@pytest.fixture(scope="module")
def records():
    return fidelity_records(BENCH, "cifar10")


def test_records_are_the_30k_tables_runs_of_cells_with_a_spec(records):
    with gzip.open(data_file("nasbench101/nb101_30k_hashkeyed_multifidelity.csv.gz"), "rt") as handle:
        rows = {row["module_hash"]: row for row in csv.DictReader(handle)}
    assert len(records.archs) == 189 and records.epochs == (4, 12, 36, 108)
    for i in (0, 50, 188):
        row = rows[BENCH.space.identity(records.archs[i])]
        assert records.identities[i] == BENCH.space.identity(records.archs[i])
        expected = [100 * float(row[f"val_acc_{e}ep"]) for e in (4, 12, 36, 108)]
        np.testing.assert_allclose(records.accuracy[i], expected, rtol=1e-12)
        np.testing.assert_allclose(records.seconds[i], [float(row["training_time_108ep_s"]) * e / 108
                                                        for e in (4, 12, 36, 108)], rtol=1e-12)


@pytest.mark.parametrize("hyperband", [True, False])
def test_spending_stays_within_the_budget_and_is_the_sum_of_its_runs(records, hyperband):
    run = hyperband_search(records, budget=20000, seed=3, hyperband=hyperband)
    spent = sum(records.seconds[row, level] for _, row, level in run.trained)
    assert run.seconds == pytest.approx(spent) and spent <= 20000
    top = len(records.epochs) - 1
    by_trial: dict[int, list[int]] = {}
    for trial, _, level in run.trained:
        by_trial.setdefault(trial, []).append(level)
    if hyperband:  # every trial climbs the budgets from the smallest, one at a time
        assert all(levels == list(range(len(levels))) for levels in by_trial.values())
        assert run.pruned > 0
    else:
        assert all(levels == [top] for levels in by_trial.values()) and run.pruned == 0
    finished = [t for t, levels in by_trial.items() if levels[-1] == top]
    assert run.completed == len(finished)
    best_rows = [row for t, row, level in run.trained if level == top]
    assert run.best_accuracy == max(records.accuracy[r, top] for r in best_rows)


def test_the_same_seed_gives_the_same_search(records):
    first, again = (hyperband_search(records, budget=15000, seed=7) for _ in range(2))
    assert first.trained == again.trained and first.best == again.best


def test_experiment_summary_and_bad_input(records):
    summary = hyperband_experiment(BENCH, "cifar10", budget=15000, runs=4, seed=0)
    values = [hyperband_search(records, budget=15000, seed=s).best_accuracy for s in range(4)]
    assert summary["accuracy"]["mean"] == pytest.approx(np.mean(values))
    with pytest.raises(ZeronasUserError, match="several budgets"):
        fidelity_records(get_benchmark("nb201"), "cifar10")
    with pytest.raises(ZeronasUserError, match="sampler"):
        hyperband_search(records, budget=100, sampler="grid")
