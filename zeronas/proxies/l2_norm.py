"""l2_norm (NAS-Bench-Suite-Zero / NASLib ``measures/l2_norm.py``): the size of the weights.

The sum over Conv/Linear layers of the Euclidean norm of each layer's weight tensor, at the
given initialisation. No data is used (the batch only fixes nothing). Higher is better.
"""

from __future__ import annotations

import torch

from zeronas.proxies._base import DataRecipe, Proxy
from zeronas.proxies._model_copy import weight_layers
from zeronas.proxies._registry import register_proxy


@register_proxy
class L2Norm(Proxy):
    """Sum over Conv/Linear layers of ||W||_2; higher is better; data-free."""

    name = "l2_norm"
    data = DataRecipe(batch_size=2)
    needs_data = False

    def compute(self, model, inputs, targets):
        with torch.no_grad():
            return float(sum(torch.linalg.vector_norm(layer.weight).double() for layer in weight_layers(model)))
