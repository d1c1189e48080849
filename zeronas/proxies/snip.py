"""SNIP (Lee et al., ICLR 2019) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

zero-cost-nas ``measures/snip.py`` multiplies every Conv/Linear weight by a mask of ones and sums
|dL/dmask|; at mask = 1 this is exactly |W * dL/dW|, which is what is computed here. One batch
(64 augmented training images), training-mode copy, mean cross-entropy. Higher is better.
"""

from __future__ import annotations

from zeronas.proxies._base import Proxy
from zeronas.proxies._batch_gradient import weight_gradients
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZERO_COST_NAS_BATCH


@register_proxy
class Snip(Proxy):
    """Sum of |W * dL/dW| over Conv/Linear weights; higher is better."""

    name = "snip"
    needs_labels = True
    needs_gradients = True
    data = ZERO_COST_NAS_BATCH

    def compute(self, model, inputs, targets):
        return float(sum((w * g).abs().double().sum() for w, g in weight_gradients(model, inputs, targets)))
