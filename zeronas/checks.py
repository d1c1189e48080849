"""``check_proxy``: the contract every registered proxy passes, runnable on anyone's proxy.

As scikit-learn's ``check_estimator``: a proxy written in one file is checked on the networks
that break proxies in practice before it is trusted with a benchmark run::

    import zeronas
    zeronas.check_proxy(MyProxy())          # raises ProxyCheckError listing what failed

Every check scores small networks on random CIFAR-shaped inputs (no data files needed):

* ``nb201``: three NAS-Bench-201 cells (a typical one, one without an input-output path, one of
  skip connections only): a finite score, or NaN with a reason;
* ``batchnorm1d``: an MLP with ``BatchNorm1d``;
* ``functional_relu``: a CNN written with ``torch.relu``/``F.relu``: the same score as its twin
  written with ``nn.ReLU`` modules;
* ``tuple_output``: a model returning ``(logits, features)``: the same score as the logits alone;
* ``no_parameters``: a parameter-free model: a score or NaN with a reason, never an error;
* ``same_seed``: the same network and seed, scored twice, give the same score;
* ``model_unchanged``: no check's model is modified (weights, buffers, modes, gradients);
* ``non_finite_input`` (proxies with ``needs_data``): the proxy's own ``compute`` on a batch
  holding NaN gives no finite score. (``zeronas.score`` refuses such a batch before any proxy
  runs; this checks the proxy itself, for values that turn non-finite inside a network.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from zeronas.proxies import Proxy, get_proxy
from zeronas.scoring import ProxyScore, _guarded, score_detailed

NB201_CELLS = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
)
CLASSES, SAMPLES, SIZE = 10, 8, 16


class ProxyCheckError(AssertionError):
    """A proxy failed one or more checks; the message lists each with what went wrong."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``detail`` says what was seen."""

    name: str
    passed: bool
    detail: str


class _CNN(nn.Module):
    """conv-BN-ReLU twice, global pooling, linear head; ReLUs as modules or as functions."""

    def __init__(self, functional: bool) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.head = nn.Linear(8, CLASSES)
        self.functional = functional

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.functional:
            x = torch.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)) + x)
        else:
            x = self.relu1(self.bn1(self.conv1(x)))
            x = self.relu2(self.bn2(self.conv2(x)) + x)
        return self.head(x.mean((2, 3)))


class _TupleOutput(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.body(x)
        return logits, x.flatten(1)


class _NoParameters(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x.flatten(1)[:, :CLASSES])


def _mlp_batchnorm1d() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * SIZE * SIZE, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, CLASSES))


def _nb201(cell: str) -> nn.Module:
    from zeronas.spaces import nb201

    return nb201.build(cell, num_classes=CLASSES)


def _built(factory: Callable[[], nn.Module], seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return factory()


def _snapshot(model: nn.Module) -> tuple[dict[str, torch.Tensor], list[bool], list[bool], list[bool]]:
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return (state, [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()],
            [p.grad is None for p in model.parameters()])


def _changes(model: nn.Module, before: tuple) -> str:  # type: ignore[type-arg]
    state, modes, requires, no_grad = before
    now = _snapshot(model)
    changed = [k for k, v in state.items() if not torch.equal(v, now[0][k])]
    if changed:
        return f"modified {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}"
    if modes != now[1]:
        return "changed train/eval modes"
    if requires != now[2]:
        return "changed requires_grad"
    if no_grad != now[3]:
        return "left gradients on the parameters"
    return ""


def _outcome(result: ProxyScore) -> str:
    if result.status == "ok":
        return f"ok {result.value:.6g}"
    return f"{result.status} ({result.reason or 'no reason'})"


def _acceptable(result: ProxyScore) -> bool:
    """A finite ``ok`` score or a NaN with a reason; an ``error`` is a failure of the proxy."""
    if result.status == "ok":
        return math.isfinite(result.value)
    return result.status == "nan" and bool(result.reason)


def _same(a: ProxyScore, b: ProxyScore) -> bool:
    if a.status != b.status:
        return False
    if a.status != "ok":
        return True
    return a.value == b.value or math.isclose(a.value, b.value, rel_tol=1e-6, abs_tol=1e-12)


def _as_instance(proxy: str | Proxy | type[Proxy]) -> Proxy:
    if isinstance(proxy, Proxy):
        return proxy
    if isinstance(proxy, str):
        return get_proxy(proxy)
    return proxy()


def run_checks(proxy: str | Proxy | type[Proxy], *, seed: int = 0) -> list[CheckResult]:
    """Every check on ``proxy`` (a name, instance or class), without raising; see the module docstring."""
    proxy = _as_instance(proxy)
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(SAMPLES, 3, SIZE, SIZE, generator=generator)
    targets = torch.randint(0, CLASSES, (SAMPLES,), generator=generator)
    results: list[CheckResult] = []
    unchanged: list[str] = []

    def scored(model: nn.Module) -> ProxyScore:
        before = _snapshot(model)
        result = score_detailed(model, inputs, targets, [proxy], seed=seed)[proxy.key]
        change = _changes(model, before)
        if change:
            unchanged.append(f"{type(model).__name__}: {change}")
        return result

    def add(name: str, passed: bool, detail: str) -> None:
        results.append(CheckResult(name, passed, detail))

    cells = [scored(_built(partial(_nb201, cell), seed)) for cell in NB201_CELLS]
    add("nb201", all(map(_acceptable, cells)), "; ".join(map(_outcome, cells)))
    mlp = scored(_built(_mlp_batchnorm1d, seed))
    add("batchnorm1d", _acceptable(mlp), _outcome(mlp))
    modules, functions = (scored(_built(partial(_CNN, functional), seed)) for functional in (False, True))
    add("functional_relu", _acceptable(functions) and _same(modules, functions),
        f"nn.ReLU: {_outcome(modules)}; functional: {_outcome(functions)}")
    plain = modules
    wrapped = scored(_TupleOutput(_built(partial(_CNN, False), seed)))
    add("tuple_output", _acceptable(wrapped) and _same(plain, wrapped),
        f"logits: {_outcome(plain)}; (logits, features): {_outcome(wrapped)}")
    free = scored(_NoParameters())
    add("no_parameters", _acceptable(free), _outcome(free))
    again = scored(_built(partial(_nb201, NB201_CELLS[0]), seed))
    add("same_seed", _same(cells[0], again), f"first: {_outcome(cells[0])}; again: {_outcome(again)}")
    add("model_unchanged", not unchanged, "; ".join(unchanged) or "every model as it was")
    if proxy.needs_data:
        model = _built(partial(_CNN, False), seed)
        poisoned = inputs.clone()
        poisoned[0, 0, 0, 0] = float("nan")
        result = _guarded(partial(proxy.compute, model, poisoned, targets))
        add("non_finite_input", not math.isfinite(result.value), _outcome(result))
    return results


def check_proxy(proxy: str | Proxy | type[Proxy], *, seed: int = 0) -> list[CheckResult]:
    """Run every check on ``proxy``; raise :class:`ProxyCheckError` naming each failed one.

    Returns the results when all pass. See :mod:`zeronas.checks` for what is checked.
    """
    instance = _as_instance(proxy)
    results = run_checks(instance, seed=seed)
    failed = [r for r in results if not r.passed]
    if failed:
        lines = "; ".join(f"{r.name}: {r.detail}" for r in failed)
        raise ProxyCheckError(f"check_proxy({instance.key}) failed {len(failed)} of {len(results)} checks: {lines}")
    return results
