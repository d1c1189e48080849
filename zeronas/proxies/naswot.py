"""NASWOT (Mellor et al., ICML 2021): the published ``hook_logdet`` score.

As BayesWatch ``nas-without-training`` computes it: one batch of 128 training images (xautodl
normalisation, no augmentation), a training-mode copy; for every ``nn.ReLU``, the binary code c
of which inputs are positive; K = sum over ReLUs of c c^T + (1 - c)(1 - c)^T, i.e. for each pair
of samples the number of units on which they agree; score = log|det K| (``slogdet``). Labels
unused. Higher is better. K holds integer counts, computed exactly in float64.
"""

from __future__ import annotations

import math

import torch

from zeronas.proxies._activations import relu_codes
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import train_copy
from zeronas.proxies._registry import register_proxy


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K_ij = number of units on which samples i and j have the same code (float64, exact).

    Uses (1 - c)(1 - c)^T = units - r_i - r_j + c c^T (r = active units per sample), so one
    product suffices; float32 products of 0/1 are exact while the counts stay below 2^24.
    """
    units = codes.shape[1]
    c = codes.float() if units < 2**24 else codes.double()
    both_active = (c @ c.T).double()
    active = c.sum(1).double()
    return 2 * both_active + units - active[:, None] - active[None, :]


@register_proxy
class Naswot(Proxy):
    """log|det K| of the ReLU-code agreement kernel; higher is better."""

    name = "naswot"
    data = DataRecipe(batch_size=128, normalization="nb201", augment=False)

    def compute(self, model, inputs, targets):
        codes = relu_codes(train_copy(model), inputs)
        if codes.shape[1] == 0:
            raise UndefinedScore("the model has no nn.ReLU layers; NASWOT needs ReLU activation codes")
        sign, logdet = torch.linalg.slogdet(hamming_kernel(codes))
        if sign == 0 or not math.isfinite(float(logdet)):
            raise UndefinedScore("the ReLU-code kernel is singular (two samples share every code)")
        return float(logdet)
