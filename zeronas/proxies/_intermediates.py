"""Intermediates: quantities that several proxies compute from, computed once per (network, batch).

A proxy declares the one it consumes in ``Proxy.intermediate`` (``None``: it computes everything
itself). ``Intermediate.of(proxy)`` is the configured intermediate that proxy needs; two proxies
share one computation exactly when these compare equal, i.e. when every setting that changes the
computed value (chunking, loss, BatchNorm mode, model copy) agrees. ``zeronas.score_detailed``
computes each distinct intermediate once, after ``torch.manual_seed(seed)`` as every proxy scored
alone does, and hands each consumer its share to ``Proxy.compute_from``.

Why these groups share and others do not:

* per-sample gradients (gradsign, gradalign, gradalign_gram): one ``torch.func`` pass per chunk
  size, each proxy reducing the stream through its own ``GradientConsumer``;
* batch weight gradients (grad_norm, snip, plain): all three are zero-cost-nas ``bn=True``
  measures on the same recipe: a training-mode copy, one forward of the whole batch, the mean
  cross-entropy, ``dL/dW`` of every Conv/Linear weight. snip's official mask gradient
  ``dL/dmask`` at ``mask = 1`` is ``W * dL/dW`` (autograd multiplies the same ``dL/dW`` by W), so
  it reads the same gradients;
* input Jacobian (jacob_cov, epe_nas): the same training-mode forward, gradient of the summed
  outputs w.r.t. the input; labels only group the rows afterwards.

ReLU codes are not shared: naswot codes the inputs of its own choice of hooked modules of a
training-mode copy on its 128-image batch, linear_regions codes spatial ReLUs of a re-initialised
thin network on random crops, and swap re-initialises for each of its repeats, so no two of them
code the same network on the same inputs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from zeronas.errors import ZeronasUserError
from zeronas.proxies._batch_gradient import input_jacobian, weight_gradients
from zeronas.proxies._per_sample import per_sample_gradients

if TYPE_CHECKING:
    from zeronas.proxies._base import Proxy


@dataclass(frozen=True)
class Intermediate(ABC):
    """A shared computation; instances are equal (and hash alike) when they compute the same value.

    Subclasses are frozen dataclasses whose fields are the settings that change the value.
    """

    @classmethod
    def of(cls, proxy: Proxy) -> Intermediate:
        """The intermediate ``proxy`` consumes, configured by those of its settings that affect it."""
        return cls()

    @abstractmethod
    def compute(
        self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None, consumers: Sequence[Proxy]
    ) -> list[Any]:
        """What each consumer's ``compute_from`` receives, in the order of ``consumers``.

        Must not modify ``model``; may raise like a proxy's ``compute`` (the failure becomes
        every consumer's status).
        """


def _labels(targets: torch.Tensor | None, what: str) -> torch.Tensor:
    if targets is None:
        raise ZeronasUserError(f"{what} need labels: pass targets=<class indices, shape (N,)>")
    return targets


@dataclass(frozen=True)
class PerSampleGradients(Intermediate):
    """Per-sample Conv/Linear weight gradients (``_per_sample``), streamed to one consumer per proxy.

    Each consumer proxy receives its own ``GradientConsumer``, fed by the one shared pass.
    """

    chunk_size: int = 32

    @classmethod
    def of(cls, proxy: Proxy) -> PerSampleGradients:
        return cls(chunk_size=proxy.chunk_size)  # type: ignore[attr-defined]

    def compute(self, model, inputs, targets, consumers):
        streams = [proxy.consumer() for proxy in consumers]  # type: ignore[attr-defined]
        labels = _labels(targets, "per-sample gradients")
        per_sample_gradients(model, inputs, labels, streams, chunk_size=self.chunk_size)
        return streams


@dataclass(frozen=True)
class BatchWeightGradients(Intermediate):
    """``[(W, dL/dW)]`` of every Conv/Linear weight, batch mean cross-entropy, training-mode copy."""

    def compute(self, model, inputs, targets, consumers):
        pairs = weight_gradients(model, inputs, _labels(targets, "weight gradients"))
        return [pairs] * len(consumers)


@dataclass(frozen=True)
class InputJacobian(Intermediate):
    """``(J, outputs)``: the ``(N, D)`` input gradient of each sample's summed outputs, and the output width."""

    def compute(self, model, inputs, targets, consumers):
        jacobian = input_jacobian(model, inputs)
        return [jacobian] * len(consumers)
