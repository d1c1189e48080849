"""The Evaluator: proxy instances as result keys, resuming, legacy records, executors, user proxies."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import CONV_CELL, DEAD_CELL, MIXED_CELL
from zeronas.experiments import CorrelateConfig, correlate
from zeronas.proxies import Proxy
from zeronas.proxies.linear_regions import LinearRegions
from zeronas.runner import Evaluator, LocalPoolExecutor, MemoryStore
from zeronas.runner.store import JsonlStore

CELLS = [MIXED_CELL, DEAD_CELL, CONV_CELL]


def test_two_configurations_of_one_proxy_are_scored_and_stored_apart(tmp_path):
    store = JsonlStore(tmp_path / "r.jsonl")
    together = Evaluator("nb201", dataset="cifar10", proxies=[LinearRegions(crop=3), LinearRegions(crop=8)],
                         store=store, progress=False).score(CELLS)
    assert together.keys() == ["linear_regions", "linear_regions[crop=8]"]
    assert sorted({r["proxy"] for r in store}) == ["linear_regions", "linear_regions[crop=8]"]
    for proxy in (LinearRegions(crop=3), LinearRegions(crop=8)):
        alone = Evaluator("nb201", dataset="cifar10", proxies=[proxy], progress=False).score(CELLS)
        np.testing.assert_array_equal(together[proxy.key], alone[proxy.key])
    assert not np.array_equal(together["linear_regions"], together["linear_regions[crop=8]"])


def test_error_records_are_rescored_and_stored_scores_reused(tmp_path):
    path = tmp_path / "r.jsonl"
    first = Evaluator("nb201", dataset="cifar10", proxies=["params"], store=JsonlStore(path), progress=False)
    values = first.score(CELLS)["params"]
    # Turn one stored score into an error: a resumed run must compute it again, not trust it.
    records = [r for r in JsonlStore(path)]
    broken = tmp_path / "broken.jsonl"
    store = JsonlStore(broken)
    store.add_many([{**r, "value": None, "status": "error", "reason": "RuntimeError: boom"} if r["arch"] == CELLS[0]
                    else r for r in records])
    store.close()
    resumed = Evaluator("nb201", dataset="cifar10", proxies=["params"], store=JsonlStore(broken), progress=False)
    np.testing.assert_array_equal(resumed.score(CELLS)["params"], values)
    statuses = [r["status"] for r in JsonlStore(broken).records.values()]
    assert statuses == ["ok"] * 3  # the error was superseded by a fresh score


def test_a_network_that_cannot_be_built_is_an_error_record_retried_on_resume(tmp_path, monkeypatch):
    from zeronas.spaces.nb201 import NB201Space

    build = NB201Space.build

    def failing(self, arch, dataset):  # a space bug that hits one architecture
        if self.format(arch) == CELLS[1]:
            raise IndexError("no such edge")
        return build(self, arch, dataset)

    monkeypatch.setattr(NB201Space, "build", failing)
    path = tmp_path / "r.jsonl"
    table = Evaluator("nb201", dataset="cifar10", proxies=["params", "synflow"], store=JsonlStore(path),
                      progress=False).score(CELLS)
    assert list(table.status["params"]) == ["ok", "error", "ok"] and np.isnan(table["params"][1])
    assert table.reasons["synflow"][1] == "building the network failed: IndexError: no such edge"
    monkeypatch.setattr(NB201Space, "build", build)  # fixed: the resumed run builds it and scores it
    resumed = Evaluator("nb201", dataset="cifar10", proxies=["params", "synflow"], store=JsonlStore(path),
                        progress=False).score(CELLS)
    assert list(resumed.status["params"]) == ["ok"] * 3 and np.isfinite(resumed["params"]).all()


def test_records_of_the_previous_format_are_found_by_their_batch_identity():
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=["synflow"], progress=False)
    batch = evaluator.batches()[evaluator.proxies[0].data]
    legacy = {"space": "nb201", "arch": MIXED_CELL, "dataset": "cifar10", "proxy": "synflow",
              "proxy_version": evaluator.proxies[0].version, "options": evaluator.proxies[0].options(), "seed": 0,
              "batch": batch.legacy_digest, "value": 123.5, "status": "ok", "reason": "", "seconds": 0.1}
    evaluator.store = MemoryStore([legacy])
    assert evaluator.score([MIXED_CELL])["synflow"].tolist() == [123.5]  # found, not rescored


@pytest.mark.slow
def test_the_pool_ships_a_context_once_per_worker_and_matches_serial():
    serial = Evaluator("nb201", dataset="cifar10", proxies=["params", "naswot"], progress=False).score(CELLS)
    with LocalPoolExecutor(2) as pool:
        for _ in range(2):  # a second call with the same context sends no data again
            pooled = Evaluator("nb201", dataset="cifar10", proxies=["params", "naswot"], executor=pool,
                               progress=False).score(CELLS)
        assert pool.contexts_sent == 2
        other_seed = Evaluator("nb201", dataset="cifar10", proxies=["params"], seed=1, executor=pool,
                               progress=False).score(CELLS[:2])
        assert pool.contexts_sent == 4
    for key in ("params", "naswot"):
        np.testing.assert_allclose(pooled[key], serial[key], rtol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(other_seed["params"], serial["params"][:2])


class NegativeParameterCount(Proxy):
    """A user's own proxy, not registered: minus the parameter count, so lower is better."""

    name = "negative_params"
    higher_is_better = False

    def compute(self, model, inputs, targets):
        return -float(sum(p.numel() for p in model.parameters()))


