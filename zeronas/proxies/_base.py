"""What every proxy is: a configured object that maps (model, batch) to one number."""

from __future__ import annotations

import functools
import inspect
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from zeronas.errors import UndefinedScore  # noqa: F401  (part of the proxy API)
from zeronas.proxies._intermediates import Intermediate, PerSampleGradients


@dataclass(frozen=True)
class DataRecipe:
    """The minibatch a proxy's paper uses: size, normalisation and augmentation."""

    batch_size: int
    normalization: str = "nb201"
    augment: bool = False


class Proxy(ABC):
    """A zero-cost proxy.

    Subclasses set the class attributes and implement :meth:`compute`; options are explicit
    keyword arguments of ``__init__`` stored under the same attribute names. A proxy computed
    from a shared intermediate sets ``intermediate`` and implements :meth:`compute_from` (see
    :class:`IntermediateProxy`); ``None`` means it computes everything itself.

    ``needs_data``: the score reads the batch's values (False: only its shape, e.g. params,
    synflow's all-ones input). ``needs_parameters``: a model without parameters has no score
    (NaN with a reason; False for counts such as params, which are then 0).
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    needs_labels: ClassVar[bool] = False
    needs_gradients: ClassVar[bool] = False
    needs_data: ClassVar[bool] = True
    needs_parameters: ClassVar[bool] = True
    higher_is_better: ClassVar[bool] = True
    data: ClassVar[DataRecipe] = DataRecipe(batch_size=128)
    intermediate: ClassVar[type[Intermediate] | None] = None

    @abstractmethod
    def compute(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        """The score of ``model`` on this batch; must not modify ``model``."""

    def compute_from(self, value: Any, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        """The score from this proxy's share ``value`` of its ``intermediate`` (never modified)."""
        raise NotImplementedError(f"proxy {self.name!r} declares no intermediate")

    def options(self) -> dict[str, Any]:
        """The keyword options this instance was built with (for provenance)."""
        return {name: getattr(self, name) for name in option_defaults(type(self))}

    def default_options(self) -> dict[str, Any]:
        """The defaults of the keyword options of this proxy's class."""
        return {k: v for k, v in option_defaults(type(self)).items() if v is not inspect.Parameter.empty}

    @property
    def key(self) -> str:
        """The identity of this configured proxy: its name plus its non-default options.

        E.g. ``linear_regions[crop=8]``; results are stored and reported under it, so two
        configurations of one proxy never collapse into one.
        """
        defaults = self.default_options()
        changed = {k: v for k, v in self.options().items() if k not in defaults or _canonical(v) != _canonical(defaults[k])}
        if not changed:
            return self.name
        return self.name + "[" + ",".join(f"{k}={_canonical(v)}" for k, v in sorted(changed.items())) + "]"

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


def option_defaults(cls: type[Proxy]) -> dict[str, Any]:
    """The keyword options of a proxy class: name -> default (``inspect.Parameter.empty`` if required)."""
    return dict(_option_defaults(cls))


@functools.cache
def _option_defaults(cls: type[Proxy]) -> tuple[tuple[str, Any], ...]:
    # inspect.signature costs ~0.1 ms, and every result key of every architecture asks for it
    params = inspect.signature(cls.__init__).parameters.values()
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple((p.name, p.default) for p in params if p.name != "self" and p.kind in keyword)


def _canonical(value: Any) -> str:
    """Compact JSON of an option value (tuples as lists, floats as floats), for keys."""
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=repr)


class IntermediateProxy(Proxy):
    """A proxy computed by :meth:`compute_from` from the shared ``intermediate`` it declares.

    Scored together, such proxies share one computation of each intermediate (see
    ``_intermediates``); :meth:`compute` alone computes this proxy's own.
    """

    intermediate: ClassVar[type[Intermediate]]

    @abstractmethod
    def compute_from(self, value: Any, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        """The score from this proxy's share ``value`` of its intermediate (never modified)."""

    def compute(self, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        (value,) = self.intermediate.of(self).compute(model, inputs, targets, [self])
        return self.compute_from(value, model, inputs, targets)


class PerSampleGradientProxy(IntermediateProxy):
    """A proxy computed from per-sample Conv/Linear weight gradients (see ``_per_sample``).

    Proxies of this kind scored together share one pass of the engine when their
    ``chunk_size`` agrees; each reduces the stream through its own consumer.
    """

    needs_labels = True
    needs_gradients = True
    intermediate = PerSampleGradients
    chunk_size: int

    @abstractmethod
    def consumer(self) -> Any:
        """A fresh ``GradientConsumer`` that reduces the gradients to this proxy's score."""

    def compute_from(self, value: Any, model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None) -> float:
        return value.result()
