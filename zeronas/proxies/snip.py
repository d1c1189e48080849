"""SNIP (Lee et al., ICLR 2019) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

zero-cost-nas ``measures/snip.py`` multiplies every Conv/Linear weight by a mask of ones and sums
|dL/dmask|; at mask = 1 this is exactly |W * dL/dW| (autograd multiplies the same dL/dW by W),
which is what is computed here, from the weight gradients shared with grad_norm and plain. One
batch (64 augmented training images; option ``batch_size``), training-mode copy, mean
cross-entropy. Higher is better.
"""

from __future__ import annotations

from zeronas.proxies._base import IntermediateProxy
from zeronas.proxies._intermediates import BatchWeightGradients
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZeroCostNasBatchOption


@register_proxy
class Snip(ZeroCostNasBatchOption, IntermediateProxy):
    """Sum of |W * dL/dW| over Conv/Linear weights; higher is better."""

    name = "snip"
    needs_labels = True
    needs_gradients = True
    intermediate = BatchWeightGradients

    def compute_from(self, value, model, inputs, targets):
        return float(sum((w * g).abs().double().sum() for w, g in value))
