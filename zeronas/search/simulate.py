"""Simulated training from a benchmark's recorded runs: a query returns one random training
seed's validation accuracy and is charged that run's time, so fitness is as noisy as real
training and budgets can be counted in seconds."""

from __future__ import annotations

from typing import Any

import numpy as np

from zeronas.benchmarks.base import SimulatedTraining, TrainingRecords
from zeronas.errors import ZeronasUserError

# NAS-Bench-201 searches train each candidate on a 12-epoch schedule; only the 200-epoch times
# are recorded, so the 12-epoch cost is approximated as the 200-epoch time x 12/200.
NB201_SEARCH_COST_SCALE = 12 / 200


def training_records(benchmark: Any, dataset: str) -> TrainingRecords:
    """The per-seed records of ``benchmark`` on ``dataset`` (one-line error if it has none)."""
    if not isinstance(benchmark, SimulatedTraining):
        raise ZeronasUserError(f"benchmark {benchmark.name!r} records no per-seed training runs, so search on it "
                               "cannot be simulated; search it live with your own evaluate function")
    return benchmark.training_records(dataset)


class SimulatedTrainer:
    """``trainer(arch) -> (accuracy %, seconds)``: a random recorded seed's accuracy (drawn with
    ``rng``) and the run's time x ``cost_scale``."""

    def __init__(self, space: Any, records: TrainingRecords, rng: np.random.Generator, *,
                 cost_scale: float = 1.0) -> None:
        if cost_scale <= 0:
            raise ZeronasUserError(f"cost_scale must be > 0, got {cost_scale}")
        self.space, self.records, self.rng, self.cost_scale = space, records, rng, float(cost_scale)
        self.seeds = np.isfinite(records.accuracy).sum(axis=1)

    def __call__(self, arch: Any) -> tuple[float, float]:
        row = int(self.records.rows([self.space.identity(arch)])[0])
        count = int(self.seeds[row])
        if count == 0:
            return float("nan"), float(self.records.seconds[row]) * self.cost_scale
        finite = np.flatnonzero(np.isfinite(self.records.accuracy[row]))
        seed = finite[int(self.rng.integers(count))]
        return float(self.records.accuracy[row, seed]), float(self.records.seconds[row]) * self.cost_scale
