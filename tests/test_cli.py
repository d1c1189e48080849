from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zeronas.cli import main
from tests.conftest import DEAD_CELL, MIXED_CELL, assert_cli_user_error


def test_list_json(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {"gradsign", "epsinas"}


def test_score_strings_indices_and_files(tmp_path, capsys, table):
    archs = tmp_path / "archs.txt"
    archs.write_text(f"# my cells\n{DEAD_CELL}\n6111\n")
    assert main(["score", MIXED_CELL, "--file", str(archs), "--proxies", "epsinas", "--json", "--workers", "2",
                 "--option", "epsinas.weights=[1e-7, 1.0]"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["arch"] for r in rows] == [MIXED_CELL, DEAD_CELL, table.arch_str[6111]]
    assert rows[1]["epsinas"] is None and rows[1]["status"]["epsinas"] == "nan"  # the dead cell: constant output
    assert rows[0]["epsinas"] > 0 and rows[2]["epsinas"] > 0


def test_correlate_json_against_the_ground_truth(tmp_path, capsys):
    results = tmp_path / "scores.jsonl"
    argv = ["correlate", "--space", "nb201", "--dataset", "imagenet16", "--sample", "6", "--seed", "0",
            "--proxies", "epsinas", "--json", "--no-progress", "--results", str(results)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"epsinas"} and {"spearman", "kendall", "n", "nan", "raw_spearman"} <= set(out["epsinas"])
    assert out["epsinas"]["n"] + out["epsinas"]["nan"] == 6
    lines = results.read_text().splitlines()
    assert len(lines) == 6
    assert main(argv) == 0  # resumed: nothing rescored, nothing appended
    assert json.loads(capsys.readouterr().out) == out
    assert len(results.read_text().splitlines()) == 6


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["correlate", "--proxies", "gradsine"], "unknown proxy 'gradsine'"),
        (["correlate", "--sample", "0"], "must be a positive integer"),
        (["correlate", "--sample", "-5"], "must be a positive integer"),
        (["score", "|nor_conv_3x3~0|+|none~0|"], "malformed NAS-Bench-201 architecture"),
        (["score", "99999"], "out of range"),
        (["score", MIXED_CELL, "--data-dir", "/nonexistent/data"], "ZERONAS_DATA"),
        (["score"], "no architectures given"),
        (["score", "1", "--workers", "0"], "must be a positive integer"),
        (["score", "1", "--proxies", "epsinas", "--option", "epsinas.weight=1"], "epsinas has no option 'weight'; its options are collapse='auto', weights=(1e-07, 1.0)"),
        (["score", "1", "--proxies", "epsinas", "--option", "gradsign.reduction=mean"], "options given for proxies not scored"),
        (["score", "1", "--option", "reduction"], "expected PROXY.OPTION=VALUE"),
        (["correlate", "--metric", "nonsense", "--sample", "2"], "no metric 'nonsense'"),
        (["score", "1", "--seed", "-1"], "non-negative"),
        (["score", "--file", sys.executable], "cannot be read as text"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(argv, fragment):
    assert_cli_user_error(argv, fragment)


def test_same_seed_same_scores_in_fresh_processes():
    argv = [sys.executable, "-m", "zeronas", "score", "1", "--proxies", "gradsign,epsinas", "--seed", "3", "--json"]
    runs = [subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True).stdout for _ in range(2)]
    first = json.loads(runs[0])
    assert runs[0] == runs[1]
    assert all(row["gradsign"] > 0 and row["epsinas"] > 0 for row in first)


def test_correlate_mixes_proxies_of_different_recipes_and_orientations(capsys, table):
    argv = ["correlate", "--dataset", "cifar10", "--sample", "5", "--seed", "1", "--json", "--no-progress",
            "--proxies", "params,flops,synflow,naswot,ntk,grad_norm"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["params", "flops", "synflow", "naswot", "ntk", "grad_norm"]
    assert all(v["n"] + v["nan"] == 5 for v in out.values())
    # params is counted from each built model; it ranks as the table's column does.
    from zeronas.evaluate import sample_indices
    from scipy.stats import spearmanr

    cells = sample_indices(len(table), 5, 1)
    expected = spearmanr(table.column("params_M_cifar10")[cells], table.column("cifar10_test_acc")[cells])[0]
    assert out["params"]["spearman"] == pytest.approx(expected)


def test_list_benchmarks_names_datasets_and_metrics(capsys):
    from zeronas.benchmarks import list_benchmarks

    assert main(["list", "--benchmarks", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(list_benchmarks())
    assert rows["nb201"]["datasets"]["cifar10"]["default_metric"] == "cifar10_test_acc"
    assert set(rows["nb201"]["datasets"]) == {"cifar10", "cifar100", "imagenet16"}


def test_space_is_an_alias_of_benchmark_and_ntk_is_reported_oriented(capsys):
    argv = ["correlate", "--space", "nb201", "--sample", "4", "--proxies", "ntk", "--json", "--no-progress"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)["ntk"]
    assert out["higher_is_better"] is False and out["raw_spearman"] == pytest.approx(-out["spearman"])


def test_a_lower_is_better_metric_is_oriented(capsys, table):
    from scipy.stats import spearmanr

    from zeronas.evaluate import sample_indices

    metric = "hw_edgegpu_latency_cifar10"
    assert main(["correlate", "--sample", "8", "--seed", "2", "--proxies", "params", "--metric", metric, "--json",
                 "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)["params"]
    cells = sample_indices(len(table), 8, 2)
    raw = spearmanr(table.column("params_M_cifar10")[cells], table.column(metric)[cells]).statistic
    assert out["spearman"] == pytest.approx(-raw)  # lower latency is better: larger models rank "worse"
