"""Scoring many architectures of a search space, with the minibatch each proxy's paper uses."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import torch

from zeronas._progress import Progress
from zeronas.data import NUM_CLASSES, ImageBatch, load_batch
from zeronas.errors import ZeronasUserError
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
    workers: int = 1,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """Score each architecture with each proxy; returns ``{proxy: scores}`` in ``archs`` order.

    Each proxy sees the minibatch of its paper (``Proxy.data``), drawn with ``seed``; each
    network is initialised with ``torch.manual_seed(seed)``. Undefined scores are NaN. Scores
    already in ``store`` are reused, so a killed run resumes where it stopped.

    ``workers`` > 1 scores architectures in that many processes, one CPU thread each (the
    fastest use of a multi-core machine: a network this small does not keep several threads
    busy); this process alone writes the store, in the order scores finish.
    """
    if workers < 1:
        raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
    resolved = resolve_proxies(proxies, options or {})
    batches = _batches(resolved, dataset, seed, data_dir)
    store = store if store is not None else ResultStore()
    keys = [
        {p.name: record_key(_record(space, str(arch), dataset, p, seed, batches[p.data].digest)) for p in resolved}
        for arch in archs
    ]
    jobs = []  # (architecture, the proxies whose scores it still lacks)
    for arch, arch_keys in zip(archs, keys, strict=True):
        missing = [p for p in resolved if store.get(arch_keys[p.name]) is None]
        if missing:
            jobs.append((arch, missing))
    label = f"{dataset} {','.join(p.name for p in resolved)}"
    with Progress(len(archs), label, enabled=progress) as bar:
        bar.skip(len(archs) - len(jobs))
        if workers == 1 or len(jobs) < 2:
            for arch, missing in jobs:
                for record in _score_arch(space, arch, dataset, missing, seed, batches):
                    store.add(record)
                bar.advance()
        else:
            _score_in_processes(space, jobs, dataset, resolved, seed, data_dir, store, workers, bar)
    return {
        p.name: np.array([float(store.get(arch_keys[p.name])["value"]) for arch_keys in keys])  # type: ignore[index]
        for p in resolved
    }


def _score_arch(
    space: SearchSpace, arch: Any, dataset: str, proxies: Sequence[Proxy], seed: int,
    batches: Mapping[DataRecipe, ImageBatch],
) -> list[dict[str, Any]]:
    """The records of one architecture's scores by ``proxies``, each on its own recipe's batch."""
    torch.manual_seed(seed)
    model = space.build(arch, num_classes=NUM_CLASSES[dataset])
    records = []
    for recipe in {p.data for p in proxies}:
        group = [p for p in proxies if p.data == recipe]
        batch = batches[recipe]
        results = score_detailed(model, batch.inputs, batch.targets, group, seed=seed)
        for proxy in group:
            result = results[proxy.name]
            record = _record(space, str(arch), dataset, proxy, seed, batch.digest)
            record.update(
                value=result.value, status=result.status, reason=result.reason,
                seconds=round(result.seconds, 6), torch=torch.__version__, time=time.time(),
            )
            records.append(record)
    return records


# --- worker processes -------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(space: SearchSpace, dataset: str, proxies: Sequence[Proxy], seed: int,
                  data_dir: str | os.PathLike[str] | None) -> None:
    torch.set_num_threads(1)
    _WORKER.update(space=space, dataset=dataset, seed=seed, batches=_batches(proxies, dataset, seed, data_dir))


def _worker_score(arch: Any, proxies: Sequence[Proxy]) -> list[dict[str, Any]]:
    w = _WORKER
    return _score_arch(w["space"], arch, w["dataset"], proxies, w["seed"], w["batches"])


def _score_in_processes(
    space: SearchSpace, jobs: Sequence[tuple[Any, list[Proxy]]], dataset: str, proxies: Sequence[Proxy], seed: int,
    data_dir: str | os.PathLike[str] | None, store: ResultStore, workers: int, bar: Progress,
) -> None:
    # spawn, not fork: a forked child of a process that has run torch's thread pool can hang.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context, initializer=_start_worker,
                             initargs=(space, dataset, list(proxies), seed, data_dir)) as pool:
        futures = [pool.submit(_worker_score, arch, missing) for arch, missing in jobs]
        try:
            for future in as_completed(futures):
                for record in future.result():
                    store.add(record)
                bar.advance()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


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
