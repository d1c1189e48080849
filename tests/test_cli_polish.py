"""The CLI's finish: help everywhere, exact one-line errors, list details, NaN reasons, --model."""

from __future__ import annotations

import argparse
import json
import math
import textwrap

import pytest
import torch
from torch import nn

from tests.conftest import assert_cli_user_error
from zeronas.cli import _build_parser, main
from zeronas.proxies import get_proxy, get_proxy_class

# No input-output path: every edge into node 3 is none, so epsinas' output is constant.
NO_PATH_CELL = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def _user_error(capsys, argv: list[str]) -> str:
    """``main(argv)`` exits 2 with one line on stderr; returns that line (in-process: fast)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("zeronas: error: ")
    return err[0]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_of_every_subcommand_has_help():
    parser = _build_parser()
    missing = []
    for name, sub in {"zeronas": parser, **_subparsers(parser)}.items():
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []
    assert set(_subparsers(parser)) == {"list", "score", "correlate", "report", "campaign", "search"}
    # The walk sees the options the issue named (so it is not vacuous).
    report = {o for a in _subparsers(parser)["report"]._actions for o in a.option_strings}
    assert {"--nan", "--aggregation", "--no-ensemble", "--no-progress"} <= report


def test_no_command_points_to_zeronas_help_and_subcommands_to_theirs(capsys):
    line = _user_error(capsys, [])
    assert "see 'zeronas --help'" in line and "zeronas zeronas" not in line
    assert "choose one of list, score, correlate, report" in line
    line = _user_error(capsys, ["score", "1", "--seed", "-1"])
    assert line.endswith("(see 'zeronas score --help')")
    line = _user_error(capsys, ["correlate", "--sample", "0"])
    assert line.endswith("(see 'zeronas correlate --help')")


def test_no_command_in_a_fresh_process():
    assert_cli_user_error([], "(see 'zeronas --help')")


def test_list_gives_descriptions_options_and_a_dash_for_data_free_batches(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:] if line and not line.startswith(" ")}
    assert "description" in lines[0]
    # A description, from the first line of the class docstring.
    assert "Trainable parameters (millions)" in rows["params"]
    assert "Condition number of the empirical NTK" in rows["ntk"]
    # Options with their defaults, on the line under the proxy.
    gradsign_line = lines.index(rows["gradsign"])
    assert lines[gradsign_line + 1].split() == ["options:", "chunk_size=32,", "reduction='sum'"]
    # Batch column: "–" for a data-free proxy, the batch size for one that reads the images.
    batch = {name: line.split()[4] for name, line in rows.items()}
    if get_proxy_class("params").needs_data is False:
        assert batch["params"] == "–"
    else:
        assert batch["params"] == str(get_proxy_class("params").data.batch_size)
    assert batch["gradsign"] == "128" and batch["epsinas"] == "256"


def test_list_json_has_description_options_and_needs_data(capsys):
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["gradsign"]["options"] == {"chunk_size": 32, "reduction": "sum"}
    assert rows["epsinas"]["options"] == {"collapse": "auto", "weights": [1e-7, 1.0]}
    assert rows["params"]["options"] == {}
    assert rows["ntk"]["description"] == "Condition number of the empirical NTK; lower is better."
    assert all(r["description"] for r in rows.values())
    assert rows["gradsign"]["needs_data"] is True and rows["gradsign"]["batch_size"] == 128
    params = get_proxy_class("params")
    assert rows["params"]["needs_data"] is getattr(params, "needs_data", True)
    assert rows["params"]["batch_size"] == (params.data.batch_size if rows["params"]["needs_data"] else None)


def test_score_gives_the_status_and_reason_of_a_nan(capsys):
    argv = ["score", NO_PATH_CELL, "--proxies", "epsinas,params"]
    assert main([*argv, "--json"]) == 0

    def refuse(constant):  # strict JSON, as jq and browsers read it: NaN is null
        raise AssertionError(f"non-standard JSON constant {constant}")

    (row,) = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert row["arch"] == NO_PATH_CELL
    assert row["epsinas"] is None and row["params"] > 0
    assert row["status"] == {"epsinas": "nan", "params": "ok"}
    assert set(row["reason"]) == {"epsinas"} and "constant" in row["reason"]["epsinas"]

    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["epsinas", "params", "arch"]
    assert lines[1].split()[0] == "nan" and lines[1].endswith(NO_PATH_CELL)
    assert lines[-1] == f"epsinas {NO_PATH_CELL}: nan: {row['reason']['epsinas']}"
    assert not any(line.startswith("params ") for line in lines)  # no note for an ok score


def test_correlate_header_names_the_target_metric(capsys):
    argv = ["correlate", "--sample", "3", "--proxies", "params", "--no-progress"]
    assert main(argv) == 0
    assert "3 cells, seed 0, against cifar10_test_acc;" in capsys.readouterr().out.splitlines()[0]
    assert main([*argv, "--metric", "cifar10_valid_test_acc_v1_0"]) == 0
    assert "against cifar10_valid_test_acc_v1_0;" in capsys.readouterr().out.splitlines()[0]


def test_a_sample_larger_than_the_population_is_capped_with_a_warning(monkeypatch, capsys):
    from zeronas.benchmarks.nb201 import NB201Benchmark

    full = NB201Benchmark.population
    monkeypatch.setattr(NB201Benchmark, "population", lambda self, dataset, metric=None: full(self, dataset, metric)[:4])
    argv = ["correlate", "--proxies", "params", "--no-progress"]
    assert main([*argv, "--sample", "20000"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        "zeronas: warning: --sample 20000 exceeds the 4 cells with ground truth; using all of them"]
    assert captured.out.startswith("nb201 cifar10: 4 cells, seed 0, against cifar10_test_acc;")
    assert main([*argv, "--sample", "4", "--json"]) == 0  # the whole population, asked for exactly: no warning
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["params"]["n"] == 4


def test_duplicate_proxies_are_removed_in_first_seen_order(capsys):
    parser = _build_parser()
    args = parser.parse_args(["correlate", "--proxies", "params,epsinas,params", "--ensemble", "flops,params,flops"])
    assert args.proxies == ["params", "epsinas"] and args.ensemble == ["flops", "params"]
    args = parser.parse_args(["report", "--proxies", "ntk,ntk", "--ensemble-members", "snip,snip,ntk"])
    assert args.proxies == ["ntk"] and args.ensemble_members == ["snip", "ntk"]
    assert main(["score", "1", "--proxies", "params,params"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.split() == ["params", "arch"]


@pytest.mark.parametrize(
    "option, expected",
    [
        ("gradsign.nonsense=1", "gradsign has no option 'nonsense'; its options are chunk_size=32, reduction='sum'"),
        ("params.scale=2", "params has no option 'scale'; it takes no options"),
        ("gradalign.aggregation=nonsense", "aggregation must be 'per_tensor' or 'global', got 'nonsense'"),
        ('meco.resolution="abc"', "bad value for meco (resolution='abc'): ValueError: invalid literal for int()"),
    ],
)
def test_a_bad_option_is_one_line_with_the_valid_options(capsys, option, expected):
    name = option.split(".")[0]
    line = _user_error(capsys, ["score", "1", "--proxies", name, "--option", option])
    assert expected in line
    assert "__init__" not in line


def test_a_bad_architecture_line_names_the_file_and_line(tmp_path, capsys):
    archs = tmp_path / "archs.txt"
    archs.write_text(f"# header\n{NO_PATH_CELL}\n|nor_conv_3x3~0|+|none~0|\n")
    line = _user_error(capsys, ["score", "--file", str(archs), "--proxies", "params"])
    assert line.startswith(f"zeronas: error: {archs} line 3: malformed NAS-Bench-201 architecture '|nor_conv_3x3~0|+|none~0|'")
    archs.write_text(f"{NO_PATH_CELL}\n\n99999\n")  # blank lines count
    line = _user_error(capsys, ["score", "--file", str(archs), "--proxies", "params"])
    assert line == f"zeronas: error: {archs} line 3: nb201 index 99999 out of range; use 0..15624"


def test_an_unknown_metric_is_a_short_line_with_the_datasets_metrics(capsys):
    line = _user_error(capsys, ["correlate", "--metric", "nonsense", "--sample", "2", "--proxies", "params"])
    assert len(line) < 300
    assert "no metric 'nonsense' for cifar10; choose from cifar10_test_acc" in line
    assert "cifar100" not in line and "imagenet16" not in line


MODELS = textwrap.dedent("""
    from torch import nn

    def make():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def five_classes():
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(4, 5))

    def sixteen_pixels():
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 10))

    def broken():
        raise RuntimeError("no GPU here")

    NOT_CALLABLE = 3
    INSTANCE = nn.Linear(2, 2)

    def not_a_model():
        return 42
