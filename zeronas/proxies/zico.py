"""ZiCo (Li et al., ICLR 2023), as SLDGroup ``ZeroShotProxy/compute_zico.py`` computes it.

The batch (256 augmented training images, xautodl normalisation) is split into ``batches``
equal parts; each part is forwarded and back-propagated with the mean cross-entropy in a
training-mode copy. As in the official loop, gradients are *not* reset between parts, so the
k-th recorded gradient is the sum of the first k. For every Conv/Linear layer, over the
recorded gradients: mean |g| / std(g) per weight (population std; weights with zero std
skipped), summed over weights; the score is the sum over layers of the log of that sum (layers
whose sum is 0 are skipped). Higher is better.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, Proxy
from zeronas.proxies._model_copy import train_copy, weight_layers
from zeronas.proxies._registry import register_proxy


@register_proxy
class ZiCo(Proxy):
    """Sum over layers of log sum_weights mean|g| / std(g); higher is better."""

    name = "zico"
    needs_labels = True
    needs_gradients = True
    data = DataRecipe(batch_size=256, normalization="nb201", augment=True)

    def __init__(self, *, batches: int = 2) -> None:
        if batches < 2:
            raise ZeronasUserError(f"zico needs batches >= 2 (a std over gradients), got {batches}")
        self.batches = int(batches)

    def compute(self, model, inputs, targets):
        if len(inputs) < self.batches:
            raise ZeronasUserError(f"zico needs at least {self.batches} samples, got {len(inputs)}")
        work = train_copy(model)
        weights = [layer.weight for layer in weight_layers(work)]
        running = [torch.zeros_like(w) for w in weights]
        recorded: list[list[torch.Tensor]] = [[] for _ in weights]
        for part_inputs, part_targets in zip(
            torch.tensor_split(inputs, self.batches), torch.tensor_split(targets, self.batches), strict=True
        ):
            loss = F.cross_entropy(work(part_inputs), part_targets)
            grads = torch.autograd.grad(loss, weights, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    running[i] = running[i] + g
                recorded[i].append(running[i].double())
        total = 0.0
        for history in recorded:
            stacked = torch.stack(history).reshape(len(history), -1)
            std = stacked.std(0, correction=0)
            nonzero = std != 0
            ratio_sum = (stacked.abs().mean(0)[nonzero] / std[nonzero]).sum()
            if ratio_sum != 0:
                total += float(torch.log(ratio_sum))
        return total
