"""Live search: a killed search resumes from its directory without re-evaluating or rescoring,
and ends where an uninterrupted one ends."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys

import pytest

from zeronas.benchmarks import get_benchmark
from zeronas.errors import ZeronasUserError
from zeronas.search import search_live

BENCH = get_benchmark("nb201")
SETTINGS = {"algorithm": "rea", "budget": 14, "seed": 2, "proxy": "params", "assist": "k3",
            "algorithm_options": {"population": 4, "sample": 2}}


def evaluate(arch):
    """A stand-in for training: the v1_0 validation accuracy and 30 s."""
    return float(BENCH.ground_truth([arch], "cifar10", "cifar10_valid_val_acc_v1_0")[0]), 30.0


KILLED = f"""
import os, sys
from zeronas.benchmarks import get_benchmark
from zeronas.search import search_live
bench = get_benchmark("nb201")
done = []
def evaluate(arch):
    if len(done) == int(sys.argv[2]):
        os._exit(9)  # killed mid-search, no clean-up
    done.append(arch)
    return float(bench.ground_truth([arch], "cifar10", "cifar10_valid_val_acc_v1_0")[0]), 30.0
search_live("nb201", evaluate, directory=sys.argv[1], **{SETTINGS!r})
"""


def lines(path):
    return path.read_text().splitlines()


def test_a_killed_search_resumes_and_matches_an_uninterrupted_one(tmp_path):
    whole = search_live("nb201", evaluate, directory=tmp_path / "whole", **SETTINGS)
    killed = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "cut"), "9"], capture_output=True,
                            timeout=300, check=False)
    assert killed.returncode == 9
    assert len(lines(tmp_path / "cut" / "evaluations.jsonl")) == 1 + 9
    scored_before = len(lines(tmp_path / "cut" / "scores.jsonl"))
    calls = []
    resumed = search_live("nb201", lambda a: calls.append(a) or evaluate(a), directory=tmp_path / "cut", **SETTINGS)
    assert resumed.replayed == 9 and len(calls) == 14 - 9
    assert [str(a) for a in resumed.trajectory.archs] == [str(a) for a in whole.trajectory.archs]
    assert resumed.trajectory.fitness == whole.trajectory.fitness
    assert lines(tmp_path / "cut" / "evaluations.jsonl") == lines(tmp_path / "whole" / "evaluations.jsonl")
    # the replay rescored nothing: the resumed file holds the proxy scores once each
    scored_after = len(lines(tmp_path / "cut" / "scores.jsonl"))
    assert scored_before <= scored_after == len(lines(tmp_path / "whole" / "scores.jsonl"))


def test_a_torn_last_line_is_evaluated_again(tmp_path):
    search_live("nb201", evaluate, directory=tmp_path, **{**SETTINGS, "budget": 5})
    path = tmp_path / "evaluations.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"arch": "|nor_conv_3x3~0|+|no')
    calls = []
    with pytest.warns(UserWarning, match="cut short"):
        result = search_live("nb201", lambda a: calls.append(a) or evaluate(a), directory=tmp_path,
                             **{**SETTINGS, "budget": 6})
    assert result.replayed == 5 and len(calls) == 1
    assert all(json.loads(line) for line in lines(path)) and len(lines(path)) == 1 + 6


def test_other_settings_are_refused(tmp_path):
    search_live("nb201", evaluate, directory=tmp_path, **{**SETTINGS, "budget": 3})
    with pytest.raises(ZeronasUserError, match="other settings \\(seed\\)"):
        search_live("nb201", evaluate, directory=tmp_path, **{**SETTINGS, "seed": 3})


def test_a_record_the_replay_does_not_reproduce_is_refused(tmp_path):
    search_live("nb201", evaluate, directory=tmp_path, **{**SETTINGS, "budget": 3})
    path = tmp_path / "evaluations.jsonl"
    rows = lines(path)
    record = json.loads(rows[2])
    record["arch"] = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    path.write_text("\n".join([*rows[:2], json.dumps(record)]) + "\n")
    with pytest.raises(ZeronasUserError, match="evaluation 2 .* another search"):
        search_live("nb201", evaluate, directory=tmp_path, **SETTINGS)


def test_one_process_per_directory(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ZeronasUserError, match="another process"):
            search_live("nb201", evaluate, directory=tmp_path, **SETTINGS)


def test_without_a_directory_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = search_live("nb201", evaluate, algorithm="rs", budget=4, seed=0)
    assert len(result.trajectory) == 4 and list(tmp_path.iterdir()) == []


def test_a_seconds_budget_keeps_the_refused_evaluation_for_a_larger_resume(tmp_path):
    settings = {**SETTINGS, "budget_unit": "seconds"}
    first = search_live("nb201", evaluate, directory=tmp_path, **{**settings, "budget": 100})  # 3 x 30 s fit
    assert len(first.trajectory) == 3
    assert len(lines(tmp_path / "evaluations.jsonl")) == 1 + 4  # the 4th was trained, then refused
    calls = []
    second = search_live("nb201", lambda a: calls.append(a) or evaluate(a), directory=tmp_path,
                         **{**settings, "budget": 160})
    assert len(second.trajectory) == 5 and second.replayed == 4 and len(calls) == 2
