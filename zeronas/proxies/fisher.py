"""Fisher (Theis et al. 2018; Turner et al. 2020) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

As zero-cost-nas ``measures/fisher.py`` in its channel mode: for the output a of every Conv and
Linear layer and the gradient dL/da of the batch's mean cross-entropy, per sample n and channel
k take g_nk = sum over positions of a * dL/da; the layer's saliency is 0.5 * mean_n g_nk^2 per
channel; the score is the sum over channels and layers. One batch (64 augmented training
images), training-mode copy. Higher is better.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.proxies._base import Proxy
from zeronas.proxies._model_copy import train_copy, weight_layers
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZERO_COST_NAS_BATCH


@register_proxy
class Fisher(Proxy):
    """Sum over channels of 0.5 * mean_n (sum_positions a * dL/da)^2; higher is better."""

    name = "fisher"
    needs_labels = True
    needs_gradients = True
    data = ZERO_COST_NAS_BATCH

    def compute(self, model, inputs, targets):
        work = train_copy(model)
        activations: list[torch.Tensor] = []
        hooks = [
            layer.register_forward_hook(lambda _m, _i, out: activations.append(out))
            for layer in weight_layers(work)
        ]
        try:
            loss = F.cross_entropy(work(inputs), targets)
        finally:
            for hook in hooks:
                hook.remove()
        if not activations:
            return 0.0
        grads = torch.autograd.grad(loss, activations, allow_unused=True)
        total = torch.zeros((), dtype=torch.float64)
        for act, grad in zip(activations, grads, strict=True):
            if grad is None:
                continue
            product = act.detach() * grad
            per_channel = product.sum(tuple(range(2, product.ndim))) if product.ndim > 2 else product
            total += 0.5 * per_channel.double().pow(2).mean(0).sum()
        return float(total)
