"""NAS-Bench-101 benchmark: ground truth looked up by module hash, populations and metrics.

Expected values are read straight from the data files (fraction -> percent), independently of
the benchmark's own lookup.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from collections import defaultdict

import numpy as np
import pytest

from tests.conftest import assert_cli_user_error
from zeronas.benchmarks import MissingGroundTruth, get_benchmark, list_benchmarks
from zeronas.benchmarks.nb101 import NB101Benchmark
from zeronas.cli import main
from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError
from zeronas.runner import Evaluator
from zeronas.spaces import nb101

NASLIB_OPS = {"0": "input", "1": "output", "2": "maxpool3x3", "3": "conv1x1-bn-relu", "4": "conv3x3-bn-relu"}


def _rows(relative: str) -> list[dict[str, str]]:
    path = data_file(relative)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def bench():
    return get_benchmark("nb101")


@pytest.fixture(scope="module")
def spec_rows():
    return _rows("nasbench101/nb101_2500_spec_acc.csv")


@pytest.fixture(scope="module")
def naslib_rows():
    return _rows("nasbench101/nb101_500_zc_and_val_acc.csv")


@pytest.fixture(scope="module")
def table_rows():
    return {row["module_hash"]: row for row in _rows("nasbench101/nb101_30k_hashkeyed_multifidelity.csv.gz")}


def _spec_text(row: dict[str, str]) -> str:
    return f"{row['matrix_rowmajor']} {row['ops']}"


def _naslib_text(row: dict[str, str]) -> str:
    return row["adjacency_7x7_flat"] + " " + "|".join(NASLIB_OPS[c] for c in row["ops"].split("|"))


def test_registered_with_its_metrics_and_default(bench):
    assert "nb101" in list_benchmarks() and isinstance(bench, NB101Benchmark)
    assert bench.datasets == ("cifar10",)
    metrics = bench.metrics("cifar10")
    assert set(metrics) == {
        "test_acc_108ep", "val_acc_4ep", "val_acc_12ep", "val_acc_36ep", "val_acc_108ep",
        "naslib_val_acc", "trainable_parameters",
    }
    assert bench.default_metric("cifar10") == "test_acc_108ep"
    assert "single run" in metrics["test_acc_108ep"].description
    assert all(m.higher_is_better for m in metrics.values())
    assert {m.unit for name, m in metrics.items() if name != "trainable_parameters"} == {"%"}
    assert NB101Benchmark.proxy_defaults == {"epsinas": {"weights": (1e-4, 10.0)}}
    with pytest.raises(ZeronasUserError, match="no dataset 'cifar100'"):
        bench.metrics("cifar100")


def test_default_ground_truth_follows_identity_not_position(bench, spec_rows):
    rng = np.random.default_rng(0)
    picked = rng.choice(len(spec_rows), size=200, replace=False)
    texts = [_spec_text(spec_rows[i]) for i in picked]
    expected = [100 * float(spec_rows[i]["value"]) for i in picked]
    np.testing.assert_allclose(bench.ground_truth(texts, "cifar10"), expected, rtol=0, atol=1e-9)
    order = rng.permutation(len(texts))
    shuffled = bench.ground_truth([texts[k] for k in order], "cifar10", "test_acc_108ep")
    np.testing.assert_allclose(shuffled, np.asarray(expected)[order], rtol=0, atol=1e-9)


def _renumbered(arch: nb101.NB101Arch) -> nb101.NB101Arch | None:
    """``arch`` written with its inner vertices in another topological order, if it has one."""
    n = arch.num_vertices
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        matrix = tuple(tuple(arch.matrix[order[i]][order[j]] for j in range(n)) for i in range(n))
        ops = tuple(arch.ops[k] for k in order)
        if (matrix, ops) != (arch.matrix, arch.ops) and not any(matrix[i][j] for i in range(n) for j in range(i + 1)):
            return nb101.NB101Arch(matrix, ops)
    return None


def _padded(arch: nb101.NB101Arch) -> nb101.NB101Arch:
    """``arch`` with isolated vertices inserted before the output, up to 7 (pruned away again)."""
    extra = 7 - arch.num_vertices
    rows = [row[:-1] + (0,) * extra + row[-1:] for row in arch.matrix[:-1]]
    rows += [(0,) * 7] * (extra + 1)
    return nb101.NB101Arch(tuple(rows), arch.ops[:-1] + ("conv1x1-bn-relu",) * extra + ("output",))


def test_a_renumbered_or_padded_cell_finds_the_same_truth(bench, spec_rows):
    space = bench.space
    checked = 0
    for row in spec_rows[:200]:
        arch = space.parse(_spec_text(row))
        other = _renumbered(arch)
        if other is None or arch.num_vertices == 7:
            continue
        assert other != arch and _padded(arch).num_vertices == 7
        values = bench.ground_truth([arch, other, _padded(arch), _padded(other)], "cifar10")
        np.testing.assert_array_equal(values, [100 * float(row["value"])] * 4)
        checked += 1
    assert checked >= 5


def test_a_cell_without_ground_truth_raises_one_line(bench, spec_rows, table_rows):
    space = bench.space
    known = {space.identity(space.parse(_spec_text(r))) for r in spec_rows}
    rng = np.random.default_rng(5)
    stranger = next(a for a in (space.sample(rng) for _ in range(1000)) if space.identity(a) not in known)
    with pytest.raises(MissingGroundTruth) as info:
        bench.ground_truth([_spec_text(spec_rows[0]), stranger], "cifar10")
    message = str(info.value)
    assert "\n" not in message and "1 of 2" in message and space.format(stranger) in message
    not_in_table = next(r for r in spec_rows if space.identity(space.parse(_spec_text(r))) not in table_rows)
    with pytest.raises(MissingGroundTruth):
        bench.ground_truth([_spec_text(not_in_table)], "cifar10", "val_acc_108ep")


def test_hash_table_metrics_are_the_table_values_in_percent(bench, spec_rows, table_rows):
    space = bench.space
    found = [(r, table_rows[k]) for r in spec_rows if (k := space.identity(space.parse(_spec_text(r)))) in table_rows]
    assert len(found) == 163
    texts = [_spec_text(r) for r, _ in found][::-1]
    for epochs in (4, 12, 36, 108):
        expected = [100 * float(t[f"val_acc_{epochs}ep"]) for _, t in found][::-1]
        np.testing.assert_allclose(bench.ground_truth(texts, "cifar10", f"val_acc_{epochs}ep"), expected, atol=1e-9)
    params = bench.ground_truth(texts, "cifar10", "trainable_parameters")
    np.testing.assert_array_equal(params, [float(t["trainable_parameters"]) for _, t in found][::-1])


def test_naslib_metric_is_the_mean_of_a_cells_rows(bench, naslib_rows):
    space = bench.space
    groups: dict[str, list[float]] = defaultdict(list)
    first_text: dict[str, str] = {}
    for row in naslib_rows:
        key = space.identity(space.parse(_naslib_text(row)))
        groups[key].append(float(row["val_accuracy"]))
        first_text.setdefault(key, _naslib_text(row))
    assert len(groups) == 292
    repeated = [k for k, v in groups.items() if len(set(v)) > 1]
    assert repeated  # the mean matters: some cells' rows disagree
    keys = sorted(groups)
    values = bench.ground_truth([first_text[k] for k in keys], "cifar10", "naslib_val_acc")
    np.testing.assert_allclose(values, [sum(groups[k]) / len(groups[k]) for k in keys], atol=1e-9)


def test_population_sizes_and_order(bench, spec_rows, naslib_rows, table_rows):
    space = bench.space
    default = bench.population("cifar10")
    assert len(default) == 2500
    assert [space.format(a) for a in default] == [_spec_text(r) for r in spec_rows]
    naslib = bench.population("cifar10", "naslib_val_acc")
    assert len(naslib) == 292
    seen, expected = set(), []
    for row in naslib_rows:
        key = space.identity(space.parse(_naslib_text(row)))
        if key not in seen:
            seen.add(key)
            expected.append(_naslib_text(row))
    assert [space.format(a) for a in naslib] == expected
    for metric in ("val_acc_4ep", "val_acc_108ep", "trainable_parameters"):
        archs = bench.population("cifar10", metric)
        assert len(archs) == 163 + 26
        assert all(space.identity(a) in table_rows for a in archs)
        assert [space.identity(a) for a in archs[:163]] == [
            k for r in spec_rows if (k := space.identity(space.parse(_spec_text(r)))) in table_rows
        ]
    for metric in bench.metrics("cifar10"):
        archs = bench.population("cifar10", metric)
        assert len({space.identity(a) for a in archs}) == len(archs)
        assert np.isfinite(bench.ground_truth(archs, "cifar10", metric)).all()


# --- the command line and the Evaluator on NB101 ----------------------------------------------

NB101_CELL = ("0111000001000100010000000100000001000000010000000 "
              "input|maxpool3x3|conv1x1-bn-relu|maxpool3x3|conv3x3-bn-relu|conv1x1-bn-relu|output")


def test_list_benchmarks_shows_nb101(capsys):
    assert main(["list", "--benchmarks", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows["nb101"]["datasets"]) == {"cifar10"}
    assert rows["nb101"]["datasets"]["cifar10"]["default_metric"] == "test_acc_108ep"


def test_score_an_nb101_cell_from_a_file_keeps_the_row_format(tmp_path, capsys):
    archs = tmp_path / "cells.txt"
    archs.write_text(NB101_CELL + "\n")
    assert main(["score", "--benchmark", "nb101", "--file", str(archs), "--proxies", "params", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    from zeronas.spaces.nb101 import count_parameters

    assert rows == [{"arch": NB101_CELL, "params": count_parameters(NB101_CELL) / 1e6, "status": {"params": "ok"},
                     "reason": {}}]



@pytest.mark.parametrize("argv, fragment", [
    (["score", "--benchmark", "nb101", "0101 input|output"], "NAS-Bench-101"),
    (["correlate", "--benchmark", "nb101", "--dataset", "cifar100"], "has no dataset 'cifar100'"),
])
def test_nb101_user_errors_are_one_line_and_exit_2(argv, fragment):
    assert_cli_user_error(argv, fragment)


def test_benchmark_proxy_defaults_name_the_result_key():
    evaluator = Evaluator("nb101", dataset="cifar10", proxies=["epsinas", "params"], progress=False)
    assert evaluator.keys == ["epsinas[weights=[0.0001,10.0]]", "params"]
    assert evaluator.key_for("epsinas") == "epsinas[weights=[0.0001,10.0]]"
    # An explicit option wins over the benchmark's default.
    explicit = Evaluator("nb101", dataset="cifar10", proxies=["epsinas"], options={"epsinas": {"weights": [1e-7, 1]}},
                         progress=False)
    assert explicit.keys == ["epsinas"]




def test_a_reproduction_report_runs_on_nb101(tmp_path):
    from scipy import stats

    from zeronas.experiments import ReproductionConfig
    from zeronas.report import make_report

    config = ReproductionConfig(benchmark="nb101", datasets=("cifar10",), sample=6, seeds=1,
                                proxies=("params",), ensemble=False, resamples=20)
    m, paths = make_report(tmp_path / "report", config, progress=False)
    bench = get_benchmark("nb101")
    cells = [bench.space.parse(c) for c in m.cells]
    params = [nb101.count_parameters(c) / 1e6 for c in cells]
    expected = stats.spearmanr(params, bench.ground_truth(cells, "cifar10")).statistic
    assert m.metrics["cifar10"]["params"]["spearman"].value == pytest.approx(expected)
    text = paths["markdown"].read_text()
    assert "`nb101`" in text and "test_acc_108ep" in text and "NAS-Bench-201" not in text.split("## Summary")[0]


def test_the_nb101_space_scores_with_the_benchmark_defaults():
    keys = Evaluator(get_benchmark("nb101").space, dataset="cifar10", proxies=["epsinas"], progress=False).keys
    assert keys == ["epsinas[weights=[0.0001,10.0]]"]