""")


@pytest.fixture
def models_file(tmp_path):
    path = tmp_path / "zeronas_cli_test_models.py"
    path.write_text(MODELS)
    return path


def _expected_params(model: nn.Module) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def test_score_model_from_a_file_and_a_module(models_file, synthetic_data_dir, monkeypatch, capsys):
    spec = f"{models_file}:make"
    argv = ["score", "--model", spec, "--proxies", "params,gradsign,epsinas", "--json",
            "--data-dir", str(synthetic_data_dir)]
    assert main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)
    expected_params = _expected_params(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8),
                                                     nn.Linear(8, 10)))
    assert row["arch"] == spec
    assert row["params"] == pytest.approx(expected_params)
    assert row["status"] == {"params": "ok", "gradsign": "ok", "epsinas": "ok"} and row["reason"] == {}
    assert row["gradsign"] > 0 and math.isfinite(row["epsinas"])
    assert main(argv) == 0  # same seed, same scores
    assert json.loads(capsys.readouterr().out) == [row]

    # MODULE:FUNCTION, importable from the current directory; the table names it as the arch.
    monkeypatch.chdir(models_file.parent)
    module_spec = f"{models_file.stem}:make"
    assert main(["score", "--model", module_spec, "--proxies", "params,gradsign", "--data-dir",
                 str(synthetic_data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["params", "gradsign", "arch"]
    values = lines[1].split()
    assert values[2] == module_spec
    assert float(values[0]) == pytest.approx(row["params"], rel=1e-3)
    assert float(values[1]) == pytest.approx(row["gradsign"], rel=1e-3)


def test_score_model_input_shape_and_classes(models_file, synthetic_data_dir, capsys):
    common = ["--json", "--data-dir", str(synthetic_data_dir)]
    # A model for 16x16 input: the 32x32 CIFAR-10 images are resized.
    assert main(["score", "--model", f"{models_file}:sixteen_pixels", "--input-shape", "3,16,16",
                 "--proxies", "params,grad_norm", *common]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["params"] == pytest.approx((3 * 16 * 16 * 10 + 10) / 1e6)
    assert row["status"]["grad_norm"] == "ok" and row["grad_norm"] > 0
    # Five output classes: the labels are taken modulo 5.
    assert main(["score", "--model", f"{models_file}:five_classes", "--classes", "5", "--proxies", "gradsign",
                 *common]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == {"gradsign": "ok"} and row["gradsign"] > 0


@pytest.mark.parametrize(
    "model, extra, expected",
    [
        ("zeronas_no_such_module:make", [], "no module named 'zeronas_no_such_module' on the path"),
        ("{file}:missing", [], "has no attribute 'missing'"),
        ("{file}:NOT_CALLABLE", [], "is not callable (an object of type int)"),
        ("{file}:not_a_model", [], "returned an object of type int, not a torch.nn.Module"),
        ("{file}:INSTANCE", [], "is a model instance, not a function"),
        ("{file}:broken", [], "calling '{file}:broken' failed: RuntimeError: no GPU here"),
        ("{file}", [], "names no function"),
        ("/nonexistent/models.py:make", [], "model file '/nonexistent/models.py' does not exist"),
        ("{file}:make", ["1"], "pass architectures (or --file) or --model, not both"),
        ("{file}:sixteen_pixels", [], "cannot run on inputs of shape (N, 3, 32, 32)"),
        ("{file}:five_classes", [], "returns 5 outputs per sample, fewer than the 10 classes; pass --classes 5"),
        ("{file}:make", ["--input-shape", "1,32,32"], "--input-shape has 1 channels but cifar10 images have 3"),
    ],
)
def test_score_model_errors_are_one_line(models_file, synthetic_data_dir, capsys, model, extra, expected):
    model = model.format(file=models_file)
    line = _user_error(capsys, ["score", "--model", model, *extra, "--proxies", "params",
                                "--data-dir", str(synthetic_data_dir)])
    assert expected.format(file=models_file) in line


def test_input_shape_and_classes_need_model(capsys):
    line = _user_error(capsys, ["score", "1", "--classes", "5"])
    assert "--input-shape and --classes describe a --model" in line
    line = _user_error(capsys, ["score", "--model", "x:y", "--input-shape", "3,32"])
    assert "expected C,H,W as three positive integers" in line


def test_score_model_leaves_the_seed_in_charge(models_file, synthetic_data_dir, capsys):
    """The factory runs after torch.manual_seed(--seed): another seed, another initialisation."""
    argv = ["score", "--model", f"{models_file}:make", "--proxies", "l2_norm", "--json",
            "--data-dir", str(synthetic_data_dir)]
    values = []
    for seed in ("0", "0", "1"):
        assert main([*argv, "--seed", seed]) == 0
        values.append(json.loads(capsys.readouterr().out)[0]["l2_norm"])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 10))
    expected = get_proxy("l2_norm").compute(model, torch.zeros(2, 3, 32, 32), None)
    assert values[0] == values[1] == pytest.approx(expected, rel=1e-6)
    assert values[2] != values[0]


def test_score_table_keeps_each_reason_also_when_resumed(tmp_path):
    from zeronas.runner import Evaluator, ResultStore

    path = tmp_path / "scores.jsonl"
    tables = []
    for _ in range(2):  # scored, then read back from the results file
        with ResultStore(path) as store:
            evaluator = Evaluator("nb201", dataset="cifar10", proxies=["epsinas", "params"], store=store,
                                  progress=False)
            tables.append(evaluator.score([NO_PATH_CELL, evaluator.space.all_archs()[1]]))
    for table in tables:
        assert list(table.status["epsinas"]) == ["nan", "ok"] and list(table.status["params"]) == ["ok", "ok"]
        assert "constant" in table.reasons["epsinas"][0] and table.reasons["epsinas"][1] == ""
        assert list(table.reasons["params"]) == ["", ""]
    assert list(tables[1].reasons["epsinas"]) == list(tables[0].reasons["epsinas"])
    assert len(path.read_text().splitlines()) == 4
