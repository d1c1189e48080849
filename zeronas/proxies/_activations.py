"""Binary ReLU activation codes, the raw material of NASWOT, linear regions and SWAP."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def _forward_with_hook(model: nn.Module, inputs: torch.Tensor, select: Callable[[nn.Module], bool],
                       hook: Callable[..., None]) -> None:
    """One forward pass without gradients with ``hook`` on every module ``select`` accepts, then unhooked."""
    hooks = [m.register_forward_hook(hook) for m in model.modules() if select(m)]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in hooks:
            h.remove()


def relu_codes(model: nn.Module, inputs: torch.Tensor, *, spatial_only: bool = False) -> torch.Tensor:
    """``(N, units)`` boolean matrix: which ReLU inputs are positive, over every ``nn.ReLU`` of ``model``.

    One forward pass without gradients in the model's current mode. ``spatial_only`` keeps only
    ReLUs applied to 4-D (N, C, H, W) tensors, as the TE-NAS and SWAP counters do; a model with
    no such ReLU (an MLP) is then counted over all its ReLUs.
    """
    spatial: list[torch.Tensor] = []
    every: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
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
) -> int:
    """Pass ``visit`` the ``(N, units)`` boolean code of which INPUT entries are positive, for every
    call of every module of ``model`` (itself included) that ``select`` accepts; return the call count.

    One forward pass without gradients in the model's current mode. The input is read by a
    forward hook, i.e. after the module ran, as BayesWatch's NASWOT hook reads it (an in-place
    ReLU has by then replaced x by relu(x), which is positive exactly where x is). Each code is
    handed over at once, so a caller can reduce it without holding every code in memory. A call
    whose first positional input is not a tensor of ``len(inputs)`` samples is skipped (the
    official hook fails on it and ignores the failure).
    """
    calls = 0

    def hook(_module: nn.Module, args: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        nonlocal calls
        x = args[0] if args else None
        if not isinstance(x, torch.Tensor) or x.ndim == 0 or len(x) != len(inputs):
            return
        calls += 1
        visit((x > 0).reshape(len(x), -1))

    _forward_with_hook(model, inputs, select, hook)
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
