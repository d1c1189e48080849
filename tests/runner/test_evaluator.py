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


_DYING_WORKER_SCRIPT = """
import os, signal, sys, warnings
from pathlib import Path
from zeronas.proxies import Proxy
from zeronas.runner import Evaluator, LocalPoolExecutor, MemoryStore

CELLS = {cells!r}
MARKERS = Path(sys.argv[1])


class CountingStore(MemoryStore):
    \"\"\"Keeps every record it is given, duplicates included, besides storing them.\"\"\"

    def __init__(self):
        self.given = []
        super().__init__()

    def add_many(self, records):
        records = list(records)
        self.given.extend((r["arch"], r["proxy"]) for r in records)
        return super().add_many(records)


class KillsItsWorker(Proxy):
    \"\"\"The parameter count; the first ``deaths`` times it meets a network, it SIGKILLs its process.\"\"\"

    name = "kills_its_worker"

    def __init__(self, *, deaths=1):
        self.deaths = deaths

    def compute(self, model, inputs, targets):
        n = sum(p.numel() for p in model.parameters())
        seen = len(list(MARKERS.glob(f"{{n}}-*")))
        if seen < self.deaths:
            (MARKERS / f"{{n}}-{{seen}}").touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return float(n)


if __name__ == "__main__":
    deaths, retries = int(sys.argv[2]), int(sys.argv[3])
    store = CountingStore()
    with LocalPoolExecutor(2, max_retries=retries) as pool, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Evaluator("nb201", dataset="cifar10", proxies=["params"], executor=pool, progress=False).score(CELLS[:1])
        os.kill(pool.pids[0], signal.SIGKILL)  # an idle worker dies between two runs
        try:
            table = Evaluator("nb201", dataset="cifar10", proxies=["params", KillsItsWorker(deaths=deaths)],
                              store=store, executor=pool, progress=False).score(CELLS)
            print("scores", table["kills_its_worker"].tolist(), table["params"].tolist())
        except RuntimeError as exc:
            print("raised:", exc)
        print("replaced", pool.workers_replaced)
        print("warnings", sum("resubmitted" in str(w.message) for w in caught))
    print("records", len(store.given), len(set(store.given)))
"""


def _run_dying_worker_script(tmp_path, deaths: int, retries: int) -> str:
    import subprocess
    import sys

    script = tmp_path / "dying_worker.py"
    script.write_text(_DYING_WORKER_SCRIPT.format(cells=CELLS))
    (tmp_path / "markers").mkdir()
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "markers"), str(deaths), str(retries)],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_a_pool_replaces_dead_workers_and_resubmits_their_jobs(tmp_path):
    # Each network kills its worker once (and an idle worker is killed before the run, so the
    # run's 1.5 MB context fills a dead worker's pipe, which must not hang the pool): every
    # job is resubmitted, and every score arrives exactly once, equal to the serial one.
    # The idle worker's death counts against the first job sent to it, hence 2 retries.
    out = _run_dying_worker_script(tmp_path, deaths=1, retries=2)
    params = Evaluator("nb201", dataset="cifar10", proxies=["params"], progress=False).score(CELLS)["params"]
    networks = len(set(params.tolist()))  # a network is told apart by its parameter count
    assert networks >= 2 and len(list((tmp_path / "markers").iterdir())) == networks
    counts = [float(round(p * 1e6)) for p in params]  # params is in millions
    assert f"scores {counts} {params.tolist()}" in out, out
    assert f"replaced {1 + networks}" in out and f"warnings {1 + networks}" in out, out
    assert f"records {2 * len(CELLS)} {2 * len(CELLS)}" in out, out


@pytest.mark.slow
def test_a_job_that_keeps_killing_its_worker_raises_after_max_retries(tmp_path):
    out = _run_dying_worker_script(tmp_path, deaths=99, retries=1)
    assert "raised: a scoring worker died (killed by SIGKILL" in out, out
    assert "which has now lost 2 workers; rerun to resume" in out, out


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


@pytest.mark.parametrize("retries", [-1, 1.5, True, "3"])
def test_a_bad_max_retries_is_a_one_line_error(retries):
    from zeronas.errors import ZeronasUserError

    with pytest.raises(ZeronasUserError, match="max_retries must be an integer of 0 or more"):
        LocalPoolExecutor(2, max_retries=retries)
