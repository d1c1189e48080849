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

from zeronas.errors import ZeronasUserError, one_line
from zeronas.proxies import Proxy, UndefinedScore, get_proxy
from zeronas.proxies._adapter import OutputFn, adapt_output, collecting_notes, has_parameters
from zeronas.proxies._intermediates import Intermediate

HEADLINE_PROXIES = ("gradsign", "gradalign", "gradalign_gram", "epsinas")


@dataclass(frozen=True)
class ProxyScore:
    """One proxy's score with its status: ``ok``, ``nan`` (undefined or non-finite) or ``error``."""

    value: float
    status: str
    reason: str = ""
    seconds: float = 0.0


def _requested(proxies: Iterable[str | Proxy], options: Mapping[str, Mapping[str, Any]]) -> dict[str, Proxy]:
    """Label -> proxy: a name is reported under itself (configured by ``options[name]``), an instance under its key."""
    if isinstance(proxies, (str, Proxy)):
        proxies = [proxies]
    labelled: dict[str, Proxy] = {}
    for entry in proxies:
        proxy = entry if isinstance(entry, Proxy) else get_proxy(entry, **dict(options.get(entry, {})))
        label = proxy.key if isinstance(entry, Proxy) else entry
        if labelled.setdefault(label, proxy).key != proxy.key:
            raise ZeronasUserError(
                f"two configurations of {proxy.name} would both be reported as {label!r}; pass Proxy instances, "
                "which are reported under their keys"
            )
    if not labelled:
        raise ZeronasUserError("no proxies given; pass proxies=('gradsign', ...) (see zeronas.list_proxies())")
    unused = set(options) - {p.name for p in labelled.values()}
    if unused:
        raise ZeronasUserError(f"options given for proxies not scored: {', '.join(sorted(unused))}")
    return labelled


def _unique(proxies: Iterable[Proxy]) -> list[Proxy]:
    """The first proxy of each ``Proxy.key``, in order: one configuration is scored once."""
    unique: dict[str, Proxy] = {}
    for proxy in proxies:
        unique.setdefault(proxy.key, proxy)
    return list(unique.values())


def resolve_proxies(proxies: Iterable[str | Proxy], options: Mapping[str, Mapping[str, Any]]) -> list[Proxy]:
    """Proxy instances from names (configured by ``options[name]``) or ready instances, one per ``Proxy.key``."""
    return _unique(_requested(proxies, options).values())


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


def _check_inputs(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None, need_labels: list[str],
    output_fn: OutputFn | None = None,
) -> nn.Module:
    """Refuse bad input in one line before any proxy runs; return the model as proxies see it
    (wrapped by an output adapter if it does not return a tensor, see ``proxies._adapter``)."""
    if not isinstance(model, nn.Module):
        raise ZeronasUserError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point() or inputs.ndim < 2 or len(inputs) < 2:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ZeronasUserError(f"inputs must be a float tensor (N, ...) with N >= 2 samples, got {shape}")
    bad = int((~torch.isfinite(inputs)).sum())
    if bad:
        raise ZeronasUserError(
            f"inputs hold {bad} non-finite value(s) (NaN or inf) of {inputs.numel()}; clean or drop those samples"
        )
    if need_labels and targets is None:
        raise ZeronasUserError(f"proxies {', '.join(need_labels)} need labels: pass targets=<class indices, shape (N,)>")
    if targets is not None and (
        not isinstance(targets, torch.Tensor) or targets.shape != (len(inputs),) or targets.is_floating_point()
    ):
        got = f"{tuple(targets.shape)} {targets.dtype}" if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ZeronasUserError(f"targets must be integer class indices of shape ({len(inputs)},), got {got}")
    try:
        with _evaluation_mode(model), torch.inference_mode():
            raw = model(inputs[:2])
    except ZeronasUserError:
        raise
    except Exception as exc:
        raise ZeronasUserError(
            f"the model cannot run on inputs of shape {tuple(inputs.shape)} ({one_line(exc)}); "
            "pass inputs shaped as the model expects"
        ) from None
    adapted = adapt_output(model, raw, output_fn)
    out = raw if adapted is model else adapted.output_fn(raw)  # type: ignore[operator]
    if not isinstance(out, torch.Tensor):
        raise ZeronasUserError(f"output_fn returned a {type(out).__name__}; it must return the logits tensor")
    if need_labels and targets is not None:
        if out.ndim != 2:
            raise ZeronasUserError(f"proxies {', '.join(need_labels)} need (N, classes) logits, the model returns {tuple(out.shape)}")
        if int(targets.min()) < 0 or int(targets.max()) >= out.shape[1]:
            raise ZeronasUserError(f"targets must lie in [0, {out.shape[1]}) for a model with {out.shape[1]} outputs")
    return adapted



def _guarded(compute: Callable[[], float], shared_seconds: float = 0.0, shared_notes: Iterable[str] = ()) -> ProxyScore:
    """Run one proxy's computation; any failure but a user error becomes a status, never an exception.

    An ``ok`` score carries the notes its computation attached (e.g. a BatchNorm rule) as its reason.
    """
    start = time.perf_counter()
    with collecting_notes() as notes:
        try:
            value = float(compute())
            status, reason = ("ok", "") if math.isfinite(value) else ("nan", f"non-finite score {value}")
        except UndefinedScore as exc:
            value, status, reason = math.nan, "nan", str(exc)
        except ZeronasUserError:
            raise
        except Exception as exc:  # one proxy's failure on one network must not stop the run
            value, status, reason = math.nan, "error", one_line(exc)
    if status == "ok":
        reason = "; ".join(dict.fromkeys([*shared_notes, *notes]))
    seconds = shared_seconds + time.perf_counter() - start
    return ProxyScore(value if status == "ok" else math.nan, status, reason, seconds)


