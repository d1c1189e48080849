"""grad_norm (Abdelfattah et al., ICLR 2021): the size of the loss gradient at initialisation.

As zero-cost-nas ``measures/grad_norm.py`` computes it: one batch (64 augmented training images
by default), a training-mode copy (BatchNorm on batch statistics), mean cross-entropy, then the
sum over Conv/Linear layers of the Euclidean norm of each layer's weight gradient (no biases, no
BatchNorm parameters). Higher is better.
"""

from __future__ import annotations

import torch

from zeronas.proxies._base import DataRecipe, IntermediateProxy
from zeronas.proxies._intermediates import BatchWeightGradients
from zeronas.proxies._registry import register_proxy

ZERO_COST_NAS_BATCH = DataRecipe(batch_size=64, normalization="zero_cost_nas", augment=True)


@register_proxy
class GradNorm(IntermediateProxy):
    """Sum over layers of ||dL/dW||_2; higher is better."""

    name = "grad_norm"
    needs_labels = True
    needs_gradients = True
    data = ZERO_COST_NAS_BATCH
    intermediate = BatchWeightGradients

    def compute_from(self, value, model, inputs, targets):
        return float(sum(torch.linalg.vector_norm(g).double() for _, g in value))
