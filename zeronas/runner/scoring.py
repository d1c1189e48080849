"""Scoring many architectures of a search space, with the minibatch each proxy's paper uses."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from zeronas._progress import Progress
from zeronas.data import NUM_CLASSES, ImageBatch, load_batch
from zeronas.proxies import DataRecipe, Proxy
from zeronas.runner.store import ResultStore, record_key
from zeronas.scoring import resolve_proxies, score_detailed
from zeronas.spaces.base import SearchSpace


def _batches(
    proxies: Sequence[Proxy], dataset: str, seed: int, data_dir: str | os.PathLike[str] | None
) -> dict[DataRecipe, ImageBatch]:
    return {
        recipe: load_batch(
            dataset,
            batch_size=recipe.batch_size,
            seed=seed,
            normalization=recipe.normalization,
            augment=recipe.augment,
            data_dir=data_dir,
        )
        for recipe in {p.data for p in proxies}
    }


def score_archs(
    space: SearchSpace,
    archs: Sequence[Any],
    *,
    dataset: str,
    proxies: Sequence[str | Proxy],
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    store: ResultStore | None = None,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Score each architecture with each proxy; returns ``{proxy: scores}`` in ``archs`` order.

    Each proxy sees the minibatch of its paper (``Proxy.data``), drawn with ``seed``; each
    network is initialised with ``torch.manual_seed(seed)``. Undefined scores are NaN. Scores
    already in ``store`` are reused, so a killed run resumes where it stopped.
    """
    resolved = resolve_proxies(proxies, options or {})
    batches = _batches(resolved, dataset, seed, data_dir)
    store = store if store is not None else ResultStore()
    torch_version = torch.__version__
    out = {p.name: np.full(len(archs), math.nan) for p in resolved}
    with Progress(len(archs), f"{dataset} {','.join(p.name for p in resolved)}", enabled=progress) as bar:
        for i, arch in enumerate(archs):
            arch_str = str(arch)
            keys = {
                p.name: record_key(_record(space, arch_str, dataset, p, seed, batches[p.data].digest))
                for p in resolved
            }
            missing = [p for p in resolved if store.get(keys[p.name]) is None]
            if missing:
                torch.manual_seed(seed)
                model = space.build(arch, num_classes=NUM_CLASSES[dataset])
                for recipe in {p.data for p in missing}:
                    group = [p for p in missing if p.data == recipe]
                    batch = batches[recipe]
                    results = score_detailed(model, batch.inputs, batch.targets, group, seed=seed)
                    for proxy in group:
                        result = results[proxy.name]
                        record = _record(space, arch_str, dataset, proxy, seed, batch.digest)
                        record.update(
                            value=result.value, status=result.status, reason=result.reason,
                            seconds=round(result.seconds, 6), torch=torch_version, time=time.time(),
                        )
                        store.add(record)
            for p in resolved:
                out[p.name][i] = float(store.get(keys[p.name])["value"])  # type: ignore[index]
            bar.advance()
    return out


def _record(space: SearchSpace, arch: str, dataset: str, proxy: Proxy, seed: int, batch: str) -> dict[str, Any]:
    return {
        "space": space.name,
        "arch": arch,
        "dataset": dataset,
        "proxy": proxy.name,
        "proxy_version": proxy.version,
        "options": proxy.options(),
        "seed": seed,
        "batch": batch,
    }
