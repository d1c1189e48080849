"""FLOPs of one forward pass of one sample, in millions, counted from the model's operations.

Forward hooks count every layer as NAS-Bench-Suite-Zero does (NASLib's ``flops`` measure, via
tensorwatch's counter), so that for NAS-Bench-201 the result equals the table's
``flops_M_<dataset>`` columns exactly:

- Conv2d: kernel_h * kernel_w * in_channels/groups * out_channels per output position
  (+ out_channels per position with a bias);
- Linear: in_features * out_features (bias not counted);
- BatchNorm2d: 2 per input element if affine, else 1; ReLU: 1 per input element;
- AvgPool2d/MaxPool2d: kernel area per output element;
- AdaptiveAvg/MaxPool2d: for each output cell, (window_h + 1) * (window_w + 1) per channel
  (the counter's convention, one more than the window in each direction).

ReLUs applied as functions count as the module would. Other operations (additions,
identities, zero ops) count 0. Data-free: one sample of the
batch's shape is forwarded (values unused). Higher is better on NAS-Bench-201.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from zeronas.proxies._activations import RELU_FAMILY_FUNCTIONS, functional_activations
from zeronas.proxies._base import DataRecipe, Proxy
from zeronas.proxies._registry import register_proxy


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _adaptive_pool_flops(inp: torch.Tensor, out: torch.Tensor) -> int:
    (h_in, w_in), (h_out, w_out) = inp.shape[-2:], out.shape[-2:]

    def windows(size_in: int, size_out: int) -> list[int]:
        return [
            math.ceil((i + 1) * size_in / size_out) - math.floor(i * size_in / size_out) + 1 for i in range(size_out)
        ]

    return inp.shape[0] * inp.shape[1] * sum(windows(h_in, h_out)) * sum(windows(w_in, w_out))


def layer_flops(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """FLOPs of one call of ``module`` (0 for operations the convention does not count)."""
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        positions = out.shape[0] * out.shape[2] * out.shape[3]
        per_position = k_h * k_w * (module.in_channels // module.groups) * module.out_channels
        return positions * per_position + (module.out_channels * positions if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        return inp.shape[0] * module.in_features * module.out_features
    if isinstance(module, nn.BatchNorm2d):
        return inp.numel() * (2 if module.affine else 1)
    if isinstance(module, (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)):
        return inp.numel()
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k_h, k_w = _pair(module.kernel_size)
        return out.numel() * k_h * k_w
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _adaptive_pool_flops(inp, out)
    return 0


def count_flops(model: nn.Module, sample_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of a single input of shape ``sample_shape`` (without batch)."""
    work = copy.deepcopy(model).eval()
    total = 0

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if args and isinstance(args[0], torch.Tensor) and isinstance(output, torch.Tensor):
            total += layer_flops(module, args[0], output)

    def functional(_module: nn.Module | None, args: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        nonlocal total
        total += args[0].numel()  # as the ReLU module in its place: 1 per input element

    hooks = [m.register_forward_hook(hook) for m in work.modules() if not list(m.children())]
    try:
        with torch.no_grad(), functional_activations(work, functional, RELU_FAMILY_FUNCTIONS):
            work(torch.zeros((1, *sample_shape)))
    finally:
        for h in hooks:
            h.remove()
    return total


@register_proxy
class Flops(Proxy):
    """FLOPs (millions) of one forward pass of one sample; higher is better on NAS-Bench-201."""

    name = "flops"
    data = DataRecipe(batch_size=2)
    needs_data = False
    needs_parameters = False

    def compute(self, model, inputs, targets):
        return count_flops(model, tuple(inputs.shape[1:])) / 1e6
