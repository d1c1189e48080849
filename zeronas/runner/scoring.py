"""``score_archs``: the one-call form of the Evaluator, returning plain arrays."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeronas.proxies import Proxy
from zeronas.runner.evaluator import Evaluator
from zeronas.runner.executors import make_executor
from zeronas.runner.store import Store
from zeronas.spaces.base import SearchSpace


def score_archs(
    space: SearchSpace | str,
    archs: Sequence[Any],
    *,
    dataset: str,
    proxies: Sequence[str | Proxy],
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    store: Store | None = None,
    workers: int = 1,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Score each architecture with each proxy; ``{proxy key: scores}`` in ``archs`` order.

    ``workers`` > 1 scores in that many local processes (one CPU thread each); see
    :class:`~zeronas.runner.evaluator.Evaluator` for batches, seeds and resuming.
    """
    with make_executor(workers) as executor:
        evaluator = Evaluator(space, dataset=dataset, proxies=proxies, seed=seed, options=options, store=store,
                              executor=executor, data_dir=data_dir, progress=progress)
        return evaluator.score(archs).as_dict()