def test_an_unregistered_lower_is_better_proxy_works_in_correlate_and_ensembles():
    config = CorrelateConfig(dataset="cifar10", sample=15, seed=0, proxies=("params", NegativeParameterCount()),
                             ensemble=("params", "negative_params"))
    result = correlate(config, progress=False).correlations
    assert result["negative_params"].spearman == pytest.approx(result["params"].spearman)
    assert result["negative_params"].raw_spearman == pytest.approx(-result["params"].spearman)
    assert result["ensemble"].spearman == pytest.approx(result["params"].spearman)


@pytest.mark.slow
def test_a_user_error_in_a_worker_reaches_the_caller_as_itself():
    from zeronas.errors import ZeronasUserError

    with LocalPoolExecutor(2) as pool, pytest.raises(ZeronasUserError, match="larger than the 16x16 images"):
        Evaluator("nb201", dataset="imagenet16", proxies=[LinearRegions(crop=32)], executor=pool,
                  progress=False).score(CELLS)


@pytest.mark.slow
def test_a_pool_whose_worker_died_raises_instead_of_hanging():
    import subprocess
    import sys

    script = """
import os, signal, sys
import numpy as np
from zeronas.runner import Evaluator, LocalPoolExecutor
from zeronas.proxies.linear_regions import LinearRegions
cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"]
pool = LocalPoolExecutor(1)
Evaluator("nb201", dataset="cifar10", proxies=["params"], executor=pool, progress=False).score(cells)
os.kill(pool._processes[0].pid, signal.SIGKILL)
pool._processes[0].join()
try:  # a context of 12 MB (1,000 images) fills the dead worker's pipe
    Evaluator("nb201", dataset="cifar10", proxies=[LinearRegions()], executor=pool, progress=False).score(cells)
except RuntimeError as exc:
    print("raised:", exc)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "raised:" in out.stdout and "died" in out.stdout, out.stderr[-2000:]


def test_a_zero_cost_nas_measure_takes_the_batch_size_it_is_given():
    import torch

    import zeronas
    from zeronas.data import get_dataset, load_batch
    from zeronas.proxies.jacob_cov import JacobCov
    from zeronas.proxies.snip import Snip
    from zeronas.spaces import get_space

    proxies = [Snip(), Snip(batch_size=128), JacobCov(batch_size=128)]
    table = Evaluator("nb201", dataset="cifar10", proxies=proxies, progress=False).score(CELLS[:1])
    assert table.keys() == ["snip", "snip[batch_size=128]", "jacob_cov[batch_size=128]"]
    # oracle: the default-option proxies on zero-cost-nas' batch drawn at 128 images, network seeded as a job does
    batch = load_batch("cifar10", batch_size=128, seed=0, normalization="zero_cost_nas", augment=True)
    assert len(batch.inputs) == 128
    space = get_space("nb201")
    torch.manual_seed(0)
    model = space.build(space.parse(CELLS[0]), get_dataset("cifar10"))
    expected = zeronas.score(model, batch.inputs, batch.targets, proxies=["snip", "jacob_cov"], seed=0)
    assert table["snip[batch_size=128]"][0] == pytest.approx(expected["snip"], rel=1e-6)
    assert table["jacob_cov[batch_size=128]"][0] == pytest.approx(expected["jacob_cov"], rel=1e-6)
    assert table["snip"][0] != pytest.approx(expected["snip"], rel=1e-3)


@pytest.mark.parametrize("size", [0, 1, 2.5, True, "64"])
def test_a_bad_batch_size_is_a_one_line_error(size):
    from zeronas.errors import ZeronasUserError
    from zeronas.proxies.grad_norm import GradNorm

    with pytest.raises(ZeronasUserError, match="batch_size must be an integer of at least 2"):
        GradNorm(batch_size=size)
