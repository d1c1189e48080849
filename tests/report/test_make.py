"""The report command end to end: files, numbers against the table, resumption, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from zeronas.cli import main
from zeronas.data import load_nb201_table
from zeronas.evaluate import sample_indices
from zeronas.experiments.linear_region_study import VARIANTS
from zeronas.experiments.reproduction import ReproductionConfig
from zeronas.report import make_report

pytestmark = pytest.mark.slow  # the module scores a whole small report

PROXIES = ["params", "flops", "synflow", "linear_regions"]
ARGS = ["report", "--datasets", "cifar10,imagenet16", "--sample", "10", "--seeds", "2",
        "--proxies", ",".join(PROXIES), "--selection-sample", "10", "--resamples", "50", "--no-progress",
        "--no-tables"]  # every score computed here, so that the results file holds each one


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


def test_report_folder_is_complete(report):
    for name in ("report.md", "report.html", "summary.json", "results.jsonl"):
        assert (report / name).stat().st_size > 0
    figures = {p.name for p in (report / "figures").iterdir()}
    assert {"rho_heatmap.png", "seed_agreement.png", "scatter_cifar10.png", "scatter_imagenet16.png",
            "proxy_correlation_cifar10.png"} <= figures
    for name in figures:
        assert (report / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (report / "report.md").read_text()
    for section in ("## Protocol", "## CIFAR-10", "## ImageNet16-120", "## Stability over 2 seeds", "## Ensemble",
                    "## The linear-region count", "Deviations from published values"):
        assert section in text
    for figure in figures:  # every figure written is shown
        assert f"figures/{figure}" in text


def test_report_numbers_match_the_ground_truth_table(report):
    summary = json.loads((report / "summary.json").read_text())
    table = load_nb201_table()
    index = sample_indices(15625, 10, 0)
    for dataset in ("cifar10", "imagenet16"):
        params = table.column(f"params_M_{dataset}")
        accuracy = table.column(f"{dataset}_test_acc")
        expected = stats.spearmanr(params[index], accuracy[index]).statistic
        assert summary["metrics"][dataset]["params"]["spearman"]["value"] == pytest.approx(expected)
        assert summary["sample_effect"][dataset] == pytest.approx(expected - stats.spearmanr(params, accuracy).statistic)
        assert summary["seed_agreement"][dataset]["params"] == pytest.approx(1.0)
        assert summary["cell_rank_shift"][dataset]["params"] == 0.0  # params ignore the seed
    valid = table.column("cifar10_valid_test_acc_v1_0")[index]
    assert summary["protocol_checks"]["cifar10"]["params"]["cifar10_valid_drop"] == pytest.approx(
        stats.spearmanr(table.column("params_M_cifar10")[index], valid).statistic)
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    # Every score in this fresh results file is one the report used.
    assert summary["scoring_seconds"] == pytest.approx(sum(r["seconds"] for r in records))
    assert [v["label"] for v in summary["linear_regions"]] == [label for label, _ in VARIANTS]
    default = summary["linear_regions"][0]
    assert default["agreement_with_default"] == pytest.approx(1.0)
    assert default["metrics"]["spearman"]["value"] == pytest.approx(
        summary["metrics"]["cifar10"]["linear_regions"]["spearman"]["value"])


def test_ensemble_in_the_report_is_the_rank_aggregation_of_its_members(report):
    summary = json.loads((report / "summary.json").read_text())
    members = summary["ensemble"]["members"]
    assert members and set(members) <= set(PROXIES)
    index = sample_indices(15625, 10, 0)
    table = load_nb201_table()
    cells = [table.arch_str[i] for i in index]
    records = [json.loads(line) for line in (report / "results.jsonl").read_text().splitlines()]
    by_key = {(r["arch"], r["proxy"]): r["value"] for r in records
              if r["dataset"] == "cifar10" and r["seed"] == 0 and r["proxy"] in PROXIES}
    log_rank = np.zeros(len(cells))
    for member in members:  # every report proxy here is higher-is-better
        values = np.array([by_key[(c, member)] for c in cells], dtype=float)
        values = np.where(np.isfinite(values), values, -np.inf)
        log_rank += np.log(stats.rankdata(values) / len(values))
    expected = stats.spearmanr(log_rank, table.column("cifar10_test_acc")[index]).statistic
    assert summary["metrics"]["cifar10"]["ensemble"]["spearman"]["value"] == pytest.approx(expected)


def test_rerun_rescores_nothing_and_gives_the_same_numbers(report, tmp_path):
    lines = (report / "results.jsonl").read_text().count("\n")
    before = json.loads((report / "summary.json").read_text())["metrics"]
    config = ReproductionConfig(datasets=("cifar10", "imagenet16"), sample=10, seeds=2, proxies=tuple(PROXIES),
                                selection_sample=10, resamples=50)
    m, paths = make_report(tmp_path / "again", config, results=report / "results.jsonl", progress=False,
                           tables=False)
    assert (report / "results.jsonl").read_text().count("\n") == lines
    assert json.loads(paths["summary"].read_text())["metrics"] == before


@pytest.mark.parametrize("bad", [["--datasets", "mnist"], ["--proxies", "nope"], ["--seeds", "0"],
                                 ["--ensemble-members", "ensemble"]])
def test_bad_report_input_exits_2(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse rejects these before any work
        main(["report", "--out", str(tmp_path), *bad])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("zeronas: error:") and err.count("\n") == 1
