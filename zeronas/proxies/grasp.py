"""GraSP (Wang et al., ICLR 2020) as a zero-cost proxy (Abdelfattah et al., ICLR 2021).

As zero-cost-nas ``measures/grasp.py`` (T = 1, one iteration): g = dL/dW for the Conv/Linear
weights, then the Hessian-gradient product Hg = d(g_detached . g)/dW by double backpropagation,
and the score sum(-W * Hg). One batch (64 augmented training images), training-mode copy, mean
cross-entropy. The official code runs two forward passes of the same batch (one for g, one with
a graph for Hg); in training mode they are identical, so one pass with ``create_graph`` is used.
Higher is better.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zeronas.proxies._base import Proxy
from zeronas.proxies._model_copy import train_copy, weight_layers
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZeroCostNasBatchOption


@register_proxy
class Grasp(ZeroCostNasBatchOption, Proxy):
    """Sum of -W * (H g) over Conv/Linear weights; higher is better."""

    name = "grasp"
    needs_labels = True
    needs_gradients = True

    def compute(self, model, inputs, targets):
        work = train_copy(model)
        weights = [layer.weight for layer in weight_layers(work)]
        loss = F.cross_entropy(work(inputs), targets)
        grads = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
        used = [(w, g) for w, g in zip(weights, grads, strict=True) if g is not None]
        if not used:
            return 0.0
        z = sum((g.detach() * g).sum() for _, g in used)
        hessian_grads = torch.autograd.grad(z, [w for w, _ in used], allow_unused=True)
        return float(
            sum((-w.detach() * hg).double().sum() for (w, _), hg in zip(used, hessian_grads, strict=True) if hg is not None)
        )
