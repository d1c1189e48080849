"""Proxy assistance: how a zero-cost proxy steers a search algorithm.

- :class:`KCandidates` (GradSign): each evaluated architecture is the proxy's arg-max of k
  candidates of the algorithm's own kind (k random cells for RS, k mutations of the tournament
  winner for REA, k mutations of the policy's sample for REINFORCE, k TPE proposals).
- :class:`Warmup` (zero-cost-nas): the top P of a random pool, by proxy, are evaluated first
  (REA's initial population; the first P evaluations of the others).
- :class:`Move` (zero-cost-nas): the best neighbour of the parent by proxy, and with probability
  ``epsilon`` a random neighbour.

A NaN score is never chosen (nor an infinite one: proxies report overflow as NaN, and an
infinity compares with nothing): when no candidate has a finite score the algorithm's own
proposal is used. ``proxy_seconds`` adds up the recorded scoring time of each distinct architecture
scored in this run, for searches that charge it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.search.base import Proposal
from zeronas.search.scorers import ProxyScorer

if TYPE_CHECKING:
    from zeronas.search.base import Searcher


class Assistance(ABC):
    """A proxy's influence on one search run (bind a fresh one to each searcher)."""

    name = ""

    def __init__(self, scorer: ProxyScorer) -> None:
        self.scorer = scorer
        self.proxy_seconds = 0.0
        self._charged: set[str] = set()
        self.searcher: Searcher | None = None
        self.rng: np.random.Generator | None = None

    def bind(self, searcher: Searcher, rng: np.random.Generator) -> None:
        if self.searcher is not None:
            raise ZeronasUserError("an Assistance steers one search run; create a new one per searcher")
        self.searcher, self.rng = searcher, rng

    def scores(self, archs: Sequence[Any]) -> np.ndarray:
        """Oriented scores of ``archs``; charges each distinct architecture's seconds once."""
        values, seconds = self.scorer.score(archs)
        identity = self.searcher.space.identity
        for arch, spent in zip(archs, seconds, strict=True):
            key = identity(arch)
            if key not in self._charged:
                self._charged.add(key)
                self.proxy_seconds += float(spent)
        return values

    def best(self, archs: Sequence[Any]) -> Any | None:
        """The arg-max by proxy (first of ties), or None if every score is NaN."""
        values = self.scores(archs)
        finite = np.isfinite(values)
        if not finite.any():
            return None
        return archs[int(np.argmax(np.where(finite, values, -np.inf)))]

    def warm_start(self) -> list[Any]:
        """Architectures to evaluate before the algorithm proposes any."""
        return []

    @abstractmethod
    def choose(self, proposal: Proposal) -> Any:
        """The architecture to evaluate for ``proposal``."""


class KCandidates(Assistance):
    """GradSign's assistance: the proxy's arg-max of ``k`` candidates."""

    name = "k"

    def __init__(self, scorer: ProxyScorer, *, k: int = 10) -> None:
        if k < 1:
            raise ZeronasUserError(f"k candidates needs k >= 1, got {k}")
        super().__init__(scorer)
        self.k = int(k)

    def choose(self, proposal: Proposal) -> Any:
        if proposal.candidates is None:
            return proposal.default
        picked = self.best(proposal.candidates(self.k))
        return proposal.default if picked is None else picked


class Warmup(Assistance):
    """zero-cost-nas' warm-up: the ``top`` best of ``pool`` random architectures by proxy, best
    first, are evaluated before anything else (``top`` None: the algorithm's own warm-start
    size, REA's population). The top holds distinct architectures; NaN-scored ones are left out."""

    name = "warmup"

    def __init__(self, scorer: ProxyScorer, *, pool: int = 3000, top: int | None = None) -> None:
        if pool < 1 or (top is not None and not 1 <= top <= pool):
            raise ZeronasUserError(f"warm-up needs pool >= 1 and 1 <= top <= pool, got pool {pool}, top {top}")
        super().__init__(scorer)
        self.pool, self.top = int(pool), top

    def warm_start(self) -> list[Any]:
        space = self.searcher.space
        pool = [space.sample(self.rng) for _ in range(self.pool)]
        values = self.scores(pool)
        top = self.top if self.top is not None else self.searcher.warm_start_size
        chosen, seen = [], set()
        for i in np.argsort(-values, kind="stable"):  # the best distinct architectures: the pool may repeat one
            identity = space.identity(pool[i])
            if np.isfinite(values[i]) and identity not in seen:
                seen.add(identity)
                chosen.append(pool[i])
                if len(chosen) == top:
                    break
        return chosen

    def choose(self, proposal: Proposal) -> Any:
        return proposal.default


class Move(Assistance):
    """zero-cost-nas' move: the best of every neighbour of the parent by proxy; with
    probability ``epsilon`` a uniformly random neighbour instead."""

    name = "move"

    def __init__(self, scorer: ProxyScorer, *, epsilon: float = 0.25) -> None:
        if not 0 <= epsilon <= 1:
            raise ZeronasUserError(f"move needs 0 <= epsilon <= 1, got {epsilon}")
        super().__init__(scorer)
        self.epsilon = float(epsilon)

    def choose(self, proposal: Proposal) -> Any:
        if proposal.candidates is None:
            return proposal.default
        parent = proposal.parent if proposal.parent is not None else proposal.default
        neighbours = self.searcher.space.neighbours(parent)
        if self.rng.random() < self.epsilon:
            return neighbours[int(self.rng.integers(len(neighbours)))]
        picked = self.best(neighbours)
        return proposal.default if picked is None else picked


ASSISTANCE = {"k": KCandidates, "warmup": Warmup, "move": Move}


def make_assistance(spec: str, scorer: ProxyScorer) -> Assistance:
    """An Assistance from its command-line spelling: ``k10`` (k candidates, k = 10), ``warmup``,
    ``warmup3000`` (pool size), ``move`` or ``move0.25`` (epsilon)."""
    for name, cls in ASSISTANCE.items():
        if spec.startswith(name):
            rest = spec[len(name):]
            try:
                if not rest and cls is not KCandidates:  # k always names its count: k10
                    return cls(scorer)
                if cls is KCandidates:
                    return cls(scorer, k=int(rest))
                if cls is Warmup:
                    return cls(scorer, pool=int(rest))
                return cls(scorer, epsilon=float(rest))
            except ValueError:
                break
    raise ZeronasUserError(f"unknown assistance {spec!r}; use k<N> (e.g. k10), warmup[<pool>] or move[<epsilon>]")
