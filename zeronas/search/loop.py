"""One search run: ask, evaluate, tell, until the budget is spent."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.search.base import Searcher

BUDGET_UNITS = ("evals", "seconds")


@dataclass
class Trajectory:
    """The evaluations of one run, in order: architectures, fitness (%, higher is better),
    training seconds each, and the proxy seconds spent before each (cumulative)."""

    archs: list[Any] = field(default_factory=list)
    fitness: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    proxy_seconds: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.archs)

    def best_index(self) -> int:
        """Position of the best evaluation by fitness (the first of ties; NaN never best)."""
        if not self.archs:
            raise ZeronasUserError("the search evaluated nothing within its budget; raise the budget")
        values = np.asarray(self.fitness, dtype=np.float64)
        return int(np.argmax(np.where(np.isfinite(values), values, -np.inf)))

    def incumbents(self) -> np.ndarray:
        """After each evaluation, the position of the best one so far (-1 while none has a
        finite fitness)."""
        best, out, top = -1, [], -math.inf
        for i, value in enumerate(self.fitness):
            if math.isfinite(value) and value > top:
                best, top = i, value
            out.append(best)
        return np.asarray(out, dtype=np.int64)


def run_search(searcher: Searcher, evaluate: Callable[[Any], tuple[float, float]], *, budget: float,
               budget_unit: str = "evals", charge_proxy: bool = False,
               on_result: Callable[[Any, float, float], None] | None = None) -> Trajectory:
    """Run ``searcher`` against ``evaluate(arch) -> (accuracy %, seconds)`` until ``budget``.

    ``budget_unit="evals"``: that many evaluations. ``"seconds"``: training seconds (plus the
    proxy's seconds when ``charge_proxy``); an evaluation that would exceed the budget is not
    counted and ends the run, as NAS-Bench-201's random search and REA stop.
    """
    if budget_unit not in BUDGET_UNITS:
        raise ZeronasUserError(f"unknown budget unit {budget_unit!r}; choose from {', '.join(BUDGET_UNITS)}")
    if not budget > 0 or (budget_unit == "evals" and not float(budget).is_integer()):
        raise ZeronasUserError(f"the budget must be > 0 (a whole number of evaluations), got {budget}")
    trajectory = Trajectory()
    spent = 0.0
    while budget_unit != "evals" or len(trajectory) < budget:
        arch = searcher.ask()
        proxy = searcher.assist.proxy_seconds if searcher.assist is not None else 0.0
        accuracy, seconds = evaluate(arch)
        if budget_unit == "seconds":
            if not seconds > 0:
                raise ZeronasUserError(f"evaluate returned {seconds} seconds for {searcher.space.format(arch)}; "
                                       "a budget in seconds needs each evaluation's positive cost")
            total = spent + seconds + (proxy if charge_proxy else 0.0)
            if total > budget:
                break
            spent += seconds
        searcher.tell(arch, accuracy)
        trajectory.archs.append(arch)
        trajectory.fitness.append(float(accuracy))
        trajectory.train_seconds.append(float(seconds))
        trajectory.proxy_seconds.append(float(proxy))
        if on_result is not None:
            on_result(arch, float(accuracy), float(seconds))
    return trajectory
