"""SynFlow (Tanaka et al., NeurIPS 2020) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

As zero-cost-nas ``measures/synflow.py`` (registered with ``bn=False``): score the network's
``bn=False`` copy in float64, in training mode, with every floating-point parameter and buffer
replaced by its absolute value; feed one all-ones input of the batch's sample shape; R = sum of
the outputs; score = sum over Conv/Linear weights W of |W * dR/dW|. Data-free and label-free.

Which BatchNorms the ``bn=False`` copy drops (option ``batchnorm``):

- ``"official"`` (default): the copy zero-cost-nas makes. A network that declares
  :class:`~zeronas.spaces.capabilities.BatchNormFreeCopy` supplies it: zero-cost-nas's
  NAS-Bench-201 model keeps the two BatchNorms of each stride-2 residual block
  (``get_prunable_copy(bn=False)`` rebuilds the model with ``use_bn=False``, which those blocks
  ignore), and they run in training mode on the single all-ones input, i.e. they normalise with
  its per-channel spatial statistics. Any other network gets ``predictive.copynet(bn=False)``:
  every BatchNorm removed.
- ``"none"``: every BatchNorm removed, whatever the network declares (zeronas' SynFlow before
  version 2; on NAS-Bench-201 780 to 1,180 times the official sum, the ranking almost the same).

The score is reported as the natural logarithm of that sum, as NAS-Bench-Suite-Zero does
(``log=False`` gives the raw sum; the ranking is the same). The raw sum grows exponentially
with depth; float64 (as the official code) holds NAS-Bench-201 comfortably, and a sum that still
overflows is recorded as NaN with the reason rather than as a number. Higher is better.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import weight_layers, without_batchnorm
from zeronas.proxies._registry import register_proxy
from zeronas.spaces.capabilities import BatchNormFreeCopy

BATCHNORM_RULES = ("official", "none")


def batchnorm_free_copy(model: nn.Module, batchnorm: str = "official") -> nn.Module:
    """A deep copy of ``model`` with the BatchNorms that SynFlow's ``bn=False`` rule drops removed."""
    if batchnorm == "official" and isinstance(model, BatchNormFreeCopy):
        return model.batchnorm_free_copy()
    return without_batchnorm(copy.deepcopy(model))


@register_proxy
class Synflow(Proxy):
    """log of sum |W * dR/dW| on the all-positive float64 network; higher is better."""

    name = "synflow"
    version = "2"
    needs_gradients = True
    data = DataRecipe(batch_size=2)
    needs_data = False

    def __init__(self, *, log: bool = True, batchnorm: str = "official") -> None:
        if batchnorm not in BATCHNORM_RULES:
            raise ZeronasUserError(f"synflow batchnorm must be one of {', '.join(BATCHNORM_RULES)}, got {batchnorm!r}")
        self.log = bool(log)
        self.batchnorm = batchnorm

    def compute(self, model, inputs, targets):
        work = batchnorm_free_copy(model, self.batchnorm).double().train()
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
