"""Scoring many cells: worker processes give the serial scores, and a resumed run scores only what is missing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import CONV_CELL, DEAD_CELL, MIXED_CELL
from zeronas.errors import ZeronasUserError
from zeronas.runner import ResultStore, score_archs
from zeronas.spaces import NB201Space

PROXIES = ["gradsign", "synflow", "params"]
CELLS = [MIXED_CELL, DEAD_CELL, CONV_CELL, "|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"]


@pytest.fixture(scope="module")
def space():
    return NB201Space(None)


@pytest.mark.slow
def test_worker_processes_give_the_serial_scores(space, tmp_path):
    cells = [space.parse(c) for c in CELLS]
    serial = score_archs(space, cells, dataset="cifar10", proxies=PROXIES, seed=1, progress=False)
    store = ResultStore(tmp_path / "scores.jsonl")
    parallel = score_archs(space, cells, dataset="cifar10", proxies=PROXIES, seed=1, store=store, workers=2,
                           progress=False)
    for name in PROXIES:
        # One thread per worker sums in another order than the main process: equal to rounding.
        np.testing.assert_allclose(parallel[name], serial[name], rtol=1e-5, equal_nan=True)
    assert np.isnan(parallel["synflow"][1]) and np.isfinite(parallel["synflow"][[0, 2, 3]]).all()
    lines = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert sorted((r["arch"], r["proxy"]) for r in lines) == sorted((c, p) for c in CELLS for p in PROXIES)


@pytest.mark.slow
def test_a_resumed_parallel_run_scores_only_what_is_missing(space, tmp_path):
    path = tmp_path / "scores.jsonl"
    cells = [space.parse(c) for c in CELLS]
    first = score_archs(space, cells[:2], dataset="cifar10", proxies=PROXIES, seed=0, store=ResultStore(path),
                        progress=False)
    written = path.read_text()
    resumed = score_archs(space, cells, dataset="cifar10", proxies=PROXIES, seed=0, store=ResultStore(path),
                          workers=2, progress=False)
    assert path.read_text().startswith(written)  # earlier scores kept, not rewritten
    new = [json.loads(line) for line in path.read_text()[len(written):].splitlines()]
    assert sorted({r["arch"] for r in new}) == sorted(CELLS[2:])
    assert len(new) == 2 * len(PROXIES)
    for name in PROXIES:
        np.testing.assert_array_equal(resumed[name][:2], first[name])


def test_workers_below_one_is_a_user_error(space):
    with pytest.raises(ZeronasUserError, match="workers must be at least 1"):
        score_archs(space, [space.parse(MIXED_CELL)], dataset="cifar10", proxies=["params"], workers=0)
