"""The interface every search space implements, and its optional capabilities.

A space turns architecture descriptions into objects (``parse``/``format``), names each
architecture's identity (two descriptions of one network share it), draws and perturbs
architectures for search (``sample``/``mutate``/``neighbours``) and builds networks for a
dataset. Spaces small enough to list implement :class:`Enumerable` as well.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from torch import nn

from zeronas.data.datasets import DatasetSpec


class SearchSpace(ABC):
    """A discrete space of architectures.

    An architecture is a hashable, immutable object; ``format`` gives its one-line text and
    ``parse(format(a)) == a``. ``identity(a)`` is a stable string naming the network ``a``
    describes: results are stored and ground truth is looked up under it.
    """

    name: ClassVar[str] = ""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        """``data_dir`` is where a space reads its official order or tables (see zeronas.data)."""
        self.data_dir = data_dir

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Parse and validate one architecture's text (raises ArchitectureError, one line)."""

    def format(self, arch: Any) -> str:
        """The one-line text of ``arch``; ``parse`` reads it back."""
        return str(arch)

    @abstractmethod
    def identity(self, arch: Any) -> str:
        """The canonical identity of the network ``arch`` describes (stable across runs)."""

    @abstractmethod
    def decisions(self, arch: Any) -> tuple[Any, ...]:
        """The choices that make up ``arch``, one entry per decision (what ``mutate`` changes one of)."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """One architecture drawn at random with ``rng``."""

    @abstractmethod
    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        """``arch`` with one decision changed at random, to a different identity."""

    @abstractmethod
    def neighbours(self, arch: Any) -> list[Any]:
        """Every architecture one decision away from ``arch`` with a different identity."""

    @abstractmethod
    def build(self, arch: Any, dataset: DatasetSpec) -> nn.Module:
        """A freshly initialised network for ``arch`` on ``dataset`` (PyTorch default init)."""

    def as_arch(self, arch: Any) -> Any:
        """``arch`` itself, or parsed if it is text."""
        return self.parse(arch) if isinstance(arch, str) else arch


class Enumerable(ABC):
    """Capability of a space whose architectures can be listed in a fixed official order."""

    @abstractmethod
    def all_archs(self) -> Sequence[Any]:
        """Every architecture, in the space's official order."""

    def __len__(self) -> int:
        return len(self.all_archs())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.all_archs())

    @abstractmethod
    def index_of(self, arch: Any) -> int:
        """The official index of ``arch`` (raises ArchitectureError if it is not in the space)."""


class Canonical(ABC):
    """Capability of a space that names each architecture's isomorphism class.

    Two architectures share ``canonical(a)`` when they describe the same computation graph up
    to a renumbering of its nodes, ignoring what no input-output path uses. Campaigns with
    de-duplication score one representative per class.
    """

    @abstractmethod
    def canonical(self, arch: Any) -> str:
        """A stable string naming the isomorphism class of ``arch``."""


class Categorical(ABC):
    """Capability of a space whose architectures are a fixed-length vector of categorical choices.

    Policy and Bayesian searchers (REINFORCE, TPE) model one distribution per decision.
    ``from_decisions`` may reject a vector that names no valid architecture (ArchitectureError);
    searchers then draw again.
    """

    @abstractmethod
    def choices(self) -> tuple[tuple[Any, ...], ...]:
        """The options of each decision, in ``decisions(arch)`` order."""

    @abstractmethod
    def from_decisions(self, decisions: Sequence[Any]) -> Any:
        """The architecture with these decisions (raises ArchitectureError where none is valid)."""
