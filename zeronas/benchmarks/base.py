"""The interface every benchmark implements: a space, its datasets, and ground truth by identity."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.spaces.base import SearchSpace


@dataclass(frozen=True)
class Metric:
    """A ground-truth quantity: its name, unit, orientation and what it measures."""

    name: str
    higher_is_better: bool = True
    unit: str = "%"
    description: str = ""


@dataclass(frozen=True, eq=False)
class TrainingRecords:
    """Real training runs of a benchmark's architectures, for simulating search.

    ``accuracy``: (architectures, seeds) validation accuracy in % (higher is better) of each
    training seed, NaN where an architecture has fewer seeds; ``seconds``: (architectures,)
    wall-clock seconds of one training run on the schedule of ``epochs``. Rows are named by
    ``identities`` (``space.identity``).
    """

    identities: tuple[str, ...]
    accuracy: np.ndarray
    seconds: np.ndarray
    epochs: int
    description: str

    def rows(self, identities: Sequence[str]) -> np.ndarray:
        """Row of each identity (int64); raises MissingGroundTruth naming the first unknown one."""
        index = self._index()
        try:
            return np.fromiter((index[i] for i in identities), dtype=np.int64, count=len(identities))
        except KeyError as exc:
            raise MissingGroundTruth(f"no training record for architecture {exc.args[0]!r}; "
                                     "search the benchmark's own space") from None

    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {identity: row for row, identity in enumerate(self.identities)}
            object.__setattr__(self, "_index_cache", cached)
        return cached


class SimulatedTraining(ABC):
    """Capability of a benchmark that recorded each training seed and its cost, so search can be
    simulated: a query draws one seed's accuracy and is charged that run's time."""

    @abstractmethod
    def training_records(self, dataset: str) -> TrainingRecords:
        """The per-seed validation accuracies and training times on ``dataset``."""


@dataclass(frozen=True, eq=False)
class FidelityRecords:
    """Training runs of a benchmark's architectures at several budgets (fidelities).

    ``epochs``: the budgets, increasing; ``accuracy``: (architectures, fidelities) validation
    accuracy in % (higher is better) of the run at each budget; ``seconds``: the wall-clock
    cost of each of those runs. Rows are named by ``identities``; ``archs`` are the
    architectures themselves (a multi-fidelity search draws from them).
    """

    archs: tuple[Any, ...]
    identities: tuple[str, ...]
    epochs: tuple[int, ...]
    accuracy: np.ndarray
    seconds: np.ndarray
    description: str


class MultiFidelityTraining(ABC):
    """Capability of a benchmark that recorded runs of its architectures at several budgets,
    so a multi-fidelity search (Hyperband) can be simulated on them."""

    @abstractmethod
    def fidelity_records(self, dataset: str) -> FidelityRecords:
        """The architectures with a run at every budget, and those runs."""


class MissingGroundTruth(ZeronasUserError):
    """An architecture has no ground truth for the requested dataset and metric."""


class Benchmark(ABC):
    """A search space with trained ground truth on one or more datasets.

    Ground truth is looked up by architecture identity (``space.identity``), never by position,
    so any list of architectures of the space can be paired with it.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Cells a correlation draws when the user names no sample size (None: the whole population).
    default_sample: ClassVar[int | None] = None
    # Options the benchmark's papers use for a proxy given by name, e.g. epsinas' weights.
    proxy_defaults: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = data_dir

    @property
    @abstractmethod
    def space(self) -> SearchSpace:
        """The search space the architectures come from."""

    @property
    @abstractmethod
    def datasets(self) -> tuple[str, ...]:
        """Dataset names (see :mod:`zeronas.data.datasets`) with ground truth."""

    @abstractmethod
    def metrics(self, dataset: str) -> dict[str, Metric]:
        """The ground-truth metrics available for ``dataset``, by name."""

    @abstractmethod
    def default_metric(self, dataset: str) -> str:
        """The metric correlations use unless told otherwise."""

    @abstractmethod
    def population(self, dataset: str, metric: str | None = None) -> Sequence[Any]:
        """Every architecture with ground truth for ``dataset`` and ``metric``, in a fixed order."""

    @abstractmethod
    def _lookup(self, identities: Sequence[str], dataset: str, metric: str) -> np.ndarray:
        """Values for ``identities`` (float64), NaN where an identity has no value."""

    def params_metric(self, dataset: str) -> str | None:
        """The metric recording parameter counts over the whole population, if there is one.

        Reports use it to measure how far a sample moves a correlation from its all-cell value.
        """
        return None

    def check_dataset(self, dataset: str) -> str:
        if dataset not in self.datasets:
            raise ZeronasUserError(
                f"benchmark {self.name!r} has no dataset {dataset!r}; choose from {', '.join(self.datasets)}"
            )
        return dataset

    def metric(self, dataset: str, metric: str | None = None) -> Metric:
        """The :class:`Metric` named ``metric`` (default: the dataset's default) for ``dataset``."""
        available = self.metrics(self.check_dataset(dataset))
        name = metric or self.default_metric(dataset)
        if name not in available:
            shown = ", ".join(list(available)[:6]) + (", ..." if len(available) > 6 else "")
            raise ZeronasUserError(
                f"benchmark {self.name!r} has no metric {name!r} for {dataset}; choose from {shown} "
                f"(all: 'zeronas list --benchmarks')"
            )
        return available[name]

    def ground_truth(self, archs: Sequence[Any], dataset: str, metric: str | None = None) -> np.ndarray:
        """Ground truth of each architecture (float64, in ``archs`` order), looked up by identity.

        Raises :class:`MissingGroundTruth` (one line) if any architecture has none.
        """
        chosen = self.metric(dataset, metric)
        identities = [self.space.identity(self.space.as_arch(a)) for a in archs]
        values = np.asarray(self._lookup(identities, dataset, chosen.name), dtype=np.float64)
        missing = np.flatnonzero(~np.isfinite(values))
        if missing.size:
            first = self.space.format(self.space.as_arch(archs[int(missing[0])]))
            raise MissingGroundTruth(
                f"{self.name} has no {chosen.name} on {dataset} for {missing.size} of {len(archs)} architectures "
                f"(first: {first!r}); use architectures from the benchmark's population"
            )
        return values
