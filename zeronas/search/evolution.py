"""Regularized evolution (Real et al., 2019), as NAS-Bench-201 runs it: a random initial
population, a tournament sampled with replacement, a child that changes one decision of the
winner, and aging (the oldest member dies)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from zeronas.errors import ZeronasUserError
from zeronas.search._registry import register_searcher
from zeronas.search.base import Proposal, Searcher


@register_searcher
class RegularizedEvolution(Searcher):
    """REA with ``population`` members and tournaments of ``sample`` (NAS-Bench-201: 10 and 3).

    With k candidates (G-REA) the child is the proxy's arg-max of k mutations of the winner; the
    initial population stays random. A zero-cost warm-up fills the initial population instead.
    NaN fitness never wins a tournament.
    """

    name = "rea"
    description = "regularized evolution"

    def __init__(self, space: Any, *, seed: int = 0, assist: Any = None, population: int = 10,
                 sample: int = 3) -> None:
        if population < 1 or sample < 1:
            raise ZeronasUserError(f"REA needs population >= 1 and sample >= 1, got {population} and {sample}")
        self.population_size, self.sample_size = int(population), int(sample)
        self.population: deque[tuple[Any, float]] = deque()
        self.evaluated = 0
        super().__init__(space, seed=seed, assist=assist)

    @property
    def warm_start_size(self) -> int:  # type: ignore[override]
        return self.population_size

    def _propose(self) -> Proposal:
        if self.evaluated < self.population_size:
            return Proposal(default=self.space.sample(self.rng))
        picks = self.rng.integers(len(self.population), size=self.sample_size)
        winner = max((self.population[int(i)] for i in picks),
                     key=lambda member: member[1] if math.isfinite(member[1]) else -math.inf)[0]
        child = self.space.mutate(winner, self.rng)
        return Proposal(default=child, parent=winner,
                        candidates=lambda k: [child, *(self.space.mutate(winner, self.rng) for _ in range(k - 1))])

    def _observe(self, arch: Any, fitness: float) -> None:
        self.evaluated += 1
        self.population.append((arch, fitness))
        if len(self.population) > self.population_size:
            self.population.popleft()
