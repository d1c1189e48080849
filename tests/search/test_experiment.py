"""Search experiments: the arg-max protocol against a slow loop over the ground-truth table, run
summaries against numpy, reproducibility in a fresh process, and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.search.helpers import ParamsScorer
from zeronas.benchmarks import get_benchmark
from zeronas.cli import main
from zeronas.errors import ZeronasUserError
from zeronas.experiments.search import (
    SearchConfig,
    compare,
    markdown_summary,
    run_search_experiment,
    write_outputs,
)
from zeronas.search import list_searchers

BENCH = get_benchmark("nb201")


def test_argmax_matches_a_slow_loop_over_the_table(table):
    scorer = ParamsScorer(nan_when=lambda a: a.ops[5] == "none")
    result = run_search_experiment(algorithm="argmax", proxy="params", budget=50, runs=8, seed=3, scorer=scorer)
    archs = BENCH.space.all_archs()
    test = {ds: table.column(f"{ds}_test_acc") for ds in BENCH.datasets}
    for r, run in enumerate(result.runs):
        draws = np.random.default_rng(3 + r).integers(0, len(archs), 50)
        best, top = None, -np.inf
        for i in draws:  # the first of the highest finite scores
            value = scorer.value(archs[i])
            if np.isfinite(value) and value > top:
                best, top = int(i), value
        assert run["arch"] == str(archs[best])
        assert run["test"] == {ds: test[ds][best] for ds in BENCH.datasets}
        better = {test["cifar10"][i] for i in draws if test["cifar10"][i] > test["cifar10"][best]}
        assert run["rank_in_sample"] == 1 + len(better)
    chosen = np.array([run["test"]["cifar10"] for run in result.runs])
    assert result.final["cifar10"]["mean"] == pytest.approx(chosen.mean())
    assert result.final["cifar10"]["std"] == pytest.approx(chosen.std(ddof=1))
    lo, hi = result.final["cifar10"]["ci95"]
    assert lo <= chosen.mean() <= hi


def test_argmax_over_the_whole_space_is_one_selection(table):
    result = run_search_experiment(algorithm="argmax", proxy="params", budget=0, runs=5, scorer=ParamsScorer())
    values = [ParamsScorer().value(a) for a in BENCH.space.all_archs()]
    assert len(result.runs) == 1 and result.runs[0]["arch"] == str(BENCH.space.all_archs()[int(np.argmax(values))])
    assert result.cost["architectures"] == 15625


@pytest.mark.parametrize("algorithm", list_searchers())
def test_runs_report_the_ground_truth_of_their_best_evaluation(algorithm, table):
    result = run_search_experiment(algorithm=algorithm, budget=15, runs=3, seed=1)
    for run in result.runs:
        index = BENCH.space.index_of(run["arch"])
        assert run["test"]["cifar100"] == table.column("cifar100_test_acc")[index]
        assert run["evaluations"] == 15
    curves = result.curves["by_evaluation"]
    assert curves.shape == (3, 15)
    assert curves[:, -1].tolist() == [r["test"]["cifar10"] for r in result.runs]  # the incumbent's ground truth


def test_assisted_and_vanilla_difference_and_outputs(tmp_path):
    vanilla = run_search_experiment(algorithm="rs", budget=20, runs=20, seed=0)
    assisted = run_search_experiment(algorithm="rs", proxy="params", assist="k10", budget=20, runs=20, seed=0,
                                     scorer=ParamsScorer())
    diff = compare(assisted, vanilla)
    a = [r["test"]["cifar10"] for r in assisted.runs]
    b = [r["test"]["cifar10"] for r in vanilla.runs]
    assert diff["cifar10"]["diff"] == pytest.approx(np.mean(a) - np.mean(b))
    assert diff["cifar10"]["ci95"][0] < diff["cifar10"]["diff"] < diff["cifar10"]["ci95"][1]
    assert assisted.cost["proxy_seconds"]["mean"] > 0 and vanilla.cost["proxy_seconds"]["mean"] == 0
    # one curve panel per algorithm setting: vanilla and assisted share it, other options do not
    assert assisted.config.algorithm_label == vanilla.config.algorithm_label == "rs"
    assert SearchConfig(algorithm="reinforce", algorithm_options={"learning_rate": 0.01}).algorithm_label == \
        "reinforce (learning_rate=0.01)"
    paths = write_outputs(tmp_path, [assisted, vanilla], {assisted.config.label: diff})
    assert all(p.stat().st_size > 0 for p in paths.values())
    text = markdown_summary([assisted, vanilla], {assisted.config.label: diff})
    assert "rs + params k10" in text and f"{diff['cifar10']['diff']:+.2f}" in text


def test_a_charged_proxy_spends_the_seconds_budget():
    free = run_search_experiment(algorithm="rs", proxy="params", assist="k10", budget=3000, budget_unit="seconds",
                                 runs=4, scorer=ParamsScorer())
    charged = run_search_experiment(algorithm="rs", proxy="params", assist="k10", budget=3000, budget_unit="seconds",
                                    runs=4, charge_proxy=True, scorer=ParamsScorer())
    for run in charged.runs:
        assert run["train_seconds"] + run["proxy_seconds"] <= 3000
    assert charged.cost["evaluations"]["mean"] < free.cost["evaluations"]["mean"]


def test_workers_give_the_same_runs():
    one = run_search_experiment(algorithm="rea", budget=20, runs=6, seed=4)
    two = run_search_experiment(algorithm="rea", budget=20, runs=6, seed=4, workers=2)
    assert one.runs == two.runs


@pytest.mark.parametrize("kwargs,match", [
    ({"algorithm": "sa"}, "unknown search algorithm"),
    ({"algorithm": "argmax"}, "--proxy"),
    ({"algorithm": "rs", "proxy": "gradsign"}, "--assist"),
    ({"algorithm": "rs", "assist": "k10"}, "--proxy"),
    ({"runs": 0}, "runs"),
    ({"budget_unit": "days"}, "budget unit"),
    ({"budget": 12.5}, "whole number"),
    ({"algorithm": "argmax", "proxy": "params", "budget": 0.5}, "whole number"),
])
def test_bad_configurations(kwargs, match):
    with pytest.raises(ZeronasUserError, match=match):
        SearchConfig(**kwargs)


def test_a_budget_too_small_for_one_evaluation_gives_empty_runs_not_a_crash():
    result = run_search_experiment(algorithm="rs", budget=1, budget_unit="seconds", runs=3)
    assert [r["arch"] for r in result.runs] == [None] * 3 and result.final["cifar10"]["n"] == 0


def _cli_json(args, capsys):
    assert main(["search", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_json_has_final_runs_cost_and_settings(capsys):
    out = _cli_json(["--algorithm", "rea", "--budget", "12", "--runs", "3", "--seed", "7", "--population", "4",
                     "--sample-size", "2"], capsys)
    assert set(out["final"]) == set(BENCH.datasets)
    assert set(out["final"]["cifar10"]) == {"mean", "std", "ci95", "n"}
    assert [r["seed"] for r in out["runs"]] == [7, 8, 9]
    assert out["settings"]["algorithm_options"] == {"population": 4, "sample": 2}
    assert set(out["cost"]) >= {"train_seconds", "proxy_seconds", "evaluations"}


@pytest.mark.parametrize("args,match", [
    (["--algorithm", "rs", "--population", "3"], "--population does not apply"),
    (["--algorithm", "rea", "--proxy", "gradsign"], "--assist"),
    (["--algorithm", "rea", "--proxy", "nosuch", "--assist", "k10"], "unknown proxy"),
    (["--algorithm", "rea", "--proxy", "gradsign", "--assist", "k10", "--tables", "/nonexistent"], "campaign"),
    (["--algorithm", "rea", "--compare-vanilla"], "--compare-vanilla"),
    (["--algorithm", "argmax", "--proxy", "params", "--population", "3"], "--population does not apply"),
    (["--algorithm", "rea", "--members", "meco,synflow"], "--proxy ensemble"),
    (["--algorithm", "rs", "--charge-proxy"], "--charge-proxy"),
])
def test_cli_errors_are_one_line_exit_2(args, match, capsys):
    assert main(["search", *args, "--runs", "2"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


@pytest.mark.parametrize("algorithm,assist", [*((a, None) for a in list_searchers()), ("rea", "k10")])
def test_a_fresh_process_reproduces_the_trajectory(algorithm, assist):
    assisted = ["--proxy", "params", "--assist", assist, "--no-tables"] if assist else []
    args = ["search", "--algorithm", algorithm, "--budget", "15", "--runs", "2", "--seed", "11", *assisted]
    in_process = run_search_experiment(algorithm=algorithm, budget=15, runs=2, seed=11,
                                       **({"proxy": "params", "assist": assist, "tables": False} if assist else {}))
    code = "import sys, zeronas.cli; sys.exit(zeronas.cli.main(sys.argv[1:]))"
    out = subprocess.run([sys.executable, "-c", code, *args, "--json"], capture_output=True, text=True, check=True,
                         timeout=300)
    fresh = json.loads(out.stdout)["runs"]
    keys = ("arch", "fitness", "evaluations", "trajectory")  # the digest covers every architecture evaluated
    assert [tuple(r[k] for k in keys) for r in fresh] == [tuple(r[k] for k in keys) for r in in_process.runs]
    assert len({r["trajectory"] for r in fresh}) == 2  # the two runs differ


def test_compare_vanilla_is_refused_before_any_run(capsys, monkeypatch):
    import zeronas.experiments.search as experiments

    monkeypatch.setattr(experiments, "run_search_experiment", lambda *a, **k: pytest.fail("ran a search"))
    assert main(["search", "--algorithm", "rea", "--compare-vanilla"]) == 2


def test_list_searchers_shows_the_registry_and_the_protocol_defaults(capsys):
    assert main(["list", "--searchers", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert list(rows) == [*list_searchers(), "argmax"]
    assert rows["rea"]["options"] == {"population": 10, "sample": 3}  # NAS-Bench-201's REA
    assert rows["reinforce"]["options"] == {"learning_rate": 0.5, "ema": 0.9}
    assert rows["tpe"]["needs"] == ["Categorical"]


def test_a_live_ensemble_scores_the_drawn_cells_without_tables():
    from zeronas.spaces.nb201 import count_parameters

    result = run_search_experiment(algorithm="argmax", proxy="ensemble", members=("params",), budget=40, runs=2,
                                   seed=3, tables=False)
    archs = BENCH.space.all_archs()
    for r, run in enumerate(result.runs):
        draws = np.random.default_rng(3 + r).integers(0, len(archs), 40)
        counts = [count_parameters(archs[i]) for i in draws]
        assert run["arch"] == str(archs[draws[int(np.argmax(counts))]])


def test_a_configured_proxy_instance_scores_and_labels_the_search(capsys):
    out = main(["search", "--algorithm", "argmax", "--proxy", "epsinas", "--option", "epsinas.weights=[0.001,1]",
                "--no-tables", "--budget", "3", "--runs", "1", "--seed", "2", "--json"])
    assert out == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["label"] == "argmax epsinas[weights=[0.001,1.0]] N=3"
    assert payload["settings"]["proxy_options"] == {"weights": [0.001, 1]}
    from zeronas import Evaluator
    from zeronas.proxies import get_proxy

    draws = np.random.default_rng(2).integers(0, 15625, 3)
    archs = [BENCH.space.all_archs()[i] for i in draws]
    proxy = get_proxy("epsinas", weights=(0.001, 1.0))
    table = Evaluator("nb201", dataset="cifar10", proxies=[proxy], progress=False).score(archs)
    values = np.where(np.isfinite(table.values[proxy.key]), table.values[proxy.key], -np.inf)
    assert payload["runs"][0]["arch"] == str(archs[int(np.argmax(values))])


@pytest.mark.parametrize("args,match", [
    (["--proxy", "gradsign", "--assist", "k10", "--option", "synflow.bn=true"], "--option configures --proxy gradsign"),
    (["--option", "gradsign.reduction=mean"], "--proxy NAME"),
    (["--proxy", "gradsign", "--assist", "k10", "--option", "gradsign.nosuch=1"], "nosuch"),
])
def test_search_option_errors_are_one_line(args, match, capsys):
    assert main(["search", "--algorithm", "rea", *args, "--runs", "2"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
