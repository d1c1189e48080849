"""Zen-score (Lin et al., ICCV 2021) as ZenNAS / NASLib ``measures/zen.py`` compute it.

A training-mode copy is re-initialised with N(0, 1) Conv/Linear weights (biases 0, BatchNorm
scale 1 and shift 0); x and e are N(0, 1) batches shaped like the data batch (64 images; the
images themselves are not used); f is the feature map before global average pooling;
score = log mean_n ||f(x) - f(x + 0.01 e)||_1 + sum over BatchNorm layers of
log sqrt(mean running_var). The running variances are those left by the two forward passes
(momentum update from 1), exactly as in the official code. Label-free. Higher is better.

The pre-pooling feature map is the input of the model's last ``nn.AdaptiveAvgPool2d``; a model
without one is measured on its output.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import gaussian_init, train_copy
from zeronas.proxies._registry import register_proxy


def _features_before_pooling(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        return model(x)
    captured: list[torch.Tensor] = []
    hook = pools[-1].register_forward_hook(lambda _m, args, _out: captured.append(args[0]))
    try:
        model(x)
    finally:
        hook.remove()
    return captured[-1]


@register_proxy
class Zen(Proxy):
    """log E||f(x) - f(x + 0.01 e)||_1 + sum log sqrt(mean BN running variance); higher is better."""

    name = "zen"
    data = DataRecipe(batch_size=64, normalization="zero_cost_nas", augment=True)
    needs_data = False

    def __init__(self, *, mixup_gamma: float = 1e-2) -> None:
        self.mixup_gamma = float(mixup_gamma)

    def compute(self, model, inputs, targets):
        work = gaussian_init(train_copy(model))
        with torch.no_grad():
            x = torch.randn(inputs.shape)
            noise = torch.randn(inputs.shape)
            diff = _features_before_pooling(work, x) - _features_before_pooling(work, x + self.mixup_gamma * noise)
            dispersion = float(diff.abs().reshape(len(diff), -1).sum(1).mean())
            log_bn_scale = sum(
                0.5 * math.log(float(m.running_var.mean()))
                for m in work.modules()
                if isinstance(m, _BatchNorm) and m.running_var is not None
            )
        if not dispersion > 0:
            raise UndefinedScore("the output does not change with the input perturbation; log of 0")
        return math.log(dispersion) + log_bn_scale
