"""SWAP (Peng et al., ICLR 2024): sample-wise activation patterns, as pym1024 ``metrics/swap.py``.

For a batch of 16 training images (xautodl normalisation, no augmentation) and a training-mode
copy re-initialised with N(0, 1) Conv/Linear weights, the binary pattern (positive or not) of
every ReLU output on a 4-D tensor forms a (units x samples) matrix; the score is its number of
distinct rows, i.e. of distinct sample-wise patterns. As the official ``correlation.py`` it is
averaged over ``repeats`` (32) fresh Gaussian initialisations. Labels unused. Higher is better.
ReLUs applied as functions count as ``nn.ReLU`` modules do.

``mu`` and ``sigma`` (both in millions of parameters) turn on the regularised SWAP of the paper:
the score is multiplied by exp(-(params - mu)^2 / sigma).
"""

from __future__ import annotations

import math

from zeronas.errors import ZeronasUserError
from zeronas.proxies._activations import count_unique_rows, relu_codes
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import gaussian_init, train_copy
from zeronas.proxies._registry import register_proxy


@register_proxy
class Swap(Proxy):
    """Number of distinct per-unit activation patterns over the batch; higher is better."""

    name = "swap"
    data = DataRecipe(batch_size=16, normalization="nb201", augment=False)

    def __init__(self, *, repeats: int = 32, mu: float | None = None, sigma: float | None = None) -> None:
        if repeats < 1:
            raise ZeronasUserError(f"swap repeats must be >= 1, got {repeats}")
        if (mu is None) != (sigma is None) or (sigma is not None and sigma <= 0):
            raise ZeronasUserError("swap regularisation needs both mu and sigma > 0 (millions of parameters)")
        self.repeats = int(repeats)
        self.mu = mu
        self.sigma = sigma

    def compute(self, model, inputs, targets):
        work = train_copy(model)
        counts = []
        for _ in range(self.repeats):
            codes = relu_codes(gaussian_init(work), inputs, spatial_only=True)
            if codes.shape[1] == 0:
                raise UndefinedScore("the model applies no ReLU (module or function); SWAP counts ReLU patterns")
            counts.append(count_unique_rows(codes.T.contiguous()))
        score = sum(counts) / len(counts)
        if self.mu is not None and self.sigma is not None:
            params = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
            score *= math.exp(-((params - self.mu) ** 2) / self.sigma)
        return float(score)
