"""#Params: the number of trainable parameters, in millions (as NAS-Bench-Suite-Zero reports it).

Counted from the model itself (every parameter with ``requires_grad``), not from a table; for
NAS-Bench-201 it equals the ``params_M_<dataset>`` columns of the ground-truth table. Data-free.
Higher is better (bigger networks train to higher accuracy on NAS-Bench-201).
"""

from __future__ import annotations

from zeronas.proxies._base import DataRecipe, Proxy
from zeronas.proxies._registry import register_proxy


@register_proxy
class Params(Proxy):
    """Trainable parameters (millions); higher is better."""

    name = "params"
    data = DataRecipe(batch_size=2)
    needs_data = False
    needs_parameters = False

    def compute(self, model, inputs, targets):
        return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
