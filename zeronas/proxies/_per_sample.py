"""The shared per-sample gradient engine (torch.func ``vmap`` over ``grad``, chunked).

Each sample is forwarded on its own, as a batch of one, with BatchNorm in training mode: every
BatchNorm layer normalises with that sample's own per-channel statistics, exactly as a Python
loop of ``model(x[i:i+1])`` in ``train()`` mode does. A BatchNorm that would see one value per
channel (``BatchNorm1d`` on ``(N, C)``) has no per-sample statistics; it normalises with the
batch's (see ``_adapter``), and the score's reason says so. The gradient of the cross-entropy with the
true label is taken for the weights of every Conv and Linear layer only.

Consumers (one per proxy) receive the gradients chunk by chunk, so many proxies share one pass
and memory stays bounded by ``chunk_size`` samples (fewer for very large networks, see
``GRADIENT_MEMORY_BYTES``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from zeronas.proxies._adapter import use_batch_statistics_where_single_valued
from zeronas.errors import UndefinedScore
from zeronas.proxies._model_copy import batch_statistics_copy, weight_layer_names


class GradientConsumer(ABC):
    """Receives per-sample gradients chunk by chunk and reduces them to one number."""

    @abstractmethod
    def update(self, grads: dict[str, torch.Tensor]) -> None:
        """``grads[name]`` has shape ``(chunk, *weight.shape)``; shared by every consumer, so read-only.

        A consumer may keep references to these tensors (the engine never reuses them).
        """

    @abstractmethod
    def result(self) -> float: ...


# One chunk's per-sample gradients (float32) may take at most this much memory: ``chunk_size`` is
# lowered for networks large enough to exceed it (NAS-Bench-201's never are; NAS-Bench-101's
# largest, 49 M weights, run 5 samples at a time instead of 32).
GRADIENT_MEMORY_BYTES = 1 << 30


def effective_chunk_size(chunk_size: int, weight_elements: int) -> int:
    """``chunk_size``, lowered so that one chunk of per-sample gradients fits ``GRADIENT_MEMORY_BYTES``."""
    return max(1, min(chunk_size, GRADIENT_MEMORY_BYTES // max(1, 4 * weight_elements)))


def per_sample_gradients(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    consumers: Sequence[GradientConsumer],
    *,
    chunk_size: int = 32,
) -> None:
    """Feed the per-sample Conv/Linear weight gradients of ``model`` to every consumer.

    Raises :class:`UndefinedScore` if a gradient is NaN or inf (no consumer sees such a chunk).
    """
    work = batch_statistics_copy(model).train()
    use_batch_statistics_where_single_valued(work, inputs)
    names = weight_layer_names(work)
    params = {name: p.detach() for name, p in work.named_parameters()}
    wanted = {name: params[name] for name in names}
    fixed = {name: p for name, p in params.items() if name not in wanted}
    fixed.update(dict(work.named_buffers()))

    def sample_loss(weights: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = functional_call(work, {**weights, **fixed}, (x.unsqueeze(0),))
        return F.cross_entropy(logits, y.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0), randomness="different")
    chunk_size = effective_chunk_size(chunk_size, sum(w.numel() for w in wanted.values()))
    for start in range(0, len(inputs), chunk_size):
        stop = start + chunk_size
        grads = per_sample(wanted, inputs[start:stop], targets[start:stop])
        # A float64 sum is non-finite exactly when some gradient is (it cannot overflow).
        if grads and not torch.isfinite(sum(g.sum(dtype=torch.float64) for g in grads.values())):
            raise UndefinedScore("non-finite per-sample gradients (NaN or inf)")
        for consumer in consumers:
            consumer.update(grads)


def per_sample_gradients_loop(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reference implementation: one forward/backward per sample (the official GradSign loop).

    Slow; kept as the oracle for tests and the benchmark. Returns ``grads[name]`` of shape
    ``(N, *weight.shape)``.
    """
    work = batch_statistics_copy(model).train()
    use_batch_statistics_where_single_valued(work, inputs)
    names = weight_layer_names(work)
    lookup = dict(work.named_parameters())
    rows: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for i in range(len(inputs)):
        work.zero_grad(set_to_none=True)
        F.cross_entropy(work(inputs[i : i + 1]), targets[i : i + 1]).backward()
        for name in names:
            g = lookup[name].grad
            rows[name].append(torch.zeros_like(lookup[name]) if g is None else g.detach().clone())
    return {name: torch.stack(r) for name, r in rows.items()}
