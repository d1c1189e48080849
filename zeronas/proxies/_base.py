"""What every proxy is: a configured object that maps (model, batch) to one number."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn


class UndefinedScore(ArithmeticError):
    """Raised by a proxy when its score is mathematically undefined for this network.

    The runner records the score as NaN with ``status="nan"`` and this message as the reason.
    """


@dataclass(frozen=True)
class DataRecipe:
    """The minibatch a proxy's paper uses: size, normalisation and augmentation."""

    batch_size: int
    normalization: str = "nb201"
    augment: bool = False


class Proxy(ABC):
    """A zero-cost proxy.

    Subclasses set the class attributes and implement :meth:`compute`; options are explicit
    keyword arguments of ``__init__`` stored under the same attribute names.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    needs_labels: ClassVar[bool] = False
    needs_gradients: ClassVar[bool] = False
    higher_is_better: ClassVar[bool] = True
    data: ClassVar[DataRecipe] = DataRecipe(batch_size=128)

    @abstractmethod
    def compute(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        """The score of ``model`` on this batch; must not modify ``model``."""

    def options(self) -> dict[str, Any]:
        """The keyword options this instance was built with (for provenance)."""
        params = inspect.signature(type(self).__init__).parameters.values()
        keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return {p.name: getattr(self, p.name) for p in params if p.name != "self" and p.kind in keyword}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


class PerSampleGradientProxy(Proxy):
    """A proxy computed from per-sample Conv/Linear weight gradients (see ``_per_sample``).

    Proxies of this kind scored together share one pass of the engine when their
    ``chunk_size`` agrees.
    """

    needs_labels = True
    needs_gradients = True
    chunk_size: int

    @abstractmethod
    def consumer(self) -> Any:
        """A fresh ``GradientConsumer`` that reduces the gradients to this proxy's score."""

    def compute(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        from zeronas.proxies._per_sample import per_sample_gradients

        consumer = self.consumer()
        assert targets is not None
        per_sample_gradients(model, inputs, targets, [consumer], chunk_size=self.chunk_size)
        return consumer.result()
