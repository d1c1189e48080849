"""examples/own_space.py: its space passes the space contract, its runs resume and rank reproducibly."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tests.spaces.test_contract as contract
from zeronas.data import get_dataset
from zeronas.errors import ArchitectureError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "own_space.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("zeronas_example_own_space", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


example = _load_example()

# Every check of the registered spaces' contract that takes only a space, run on this one.
CONTRACT = [getattr(contract, name) for name in sorted(dir(contract))
            if name.startswith("test_") and list(inspect.signature(getattr(contract, name)).parameters) == ["space"]]


@pytest.fixture(scope="module")
def space():
    return example.CNNSpace()


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__ for c in CONTRACT])
def test_the_space_passes_the_space_contract(space, check):
    check(space)


def test_contract_checks_were_found():
    assert len(CONTRACT) >= 4


def test_every_decision_varies_and_builds_for_any_class_count(space):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(40)]
    for i, choices in enumerate(example.CHOICES):  # the sampler reaches every value of every decision
        assert {space.decisions(a)[i] for a in archs} == set(choices)
    arch = space.parse("3x24-1x8-2x16-k5-nobn")
    assert space.decisions(arch) == (3, 1, 2, 24, 8, 16, 5, "nobn")
    assert len(space.neighbours(arch)) == sum(len(c) - 1 for c in example.CHOICES)
    with torch.no_grad():
        out = space.build(arch, get_dataset("cifar100")).eval()(torch.randn(3, 3, 32, 32))
        assert out.shape == (3, 100)
        out = space.build(arch, get_dataset("imagenet16")).eval()(torch.randn(3, 3, 16, 16))
        assert out.shape == (3, 120)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in space.build(arch, get_dataset("cifar10")).modules())


@pytest.mark.parametrize("text", ["", "2x8-1x16-k3-bn", "4x8-1x16-3x24-k3-bn", "2x8-1x16-3x24-k7-bn",
                                  "2x8-1x16-3x24-k3-ln"])
def test_text_outside_the_space_is_a_one_line_architecture_error(space, text):
    with pytest.raises(ArchitectureError) as info:
        space.parse(text)
    assert "\n" not in str(info.value)


@pytest.mark.filterwarnings("ignore:cifar10. only 64 images")  # the synthetic file is smaller than naswot's batch
def test_a_rerun_scores_nothing_a_killed_run_resumes_and_the_ranking_repeats(tmp_path, synthetic_data_dir, capsys):
    results = tmp_path / "own.jsonl"
    argv = ["--candidates", "6", "--proxies", "params,naswot", "--results", str(results),
            "--data-dir", str(synthetic_data_dir), "--json"]

    first = example.main(argv)
    printed = json.loads(capsys.readouterr().out)
    lines = results.read_text().splitlines()
    assert len(lines) == 6 * 2  # 6 distinct candidates x 2 proxies
    assert printed["candidates"] == 6 and printed["proxies"] == ["params", "naswot"]
    assert [row["arch"] for row in printed["top"]] == [row["arch"] for row in first]
    assert [row["rank"] for row in first] == list(range(1, 7))
    assert len({row["arch"] for row in first}) == 6
    assert all(v is not None for row in first for v in row["scores"].values())

    second = example.main(argv)  # everything is stored: nothing is scored or written again
    capsys.readouterr()
    assert results.read_text().splitlines() == lines
    assert second == first

    results.write_text("\n".join(lines[:-3]) + "\n")  # as if killed before the last 3 scores
    third = example.main(argv)
    capsys.readouterr()
    assert len(results.read_text().splitlines()) == len(lines)
    assert third == first

    space = example.CNNSpace()  # params is the independent count of the built network
    for row in first:
        model = space.build(space.parse(row["arch"]), get_dataset("cifar10"))
        assert row["scores"]["params"] == pytest.approx(sum(p.numel() for p in model.parameters()) / 1e6, rel=1e-12)


def _run_script(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLE), *argv], check=False, capture_output=True, text=True,
                          timeout=120)


def test_the_script_reports_a_bad_proxy_in_one_line_and_exits_2(tmp_path, synthetic_data_dir):
    bad = _run_script("--candidates", "4", "--results", str(tmp_path / "bad.jsonl"),
                      "--data-dir", str(synthetic_data_dir), "--proxies", "params,nonsense")
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "nonsense" in bad.stderr
    assert not (tmp_path / "bad.jsonl").exists()


@pytest.mark.slow  # spawns two worker processes, each importing torch
def test_the_script_scores_in_worker_processes_as_it_does_serially(tmp_path, synthetic_data_dir):
    common = ["--candidates", "4", "--proxies", "params", "--data-dir", str(synthetic_data_dir), "--json"]
    pooled = _run_script(*common, "--workers", "2", "--results", str(tmp_path / "pooled.jsonl"))
    assert pooled.returncode == 0, pooled.stderr  # the space's class reaches the spawned workers
    serial = example.main([*common, "--results", str(tmp_path / "serial.jsonl")])
    assert json.loads(pooled.stdout)["top"] == serial


@pytest.mark.parametrize("algorithm", ["rs", "rea"])
def test_the_example_space_is_searched_live_with_a_proxy(space, algorithm, tmp_path):
    from zeronas.search import search_live

    def evaluate(arch):  # a stand-in for a short training run: deterministic, positive cost
        return float(sum(space.decisions(arch)[:6])), 1.0

    first = search_live(space, evaluate, algorithm=algorithm, budget=8, seed=1, proxy="params", assist="k3",
                        directory=tmp_path)
    again = search_live(space, evaluate, algorithm=algorithm, budget=8, seed=1, proxy="params", assist="k3",
                        directory=tmp_path)
    assert again.replayed == 8 and [space.format(a) for a in again.trajectory.archs] == [
        space.format(a) for a in first.trajectory.archs]
    assert first.best_fitness == max(first.trajectory.fitness) and first.proxy_seconds >= 0


def test_policy_searchers_name_the_capability_the_example_space_lacks(space):
    from zeronas.errors import ZeronasUserError
    from zeronas.search import get_searcher

    with pytest.raises(ZeronasUserError, match="Categorical"):
        get_searcher("tpe")(space, seed=0)
