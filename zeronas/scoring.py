"""Scoring one network with several proxies: ``score`` and ``score_detailed``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn

from zeronas.errors import ZeronasUserError
from zeronas.proxies import PerSampleGradientProxy, Proxy, UndefinedScore, get_proxy
from zeronas.proxies._per_sample import GradientConsumer, per_sample_gradients

HEADLINE_PROXIES = ("gradsign", "gradalign", "gradalign_gram", "epsinas")


@dataclass(frozen=True)
class ProxyScore:
    """One proxy's score with its status: ``ok``, ``nan`` (undefined or non-finite) or ``error``."""

    value: float
    status: str
    reason: str = ""
    seconds: float = 0.0


def resolve_proxies(proxies: Iterable[str | Proxy], options: Mapping[str, Mapping[str, Any]]) -> list[Proxy]:
    """Proxy instances from names (configured by ``options[name]``) or ready instances."""
    if isinstance(proxies, (str, Proxy)):
        proxies = [proxies]
    resolved = [p if isinstance(p, Proxy) else get_proxy(p, **dict(options.get(p, {}))) for p in proxies]
    if not resolved:
        raise ZeronasUserError("no proxies given; pass proxies=('gradsign', ...) (see zeronas.list_proxies())")
    unused = set(options) - {p.name for p in resolved}
    if unused:
        raise ZeronasUserError(f"options given for proxies not scored: {', '.join(sorted(unused))}")
    return resolved


@contextmanager
def _evaluation_mode(model: nn.Module) -> Iterator[None]:
    """Run the caller's model in eval mode (no running-statistics update), then restore its modes."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _check_inputs(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None, need_labels: list[str]) -> None:
    if not isinstance(model, nn.Module):
        raise ZeronasUserError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.ndim < 2 or len(inputs) < 2:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ZeronasUserError(f"inputs must be a float tensor (N, ...) with N >= 2 samples, got {shape}")
    if need_labels and targets is None:
        raise ZeronasUserError(f"proxies {', '.join(need_labels)} need labels: pass targets=<class indices, shape (N,)>")
    if targets is not None and (targets.shape != (len(inputs),) or targets.is_floating_point()):
        raise ZeronasUserError(
            f"targets must be integer class indices of shape ({len(inputs)},), got {tuple(targets.shape)} {targets.dtype}"
        )
    try:
        with _evaluation_mode(model), torch.inference_mode():
            out = model(inputs[:2])
    except (RuntimeError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZeronasUserError(
            f"the model cannot run on inputs of shape {tuple(inputs.shape)} ({first}); pass inputs shaped as the model expects"
        ) from None
    if need_labels and targets is not None:
        if out.ndim != 2:
            raise ZeronasUserError(f"proxies {', '.join(need_labels)} need (N, classes) logits, the model returns {tuple(out.shape)}")
        if int(targets.min()) < 0 or int(targets.max()) >= out.shape[1]:
            raise ZeronasUserError(f"targets must lie in [0, {out.shape[1]}) for a model with {out.shape[1]} outputs")


def _guarded(compute: Callable[[], float], shared_seconds: float = 0.0) -> ProxyScore:
    """Run one proxy's computation; numerical failures become a status, never an exception."""
    start = time.perf_counter()
    try:
        value = float(compute())
        status, reason = ("ok", "") if math.isfinite(value) else ("nan", f"non-finite score {value}")
    except UndefinedScore as exc:
        value, status, reason = math.nan, "nan", str(exc)
    except ZeronasUserError:
        raise
    except (RuntimeError, ArithmeticError, ValueError) as exc:
        value, status, reason = math.nan, "error", f"{type(exc).__name__}: {exc}"
    seconds = shared_seconds + time.perf_counter() - start
    return ProxyScore(value if status == "ok" else math.nan, status, reason, seconds)


def _consumer_result(consumer: GradientConsumer, failure: Exception | None) -> float:
    """A consumer's score, or the failure of the shared gradient pass it depended on."""
    if failure is not None:
        raise failure
    return consumer.result()


def score_detailed(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    proxies: Iterable[str | Proxy] = HEADLINE_PROXIES,
    *,
    seed: int = 0,
    **options: Mapping[str, Any],
) -> dict[str, ProxyScore]:
    """Like :func:`score`, with each score's status, reason and time (seconds).

    Proxies sharing one per-sample gradient pass each report an equal share of its time.
    """
    resolved = resolve_proxies(proxies, options)
    _check_inputs(model, inputs, targets, [p.name for p in resolved if p.needs_labels])
    results: dict[str, ProxyScore] = {}
    # Per-sample gradient proxies with the same chunking share one pass of the engine.
    groups: dict[int, list[PerSampleGradientProxy]] = {}
    for proxy in resolved:
        if isinstance(proxy, PerSampleGradientProxy):
            groups.setdefault(proxy.chunk_size, []).append(proxy)
    with torch.random.fork_rng(devices=[]):
        for chunk_size, members in groups.items():
            torch.manual_seed(seed)
            consumers = [p.consumer() for p in members]
            start = time.perf_counter()
            failure: Exception | None = None
            try:
                per_sample_gradients(model, inputs, targets, consumers, chunk_size=chunk_size)  # type: ignore[arg-type]
            except (RuntimeError, ArithmeticError) as exc:
                failure = exc
            share = (time.perf_counter() - start) / len(members)
            for proxy, consumer in zip(members, consumers, strict=True):
                results[proxy.name] = _guarded(partial(_consumer_result, consumer, failure), share)
        for proxy in resolved:
            if proxy.name not in results:
                torch.manual_seed(seed)
                results[proxy.name] = _guarded(lambda p=proxy: p.compute(model, inputs, targets))
    return {p.name: results[p.name] for p in resolved}


def score(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    proxies: Iterable[str | Proxy] = HEADLINE_PROXIES,
    *,
    seed: int = 0,
    **options: Mapping[str, Any],
) -> dict[str, float]:
    """Score ``model`` on one batch with each proxy; NaN where a score is undefined.

    ``proxies`` are registered names or :class:`Proxy` instances; a proxy's options are passed
    as a keyword named after it, e.g. ``gradsign={"reduction": "mean"}``. The model's weights
    are used as given (a proxy that needs its own initialisation works on a copy) and the
    model is never modified. Orientation: see ``zeronas.get_proxy(name).higher_is_better``.
    """
    detailed = score_detailed(model, inputs, targets, proxies, seed=seed, **options)
    return {name: result.value for name, result in detailed.items()}
