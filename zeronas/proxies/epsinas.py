"""epsinas (Gracheva, arXiv:2302.04406): output dispersion between two constant initialisations.

As the official ``compute_epsinas`` computes it: for each of two constant values w (1e-7 and 1
for NAS-Bench-201), every weight (Conv, Linear, BatchNorm scale) is set to w and every bias to 0;
BatchNorm always normalises with batch statistics; one forward pass of an unaugmented batch
(256 images, no labels, no gradients) gives one output per image (the first logit: with
constant weights every logit is equal). Each output vector is min-max normalised, exact zeros
become NaN, and epsilon = nanmean|o1 - o2| / nanmean(o1, o2). Higher is better.

A network whose output is constant over the batch has no defined score (the min-max step divides
by zero): :class:`UndefinedScore` is raised and the runner records NaN with the reason.

Speed: with constant shared weights every channel of every layer carries the same values, so
the network is evaluated at width one (each Conv/Linear weight becomes w * fan-in channels, the
input is averaged over its channels). The collapse is checked against the full-width network on
a few samples; if the model does not allow it (channel-mixing reshapes, input normalisation,
...) the full-width network is used. A network whose channels fall into groups of different
widths (NAS-Bench-101's concatenated cell outputs) may supply its own twin, one channel per
group (:class:`~zeronas.spaces.capabilities.ConstantWeightTwin`).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import batch_statistics_copy
from zeronas.proxies._registry import register_proxy
from zeronas.spaces.capabilities import ConstantWeightCollapsible, ConstantWeightTwin

_CHECK_SAMPLES = 4


def set_constant_weights(model: nn.Module, value: float) -> nn.Module:
    """Set every ``weight`` parameter to ``value`` and every ``bias`` to 0, in place."""
    with torch.no_grad():
        for module in model.modules():
            weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
            if isinstance(bias, torch.Tensor):
                bias.zero_()
            if isinstance(weight, torch.Tensor):
                weight.fill_(value)
    return model


class _ConstantKernelConv2d(nn.Module):
    """A one-channel convolution whose kernel is one constant: a scaled box sum.

    Summing shifted slices is about three times faster on a CPU than a 1-channel convolution.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding
        self.weight = nn.Parameter(torch.ones(()), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        if ph or pw:
            x = F.pad(x, (pw, pw, ph, ph))
        height, width = x.shape[-2] - kh + 1, x.shape[-1] - kw + 1
        rows = x[..., :, :width]
        for j in range(1, kw):
            rows = rows + x[..., :, j : j + width]
        out = rows[..., :height, :]
        for i in range(1, kh):
            out = out + rows[..., i : i + height, :]
        return out[..., ::sh, ::sw] * self.weight


def _width_one(layer: nn.Module) -> nn.Module:
    """The single-channel twin of one layer; ``_fan_in`` scales its constant weight."""
    if isinstance(layer, nn.Conv2d):
        box_sum = layer.dilation == (1, 1) and layer.padding_mode == "zeros" and not isinstance(layer.padding, str)
        if box_sum:
            twin: nn.Module = _ConstantKernelConv2d(layer)
        else:
            twin = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                             bias=False, padding_mode=layer.padding_mode)
        twin._fan_in = layer.in_channels // layer.groups  # type: ignore[assignment]
    elif isinstance(layer, nn.Linear):
        twin = nn.Linear(1, 1, bias=False)
        twin._fan_in = layer.in_features  # type: ignore[assignment]
    elif isinstance(layer, _BatchNorm):
        twin = type(layer)(1, eps=layer.eps, momentum=layer.momentum, affine=layer.affine, track_running_stats=False)
        twin._fan_in = 1  # type: ignore[assignment]
    else:
        raise TypeError(type(layer).__name__)
    return twin


def collapse_to_width_one(model: nn.Module) -> nn.Module:
    """A width-one twin of ``model`` for constant shared weights (set them with ``fill_collapsed``).

    Biases are dropped: with constant shared weights they are all 0.

    Valid only for networks that mix channels through Conv2d/Linear sums alone; callers check.
    """
    replace = (nn.Conv2d, nn.Linear, _BatchNorm)
    if isinstance(model, replace):
        return _width_one(model).eval()
    # Share (do not copy) the tensors: the replaced layers drop theirs and nothing else is written.
    memo = {id(t): t for t in (*model.parameters(), *model.buffers())}
    work = copy.deepcopy(model, memo)
    for parent in list(work.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, replace):
                setattr(parent, child_name, _width_one(child))
    return work.eval()


