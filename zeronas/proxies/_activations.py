"""Binary ReLU activation codes, the raw material of NASWOT, linear regions and SWAP.

Activations are seen wherever they are applied: as modules (forward hooks) and as functions
(``torch.relu``, ``F.relu``, ``Tensor.relu`` and their in-place forms, caught by a
``TorchFunctionMode``). A function call made by an activation module (``nn.ReLU.forward`` calls
``F.relu``) is the module's own and is not counted again, so a network written with
``nn.ReLU`` modules and its twin written with functional ReLUs give the same codes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from zeronas.errors import UndefinedScore

# Functional forms of nn.ReLU.
RELU_FUNCTIONS = frozenset({torch.relu, torch.relu_, F.relu, F.relu_, torch.Tensor.relu, torch.Tensor.relu_})
# Functional forms of every module whose class name contains "ReLU" (nn.ReLU6, LeakyReLU, PReLU, RReLU).
RELU_FAMILY_FUNCTIONS = RELU_FUNCTIONS | frozenset(
    {F.relu6, F.leaky_relu, F.leaky_relu_, F.prelu, torch.prelu, F.rrelu, F.rrelu_, torch.rrelu, torch.rrelu_}
)
# The modules that apply those functions themselves: their own calls are theirs, not functional ones.
ACTIVATION_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU)

Hook = Callable[[nn.Module | None, tuple[torch.Tensor, ...], torch.Tensor], None]


class _FunctionalActivations(TorchFunctionMode):
    """Calls ``hook(None, (input,), output)`` for each call of ``functions`` not made by an activation module."""

    def __init__(self, functions: Collection[Callable[..., object]], hook: Hook, inside: list[int]) -> None:
        super().__init__()
        self.functions, self.hook, self.inside = functions, hook, inside

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        if not self.inside[0] and func in self.functions and args and isinstance(args[0], torch.Tensor):
            self.hook(None, (args[0],), out)
        return out


@contextmanager
def functional_activations(
    model: nn.Module, hook: Hook, functions: Collection[Callable[..., object]] = RELU_FUNCTIONS
) -> Iterator[None]:
    """Within: ``hook(None, (input,), output)`` for every call of ``functions`` in ``model``'s forward
    that is not an activation module's own (``nn.ReLU.forward`` calls ``F.relu``), i.e. exactly
    the calls where the ``nn.ReLU`` twin of the network would have a module."""
    inside = [0]

    def enter(_module: nn.Module, _args: object) -> None:
        inside[0] += 1

    def leave(_module: nn.Module, _args: object, _output: object) -> None:
        inside[0] -= 1

    modules = [m for m in model.modules() if isinstance(m, ACTIVATION_MODULES)]
    hooks = [m.register_forward_pre_hook(enter) for m in modules] + [m.register_forward_hook(leave) for m in modules]
    try:
        with _FunctionalActivations(functions, hook, inside):
            yield
    finally:
        for h in hooks:
            h.remove()


def _forward_with_hook(model: nn.Module, inputs: torch.Tensor, select: Callable[[nn.Module], bool],
                       hook: Hook, functions: Collection[Callable[..., object]] = RELU_FUNCTIONS) -> None:
    """One forward pass without gradients; ``hook(module, args, output)`` sees every call of a module
    ``select`` accepts and (with ``module=None``) every functional activation (see
    :func:`functional_activations`).

    Raises :class:`UndefinedScore` if an activation it sees holds NaN or inf: codes of
    non-finite values would be silently meaningless.
    """

    def checked(module: nn.Module | None, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        x = args[0] if args else None
        # A finite sum proves every entry finite (NaN and inf propagate); only a sum that is not
        # (an overflow, say) needs the element-wise test, which costs several times more.
        if (isinstance(x, torch.Tensor) and x.is_floating_point() and not bool(torch.isfinite(x.sum()))
                and not bool(torch.isfinite(x).all())):
            raise UndefinedScore("non-finite activations (NaN or inf) in the forward pass")
        hook(module, args, output)

    hooks = [m.register_forward_hook(checked) for m in model.modules() if select(m)]
    try:
        with torch.no_grad(), functional_activations(model, checked, functions):
            model(inputs)
    finally:
        for h in hooks:
            h.remove()


def relu_codes(model: nn.Module, inputs: torch.Tensor, *, spatial_only: bool = False) -> torch.Tensor:
    """``(N, units)`` boolean matrix: which ReLU inputs are positive, over every ReLU of ``model``
    (``nn.ReLU`` modules and functional ReLUs).

    One forward pass without gradients in the model's current mode. ``spatial_only`` keeps only
    ReLUs applied to 4-D (N, C, H, W) tensors, as the TE-NAS and SWAP counters do; a model with
    no such ReLU (an MLP) is then counted over all its ReLUs.
    """
    spatial: list[torch.Tensor] = []
    every: list[torch.Tensor] = []

    def hook(_module: nn.Module | None, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        # The output is positive exactly where the input is, and survives in-place ReLUs.
        code = (output > 0).reshape(len(output), -1)
        every.append(code)
        if args[0].ndim == 4:
            spatial.append(code)

    _forward_with_hook(model, inputs, lambda m: isinstance(m, nn.ReLU), hook)
    chosen = spatial if spatial_only and spatial else every
    if not chosen:
        return torch.zeros((len(inputs), 0), dtype=torch.bool)
    return torch.cat(chosen, dim=1)


def visit_input_codes(
    model: nn.Module,
    inputs: torch.Tensor,
    select: Callable[[nn.Module], bool],
    visit: Callable[[torch.Tensor], None],
    functions: Collection[Callable[..., object]] = RELU_FUNCTIONS,
) -> int:
    """Pass ``visit`` the ``(N, units)`` boolean code of which INPUT entries are positive, for every
    call of every module of ``model`` (itself included) that ``select`` accepts, and of every call of
    ``functions`` made outside those modules; return the call count.

    One forward pass without gradients in the model's current mode. The input is read by a
    forward hook, i.e. after the module ran, as BayesWatch's NASWOT hook reads it (an in-place
    ReLU has by then replaced x by relu(x), which is positive exactly where x is). Each code is
    handed over at once, so a caller can reduce it without holding every code in memory. A call
    whose first positional input is not a tensor of ``len(inputs)`` samples is skipped (the
    official hook fails on it and ignores the failure).
    """
    calls = 0

    def hook(_module: nn.Module | None, args: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        nonlocal calls
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor) or x.ndim == 0 or len(x) != len(inputs):
            return
        calls += 1
        visit((x > 0).reshape(len(x), -1))

    _forward_with_hook(model, inputs, select, hook, functions)
    return calls


def count_unique_rows(codes: torch.Tensor) -> int:
    """Number of distinct rows of a boolean matrix."""
    rows, columns = codes.shape
    if rows == 0:
        return 0
    if columns == 0:
        return 1
    if columns <= 62:
        # Each row as one integer: counting integers is far faster than comparing rows.
        if columns <= 20:
            # float32 holds these sums of powers of two exactly.
            keys = (codes.float() @ (2.0 ** torch.arange(columns, dtype=torch.float32))).long()
            return int((torch.bincount(keys, minlength=1 << columns) > 0).sum())
        keys = (codes.long() << torch.arange(columns)).sum(1)
        return int(torch.unique(keys).numel())
    packed = np.packbits(codes.numpy(), axis=1)
    as_bytes = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1])))
    return len(np.unique(as_bytes))
