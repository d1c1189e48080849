"""Report measurements against the ground-truth table, and resumption from the results file."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from zeronas.data import load_nb201_table
from zeronas.errors import ZeronasUserError
from zeronas.experiments.reproduction import ReproductionConfig, measure
from zeronas.spaces.nb201 import count_parameters


def test_measure_matches_the_table_and_resumes(tmp_path):
    results = tmp_path / "results.jsonl"
    config = ReproductionConfig(datasets=("cifar10",), sample=12, seeds=2, proxies=("params", "flops", "synflow"),
                                selection_sample=10, resamples=50)
    m = measure(config, store=results, progress=False, tables=False)
    table = load_nb201_table()
    index = [table.index_of(c) for c in m.cells]
    accuracy = table.column("cifar10_test_acc")[index]
    params = np.array([count_parameters(c) for c in m.cells]) / 1e6
    assert m.scores["cifar10"][0]["params"] == pytest.approx(params)
    assert m.metrics["cifar10"]["params"]["spearman"].value == pytest.approx(stats.spearmanr(params, accuracy).statistic)
    assert m.rho_by_seed["cifar10"]["params"] == pytest.approx([m.metrics["cifar10"]["params"]["spearman"].value] * 2)
    assert m.seed_agreement["cifar10"]["params"] == pytest.approx(1.0)
    assert m.ensemble_members and set(m.ensemble_members) <= {"params", "flops", "synflow"}
    assert m.ensemble_selection["cells"] == 10
    lines = results.read_text().count("\n")
    again = measure(config, store=results, progress=False, tables=False)  # all stored: nothing rescored, same numbers
    assert results.read_text().count("\n") == lines
    assert again.metrics == m.metrics and again.ensemble_members == m.ensemble_members


def test_bad_report_arguments_are_user_errors(tmp_path):
    with pytest.raises(ZeronasUserError, match="dataset"):
        measure(ReproductionConfig(datasets=("mnist",)), store=tmp_path / "r.jsonl")
    with pytest.raises(ZeronasUserError, match="seeds"):
        ReproductionConfig(seeds=0)
    with pytest.raises(ZeronasUserError, match="not among"):
        measure(ReproductionConfig(datasets=("cifar10",), sample=5, proxies=("params",), ensemble_members=("flops",)),
                store=tmp_path / "r.jsonl", progress=False)


def test_cell_rank_shift_by_hand():
    from zeronas.experiments.reproduction import _cell_rank_shift

    # ranks/3 percentiles: seed a = 33.3 66.7 100, seed b = 100 66.7 33.3 -> shifts 66.7, 0, 66.7
    a, b = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    assert _cell_rank_shift([a, b]) == pytest.approx(200.0 / 3 * 2 / 3)
    assert _cell_rank_shift([a, a, a]) == 0.0


def test_ensemble_selection_without_spare_cells_is_a_one_line_error(tmp_path):
    with pytest.raises(ZeronasUserError, match="no cells are left"):
        measure(ReproductionConfig(datasets=("cifar10",), sample=None, proxies=("params",)), store=tmp_path / "r.jsonl",
                progress=False)


def test_the_linear_region_study_leaves_out_crops_larger_than_the_images():
    from zeronas.benchmarks import get_benchmark
    from zeronas.experiments.linear_region_study import VARIANTS, applies_to, linear_region_study

    bench = get_benchmark("nb201")
    cells = bench.population("imagenet16")[:3]
    results = linear_region_study(bench, cells, bench.ground_truth(cells, "imagenet16"), dataset="imagenet16",
                                  resamples=10, progress=False)
    assert [r.label for r in results] == [label for label, o in VARIANTS if o.get("crop", 3) <= 16]
    assert applies_to("nb201") and not applies_to("nb101")


def test_measure_reads_a_campaign_table_and_scores_nothing_it_holds(tmp_path):
    from zeronas.benchmarks import get_benchmark
    from zeronas.campaign import run_campaign
    from zeronas.evaluate.metrics import sample_indices
    from zeronas.runner.executors import SerialExecutor

    population = get_benchmark("nb201").population("cifar10")
    cells = [population[i] for i in sample_indices(len(population), 6, 0)]
    run_campaign("nb201", datasets=["cifar10"], proxies=["params", "flops"], archs=cells, out=tmp_path / "campaign",
                 progress=False)

    class Refusing(SerialExecutor):
        def run(self, context, jobs):
            assert not jobs, f"{len(jobs)} networks scored again"
            yield from ()

    config = ReproductionConfig(datasets=("cifar10",), sample=6, seeds=1, proxies=("params", "flops"),
                                ensemble=False, resamples=20)
    m = measure(config, store=tmp_path / "r.jsonl", executor=Refusing(), progress=False, tables=tmp_path / "campaign")
    assert m.scores["cifar10"][0]["params"] == pytest.approx(np.array([count_parameters(c) for c in m.cells]) / 1e6)
