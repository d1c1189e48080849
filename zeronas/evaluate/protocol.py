"""The correlation protocol: a seeded sample of a benchmark's cells, scored and ranked."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from zeronas.data import accuracy_column, load_nb201_table
from zeronas.errors import ZeronasUserError
from zeronas.evaluate.correlation import Correlation, correlate_scores
from zeronas.evaluate.ensemble import ENSEMBLE, ensemble_scores
from zeronas.proxies import Proxy, get_proxy_class
from zeronas.runner import ResultStore, score_archs
from zeronas.spaces import SPACES


def sample_indices(total: int, sample: int, seed: int) -> np.ndarray:
    """``sample`` distinct indices of ``range(total)`` drawn with ``seed``, sorted."""
    if sample < 1:
        raise ZeronasUserError(f"--sample must be a positive number of cells, got {sample}")
    if sample >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=sample, replace=False))


def correlate(
    *,
    space: str = "nb201",
    dataset: str = "cifar10",
    sample: int = 1000,
    seed: int = 0,
    proxies: Sequence[str | Proxy] = ("gradsign", "gradalign", "gradalign_gram", "epsinas"),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    metric: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    results: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: bool = True,
    nan_policy: str = "drop",
    ensemble: Sequence[str] | None = None,
    aggregation: str = "log_rank",
) -> dict[str, Correlation]:
    """Score a seeded sample of cells and correlate each proxy with the ground truth.

    ``metric`` is a column of the ground-truth table (default: the dataset's 200-epoch test
    accuracy). Correlations are signed; cells whose score is NaN are left out (``nan_policy=
    "drop"``) or ranked worst (``"worst"``, see :func:`correlate_scores`).
    ``results`` names a JSON-lines file that keeps every score, so a rerun resumes.
    ``workers`` scoring processes run side by side (:func:`zeronas.runner.score_archs`).
    ``ensemble`` names member proxies (scored too if not in ``proxies``) whose rank aggregation
    (``aggregation``, see :mod:`zeronas.evaluate.ensemble`) is reported as ``"ensemble"``.
    """
    if space not in SPACES:
        raise ZeronasUserError(f"unknown space {space!r}; choose from {', '.join(SPACES)}")
    names = [p if isinstance(p, str) else p.name for p in proxies]
    if ensemble:
        proxies = list(proxies) + [m for m in ensemble if m not in names]
    table = load_nb201_table(data_dir)
    accuracy = table.column(metric or accuracy_column(dataset))
    search_space = SPACES[space](data_dir)
    all_archs = search_space.all_archs()
    index = sample_indices(len(all_archs), sample, seed)
    scores = score_archs(
        search_space,
        [all_archs[i] for i in index],
        dataset=dataset,
        proxies=proxies,
        seed=seed,
        options=options,
        data_dir=data_dir,
        store=ResultStore(results),
        workers=workers,
        progress=progress,
    )
    out = {
        name: correlate_scores(
            values, accuracy[index], nan_policy=nan_policy, higher_is_better=get_proxy_class(name).higher_is_better
        )
        for name, values in scores.items()
    }
    if ensemble:
        combined = ensemble_scores(scores, list(ensemble), aggregation=aggregation)
        out[ENSEMBLE] = correlate_scores(combined, accuracy[index], nan_policy=nan_policy)
    return out
