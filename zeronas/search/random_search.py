"""Random search: every architecture drawn uniformly from the space (duplicates allowed, as in
NAS-Bench-201's baseline)."""

from __future__ import annotations

from typing import Any

from zeronas.search._registry import register_searcher
from zeronas.search.base import Proposal, Searcher


@register_searcher
class RandomSearch(Searcher):
    """Uniform samples; with k candidates (G-RS), the proxy's arg-max of k uniform samples."""

    name = "rs"
    description = "random search"

    def _propose(self) -> Proposal:
        first = self.space.sample(self.rng)
        return Proposal(default=first,
                        candidates=lambda k: [first, *(self.space.sample(self.rng) for _ in range(k - 1))])

    def _observe(self, arch: Any, fitness: float) -> None:
        pass
