"""The benchmark contract, run on every registered benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.benchmarks import get_benchmark, list_benchmarks
from zeronas.data import list_datasets
from zeronas.errors import ZeronasUserError
from zeronas.evaluate import sample_indices


@pytest.fixture(scope="module", params=list_benchmarks())
def benchmark(request):
    return get_benchmark(request.param)


def test_datasets_and_default_metrics_are_declared(benchmark):
    assert benchmark.datasets and set(benchmark.datasets) <= set(list_datasets())
    for dataset in benchmark.datasets:
        metrics = benchmark.metrics(dataset)
        assert benchmark.default_metric(dataset) in metrics
        assert benchmark.metric(dataset).name == benchmark.default_metric(dataset)


def test_ground_truth_follows_identity_not_position(benchmark):
    dataset = benchmark.datasets[0]
    population = benchmark.population(dataset)
    identities = [benchmark.space.identity(a) for a in population]
    assert len(set(identities)) == len(identities)  # one entry per network
    archs = [population[i] for i in sample_indices(len(population), 20, 0)]
    values = benchmark.ground_truth(archs, dataset)
    assert values.shape == (20,) and np.isfinite(values).all()
    order = np.random.default_rng(0).permutation(20)
    shuffled = benchmark.ground_truth([archs[i] for i in order], dataset)
    np.testing.assert_array_equal(shuffled, values[order])
    as_text = benchmark.ground_truth([benchmark.space.format(a) for a in archs], dataset)
    np.testing.assert_array_equal(as_text, values)


def test_unknown_dataset_and_metric_are_one_line_errors(benchmark):
    with pytest.raises(ZeronasUserError, match="choose from") as info:
        benchmark.metric("mnist")
    assert "\n" not in str(info.value)
    with pytest.raises(ZeronasUserError, match="no metric 'nonsense'"):
        benchmark.ground_truth(benchmark.population(benchmark.datasets[0])[:1], benchmark.datasets[0], "nonsense")
