"""Slow reference computations shared by several proxy tests."""

from __future__ import annotations

import copy
import types

import torch
import torch.nn.functional as F
from torch import nn


def snip_by_mask_gradient(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """zero-cost-nas's SNIP: multiply every Conv/Linear weight by a mask of ones, sum |dL/dmask| (float64)."""
    net = copy.deepcopy(model).train()
    masks = []
    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            layer.mask = torch.ones_like(layer.weight, requires_grad=True)
            masks.append(layer.mask)
            if isinstance(layer, nn.Conv2d):
                layer.forward = types.MethodType(lambda s, v: s._conv_forward(v, s.weight * s.mask, s.bias), layer)
            else:
                layer.forward = types.MethodType(lambda s, v: F.linear(v, s.weight * s.mask, s.bias), layer)
    grads = torch.autograd.grad(F.cross_entropy(net(inputs), targets), masks, allow_unused=True)
    return sum(float(g.abs().double().sum()) for g in grads if g is not None)
