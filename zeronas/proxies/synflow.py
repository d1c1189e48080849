"""SynFlow (Tanaka et al., NeurIPS 2020) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

As zero-cost-nas ``measures/synflow.py``: a copy of the network in float64 with every parameter
and buffer replaced by its absolute value and BatchNorm removed (``bn=False``); one all-ones
input of the batch's sample shape; R = sum of the outputs; score = sum over Conv/Linear weights
of |W * dR/dW|. Data-free and label-free.

The score is reported as the natural logarithm of that sum, as NAS-Bench-Suite-Zero does
(``log=False`` gives the raw sum; the ranking is the same). The raw sum grows exponentially
with depth; float64 (as the official code) holds NAS-Bench-201 comfortably, and a sum that still
overflows is recorded as NaN with the reason rather than as a number. Higher is better.
"""

from __future__ import annotations

import copy
import math

import torch

from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import weight_layers, without_batchnorm
from zeronas.proxies._registry import register_proxy


@register_proxy
class Synflow(Proxy):
    """log of sum |W * dR/dW| on the all-positive float64 network; higher is better."""

    name = "synflow"
    needs_gradients = True
    data = DataRecipe(batch_size=2)

    def __init__(self, *, log: bool = True) -> None:
        self.log = bool(log)

    def compute(self, model, inputs, targets):
        work = without_batchnorm(copy.deepcopy(model)).double().train()
        with torch.no_grad():
            for tensor in [*work.parameters(), *work.buffers()]:
                if tensor.is_floating_point():
                    tensor.abs_()
        weights = [layer.weight for layer in weight_layers(work)]
        for w in weights:
            w.requires_grad_(True)
        ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64)
        grads = torch.autograd.grad(work(ones).sum(), weights, allow_unused=True)
        total = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights, grads, strict=True) if g is not None)
        if not math.isfinite(total):
            raise UndefinedScore(f"synflow sum overflows float64 ({total})")
        if not self.log:
            return total
        if total <= 0:
            raise UndefinedScore("synflow sum is 0 (no path from input to output), its log is undefined")
        return math.log(total)