def fill_collapsed(twin: nn.Module, value: float) -> nn.Module:
    """Set a width-one twin to the constant weight ``value`` of the full-width network."""
    with torch.no_grad():
        for module in twin.modules():
            fan_in = getattr(module, "_fan_in", None)
            if fan_in is not None:
                set_constant_weights(module, value * fan_in)
    return twin


def _first_output(out: torch.Tensor, n: int) -> torch.Tensor:
    return out.reshape(n, -1)[:, 0].double()


def _full_width_outputs(model: nn.Module, inputs: torch.Tensor, value: float) -> torch.Tensor:
    net = set_constant_weights(batch_statistics_copy(model), value).eval()
    with torch.inference_mode():
        return _first_output(net(inputs), len(inputs))


def _collapsed_outputs(twin: nn.Module, inputs: torch.Tensor, value: float) -> torch.Tensor:
    with torch.inference_mode():
        return _first_output(fill_collapsed(twin, value)(inputs.mean(dim=1, keepdim=True)), len(inputs))


def _collapse(model: nn.Module, inputs: torch.Tensor, check_value: float) -> nn.Module | None:
    """The width-one twin if it reproduces the full-width network on a few samples, else None.

    A network that builds its own twin (:class:`~zeronas.spaces.capabilities.ConstantWeightTwin`,
    NAS-Bench-101) has it checked too: an edited or subclassed network may no longer match it.
    Networks that declare :class:`~zeronas.spaces.capabilities.ConstantWeightCollapsible`
    (verified by the test suite, e.g. NAS-Bench-201) skip the check.
    """
    try:
        if isinstance(model, ConstantWeightTwin):
            twin = model.constant_weight_twin()
            twin._fan_in = 1  # type: ignore[assignment]  # ``fill_collapsed`` sets its ``weight`` to the constant
        else:
            twin = collapse_to_width_one(model)
            if isinstance(model, ConstantWeightCollapsible) and model.collapses_under_constant_weights():
                return twin
        probe = inputs[:_CHECK_SAMPLES]
        if len(probe) < 2:
            return None
        fast = _collapsed_outputs(twin, probe, check_value)
    except (RuntimeError, TypeError, ValueError):
        return None
    full = _full_width_outputs(model, probe, check_value)
    scale = float(full.abs().max())
    return twin if torch.allclose(fast, full, rtol=1e-3, atol=1e-5 * scale + 1e-38) else None


def epsilon_from_outputs(outputs: torch.Tensor) -> float:
    """epsilon from a (2, B) stack of outputs of the two initialisations; NaN-aware."""
    lo = outputs.min(dim=1, keepdim=True).values
    span = outputs.max(dim=1, keepdim=True).values - lo
    if bool((span == 0).any()) or not bool(torch.isfinite(outputs).all()):
        raise UndefinedScore("the output is constant or non-finite over the batch for a constant weight")
    normed = (outputs - lo) / span
    normed = torch.where(normed == 0, torch.full_like(normed, math.nan), normed)
    mae = torch.nanmean((normed[0] - normed[1]).abs())
    return float(mae / torch.nanmean(normed))


@register_proxy
class Epsinas(Proxy):
    """epsinas; higher is better. No labels, no gradients; batch 256 unaugmented images."""

    name = "epsinas"
    data = DataRecipe(batch_size=256, normalization="nb201", augment=False)

    def __init__(self, *, weights: tuple[float, float] = (1e-7, 1.0), collapse: str = "auto") -> None:
        weights = tuple(float(w) for w in weights)  # type: ignore[assignment]
        if len(weights) != 2 or weights[0] == weights[1]:
            raise ZeronasUserError(f"epsinas needs two different constant weights, got {weights}")
        if collapse not in ("auto", "never"):
            raise ZeronasUserError(f"collapse must be 'auto' or 'never', got {collapse!r}")
        self.weights = weights
        self.collapse = collapse

    def compute(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        # The check uses the larger weight: tiny weights can underflow to agreeing zeros.
        twin = _collapse(model, inputs, max(self.weights)) if self.collapse == "auto" else None
        if twin is None:
            outputs = [_full_width_outputs(model, inputs, w) for w in self.weights]
        else:
            outputs = [_collapsed_outputs(twin, inputs, w) for w in self.weights]
        return epsilon_from_outputs(torch.stack(outputs))
