"""What one scoring job is: a network built from an architecture, scored by proxies on batches.

The :class:`ScoringContext` holds everything a job needs besides the architecture (space,
dataset, seed, proxies, data batches). Executors ship it to each worker once; a job is then
only an architecture and the proxies it still lacks.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from zeronas._version import __version__
from zeronas.data.datasets import DatasetSpec
from zeronas.data.images import ImageBatch
from zeronas.proxies import DataRecipe, Proxy
from zeronas.spaces.base import SearchSpace

RECORD_FORMAT = 2


@dataclass(frozen=True)
class ScoringContext:
    """The fixed part of many scoring jobs: one space, dataset and seed, and the proxies' batches."""

    space: SearchSpace
    dataset: DatasetSpec
    seed: int
    proxies: tuple[Proxy, ...]
    batches: dict[DataRecipe, ImageBatch] = field(hash=False, compare=False)
    # A token naming this context, so a worker keeps it once and jobs refer to it.
    token: str = ""


@dataclass(frozen=True)
class Job:
    """Score ``arch`` with the context's proxies whose keys are ``proxy_keys``."""

    arch: Any
    proxy_keys: tuple[str, ...]


def base_record(context: ScoringContext, identity: str, text: str, proxy: Proxy, batch: ImageBatch) -> dict[str, Any]:
    """The identifying fields of one score of the architecture ``identity`` (written ``text``).

    See :mod:`zeronas.runner.store` for the format.
    """
    return {
        "format": RECORD_FORMAT,
        "space": context.space.name,
        "arch": identity,
        "arch_text": text,
        "dataset": context.dataset.name,
        "proxy": proxy.key,
        "proxy_name": proxy.name,
        "proxy_version": proxy.version,
        "options": proxy.options(),
        "seed": context.seed,
        "batch": batch.digest,
    }


def run_job(context: ScoringContext, job: Job) -> list[dict[str, Any]]:
    """Build the network for ``job.arch`` (after ``torch.manual_seed(seed)``) and score it.

    Proxies that share a data recipe are scored in one call, so they share intermediates.
    A failure of one proxy is that proxy's ``error`` record, and a network that cannot be built
    is an ``error`` record of every proxy (retried on resume); only a ``ZeronasUserError`` raises.
    """
    from zeronas.errors import ZeronasUserError, one_line
    from zeronas.scoring import ProxyScore, score_detailed

    wanted = [p for p in context.proxies if p.key in job.proxy_keys]
    identity, text = context.space.identity(job.arch), context.space.format(job.arch)
    torch.manual_seed(context.seed)
    try:
        model = context.space.build(job.arch, context.dataset)
        failed = None
    except ZeronasUserError:
        raise
    except Exception as exc:  # one unbuildable network must not stop a run
        failed = ProxyScore(float("nan"), "error", f"building the network failed: {one_line(exc)}")
    records = []
    for recipe in dict.fromkeys(p.data for p in wanted):
        group = [p for p in wanted if p.data == recipe]
        batch = context.batches[recipe]
        if failed is None:
            results = score_detailed(model, batch.inputs, batch.targets, group, seed=context.seed)
        else:
            results = dict.fromkeys((p.key for p in group), failed)
        for proxy in group:
            result = results[proxy.key]
            record = base_record(context, identity, text, proxy, batch)
            record.update(
                value=result.value, status=result.status, reason=result.reason, seconds=round(result.seconds, 6),
                torch=torch.__version__, zeronas=__version__, time=time.time(),
            )
            records.append(record)
    return records


def proxies_by_key(proxies: Sequence[Proxy]) -> dict[str, Proxy]:
    return {p.key: p for p in proxies}
