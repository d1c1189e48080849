"""plain (NAS-Bench-Suite-Zero / NASLib ``measures/plain.py``): the signed sum of W * dL/dW.

One batch (64 augmented training images), training-mode copy, mean cross-entropy, Conv/Linear
weights only. Higher is better (the orientation NASLib uses).
"""

from __future__ import annotations

from zeronas.proxies._base import IntermediateProxy
from zeronas.proxies._intermediates import BatchWeightGradients
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZeroCostNasBatchOption


@register_proxy
class Plain(ZeroCostNasBatchOption, IntermediateProxy):
    """Sum of W * dL/dW over Conv/Linear weights; higher is better."""

    name = "plain"
    needs_labels = True
    needs_gradients = True
    intermediate = BatchWeightGradients

    def compute_from(self, value, model, inputs, targets):
        return float(sum((w * g).double().sum() for w, g in value))