def _from_shared(
    proxy: Proxy, value: Any, failure: Exception | None,
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None,
) -> float:
    """A consumer's score, or the failure of the shared computation it depends on."""
    if failure is not None:
        raise failure
    return proxy.compute_from(value, model, inputs, targets)


def _score_shared(
    intermediate: Intermediate, consumers: list[Proxy], model: nn.Module, inputs: torch.Tensor,
    targets: torch.Tensor | None, seed: int,
) -> dict[str, ProxyScore]:
    """Compute ``intermediate`` once (after ``manual_seed(seed)``) and score each consumer from it.

    Each consumer starts from the random state that follows the intermediate, as when scored
    alone, and reports an equal share of the intermediate's time plus its own.
    """
    torch.manual_seed(seed)
    start = time.perf_counter()
    failure: Exception | None = None
    with collecting_notes() as notes:
        try:
            values = intermediate.compute(model, inputs, targets, consumers)
        except ZeronasUserError:
            raise
        except Exception as exc:  # becomes each consumer's status
            values, failure = [None] * len(consumers), exc
    share = (time.perf_counter() - start) / len(consumers)
    state = torch.get_rng_state()
    results = {}
    for proxy, value in zip(consumers, values, strict=True):
        torch.set_rng_state(state)
        results[proxy.key] = _guarded(partial(_from_shared, proxy, value, failure, model, inputs, targets), share, notes)
    return results


def score_detailed(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    proxies: Iterable[str | Proxy] = HEADLINE_PROXIES,
    *,
    seed: int = 0,
    output_fn: OutputFn | None = None,
    **options: Mapping[str, Any],
) -> dict[str, ProxyScore]:
    """Like :func:`score`, with each score's status, reason and time (seconds).

    Each intermediate that several proxies consume (``Proxy.intermediate``: per-sample
    gradients, batch weight gradients, input Jacobian) is computed once, and each of its
    consumers reports an equal share of its time. Every proxy and every intermediate runs after
    ``torch.manual_seed(seed)``, so a score does not depend on the other proxies of the call.
    """
    requested = _requested(proxies, options)
    resolved = _unique(requested.values())
    model = _check_inputs(model, inputs, targets, [p.key for p in resolved if p.needs_labels], output_fn)
    results: dict[str, ProxyScore] = {}
    if not has_parameters(model):
        for proxy in resolved:
            if proxy.needs_parameters:
                results[proxy.key] = ProxyScore(math.nan, "nan", f"the model has no parameters; {proxy.name} needs weights")
        resolved = [p for p in resolved if p.key not in results]
    groups: dict[Intermediate, list[Proxy]] = {}
    for proxy in resolved:
        if proxy.intermediate is not None:
            groups.setdefault(proxy.intermediate.of(proxy), []).append(proxy)
    with torch.random.fork_rng(devices=[]):
        for intermediate, consumers in groups.items():
            results.update(_score_shared(intermediate, consumers, model, inputs, targets, seed))
        for proxy in resolved:
            if proxy.intermediate is None:
                torch.manual_seed(seed)
                results[proxy.key] = _guarded(partial(proxy.compute, model, inputs, targets))
    return {label: results[proxy.key] for label, proxy in requested.items()}


def score(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor | None = None,
    proxies: Iterable[str | Proxy] = HEADLINE_PROXIES,
    *,
    seed: int = 0,
    output_fn: OutputFn | None = None,
    **options: Mapping[str, Any],
) -> dict[str, float]:
    """Score ``model`` on one batch with each proxy; NaN where a score is undefined.

    ``proxies`` are registered names or :class:`Proxy` instances. A name is reported under
    itself, its options passed as a keyword named after it, e.g. ``gradsign={"reduction": "mean"}``;
    an instance is reported under ``Proxy.key`` (the name plus any non-default options, e.g.
    ``linear_regions[crop=8]``), so several configurations of one proxy are scored apart in one
    call. A configuration given twice is scored once. The model's weights
    are used as given (a proxy that needs its own initialisation works on a copy) and the
    model is never modified. Orientation: see ``zeronas.get_proxy(name).higher_is_better``.

    Any ``nn.Module`` works. One that returns a tuple or dict is read by a documented rule (the
    first tensor; ``"logits"``), or by ``output_fn(output) -> logits``; see ``zeronas.proxies._adapter``.
    Inputs must be finite, labels within the model's classes: otherwise a one-line
    ``ZeronasUserError`` is raised before any proxy runs. A score that cannot be computed for
    this model (no parameters, no ReLU, non-finite intermediate values, any failure inside the
    proxy) is NaN; :func:`score_detailed` gives its status and reason.
    """
    detailed = score_detailed(model, inputs, targets, proxies, seed=seed, output_fn=output_fn, **options)
    return {name: result.value for name, result in detailed.items()}
