"""GradSign (Zhang & Jia, ICLR 2022): sign agreement of per-sample gradients.

As the official ``grad_conflict`` measure computes it: at the given weights, for each sample
forwarded alone (BatchNorm in training mode, so with that sample's own statistics) take the
cross-entropy gradient of every Conv/Linear weight (no biases, no BatchNorm parameters);
score = sum over weights k of |sum over samples i of sign(g_ik)|, with sign(0) = 0.

``reduction="mean"`` divides by the number of weights, as the NASWOT-harness and AZ-NAS copies
do; across networks of different size the two rank differently. Higher is better; the maximum
is N (the batch size) per weight, reached when every sample agrees.
"""

from __future__ import annotations

import torch

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, PerSampleGradientProxy
from zeronas.proxies._per_sample import GradientConsumer
from zeronas.proxies._registry import register_proxy


class _SignAgreement(GradientConsumer):
    def __init__(self, reduction: str) -> None:
        self.reduction = reduction
        self.sign_sums: dict[str, torch.Tensor] = {}

    def update(self, grads: dict[str, torch.Tensor]) -> None:
        for name, g in grads.items():
            chunk_sum = torch.sign(g).sum(0)
            if name in self.sign_sums:
                self.sign_sums[name] += chunk_sum
            else:
                self.sign_sums[name] = chunk_sum

    def result(self) -> float:
        # Counts of agreeing signs are integers; float64 keeps the total exact.
        total = sum(s.abs().double().sum() for s in self.sign_sums.values())
        if self.reduction == "mean":
            total = total / sum(s.numel() for s in self.sign_sums.values())
        return float(total)


@register_proxy
class GradSign(PerSampleGradientProxy):
    """GradSign; higher is better. Defaults: batch 128 augmented training images."""

    name = "gradsign"
    data = DataRecipe(batch_size=128, normalization="zero_cost_nas", augment=True)

    def __init__(self, *, reduction: str = "sum", chunk_size: int = 32) -> None:
        if reduction not in ("sum", "mean"):
            raise ZeronasUserError(f"gradsign reduction must be 'sum' or 'mean', got {reduction!r}")
        if chunk_size < 1:
            raise ZeronasUserError(f"chunk_size must be >= 1, got {chunk_size}")
        self.reduction = reduction
        self.chunk_size = chunk_size

    def consumer(self) -> GradientConsumer:
        return _SignAgreement(self.reduction)
