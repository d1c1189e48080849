"""grad_norm (Abdelfattah et al., ICLR 2021): the size of the loss gradient at initialisation.

As zero-cost-nas ``measures/grad_norm.py`` computes it: one batch (64 augmented training images
by default, option ``batch_size``), a training-mode copy (BatchNorm on batch statistics), mean
cross-entropy, then the sum over Conv/Linear layers of the Euclidean norm of each layer's weight
gradient (no biases, no BatchNorm parameters). Higher is better.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, IntermediateProxy
from zeronas.proxies._intermediates import BatchWeightGradients
from zeronas.proxies._registry import register_proxy

ZERO_COST_NAS_BATCH = DataRecipe(batch_size=64, normalization="zero_cost_nas", augment=True)


def zero_cost_nas_batch(batch_size: int) -> DataRecipe:
    """zero-cost-nas' batch of ``batch_size`` augmented training images.

    Its scripts score NAS-Bench-201 on 64 images (``nasbench2_pred.py``) and NAS-Bench-101 on 256
    (``nasbench1_pred.py``); the measures that take this batch have a ``batch_size`` option.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ZeronasUserError(f"batch_size must be an integer of at least 2, got {batch_size!r}")
    return replace(ZERO_COST_NAS_BATCH, batch_size=batch_size)


class ZeroCostNasBatchOption:
    """Mixin of zero-cost-nas' measures: their batch, with its size as the option ``batch_size``."""

    data = ZERO_COST_NAS_BATCH

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.data = zero_cost_nas_batch(batch_size)


@register_proxy
class GradNorm(ZeroCostNasBatchOption, IntermediateProxy):
    """Sum over layers of ||dL/dW||_2; higher is better."""

    name = "grad_norm"
    needs_labels = True
    needs_gradients = True
    intermediate = BatchWeightGradients

    def compute_from(self, value, model, inputs, targets):
        return float(sum(torch.linalg.vector_norm(g).double() for _, g in value))
