"""One forward and backward pass of a minibatch, as the zero-cost-nas measures take it.

The working copy is in training mode (BatchNorm on batch statistics, ``bn=True``), the loss is
the mean cross-entropy of the whole batch, and the gradients of the Conv/Linear weights are
returned with the weights themselves (zero where a layer is not used by the forward pass).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from zeronas.proxies._model_copy import train_copy, weight_layers


def weight_gradients(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``[(W, dL/dW)]`` for every Conv/Linear weight of a training-mode copy of ``model``."""
    work = train_copy(model)
    weights = [layer.weight for layer in weight_layers(work)]
    loss = F.cross_entropy(work(inputs), targets)
    grads = torch.autograd.grad(loss, weights, allow_unused=True)
    return [
        (w.detach(), g if g is not None else torch.zeros_like(w)) for w, g in zip(weights, grads, strict=True)
    ]


def input_jacobian(model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per-sample gradient of the sum of the outputs w.r.t. the input, ``(N, D)``, and the output width.

    As ``get_batch_jacobian``: one batch forward in training mode, ``y.backward(ones_like(y))``.
    """
    work = train_copy(model)
    x = inputs.detach().clone().requires_grad_(True)
    y = work(x)
    (jacobian,) = torch.autograd.grad(y.sum(), x)
    return jacobian.reshape(len(x), -1), y.shape[-1]
