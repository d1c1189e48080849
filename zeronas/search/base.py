"""The ask/tell interface every search algorithm implements, and the proposals assistance acts on.

A :class:`Searcher` proposes one architecture per :meth:`~Searcher.ask` and learns from the
fitness :meth:`~Searcher.tell` reports (higher is better). Each algorithm builds a
:class:`Proposal`: the architecture it would evaluate on its own, how to draw k alternatives of
the same kind (GradSign's k candidates) and the parent a move explores. An optional
:class:`~zeronas.search.assist.Assistance` picks among those with a proxy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.spaces.base import SearchSpace

if TYPE_CHECKING:
    from zeronas.search.assist import Assistance


@dataclass(frozen=True)
class Proposal:
    """What an algorithm would evaluate next.

    ``default``: its own choice. ``candidates(k)``: k architectures of the kind it proposes (k
    random cells, k mutations of a tournament winner, ...), or None where assistance does not
    apply (REA's random initial population). ``parent``: the architecture whose neighbours a
    move explores (None: ``default``'s).
    """

    default: Any
    candidates: Callable[[int], list[Any]] | None = None
    parent: Any = None


class Searcher(ABC):
    """An ask/tell search algorithm over ``space``, seeded by ``seed`` (same seed, same trajectory).

    ``requires`` names the space capabilities (classes from :mod:`zeronas.spaces.base`) the
    algorithm needs beyond sample/mutate/neighbours. ``warm_start_size``: how many proxy-ranked
    architectures a zero-cost warm-up feeds it first.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[type, ...]] = ()
    warm_start_size: ClassVar[int] = 10

    def __init__(self, space: SearchSpace, *, seed: int = 0, assist: Assistance | None = None) -> None:
        missing = [c.__name__ for c in self.requires if not isinstance(space, c)]
        if missing:
            raise ZeronasUserError(f"search algorithm {self.name!r} needs a space with {', '.join(missing)}; "
                                   f"space {space.name!r} has none")
        self.space = space
        self.seed = int(seed)
        streams = np.random.SeedSequence(self.seed).spawn(2)
        self.rng = np.random.default_rng(streams[0])
        self.assist = assist
        if assist is not None:
            assist.bind(self, np.random.default_rng(streams[1]))
        self._warm: list[Any] | None = None

    def ask(self) -> Any:
        """The next architecture to evaluate."""
        if self._warm is None:
            self._warm = self.assist.warm_start() if self.assist is not None else []
        if self._warm:
            arch = self._warm.pop(0)
            self._adopt(arch)
            return arch
        proposal = self._propose()
        arch = self.assist.choose(proposal) if self.assist is not None else proposal.default
        self._adopt(arch)
        return arch

    def tell(self, arch: Any, fitness: float) -> None:
        """Report the fitness of an architecture :meth:`ask` returned (higher is better; NaN: failed)."""
        self._observe(arch, float(fitness))

    @abstractmethod
    def _propose(self) -> Proposal:
        """The algorithm's next proposal."""

    def _adopt(self, arch: Any) -> None:
        """Called with the architecture :meth:`ask` returns (warm-up and assisted picks included)."""

    @abstractmethod
    def _observe(self, arch: Any, fitness: float) -> None:
        """Learn from one evaluation."""
