"""The small interface every search space implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn


class SearchSpace(ABC):
    """A discrete space of architectures that can be enumerated and built into networks.

    An architecture is any hashable object whose ``str()`` is its canonical string; ``parse``
    turns that string back into the object.
    """

    name: str = ""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        """``data_dir`` is where spaces read their official order or tables (see zeronas.data)."""
        self.data_dir = data_dir

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Parse and validate a canonical architecture string (raises ArchitectureError)."""

    @abstractmethod
    def all_archs(self) -> Sequence[Any]:
        """Every architecture of the space, in the space's official order."""

    @abstractmethod
    def build(self, arch: Any, *, num_classes: int = 10) -> nn.Module:
        """A freshly initialised network for ``arch`` (PyTorch default initialisation)."""

    def __len__(self) -> int:
        return len(self.all_archs())
