"""NAS-Bench-201 (Dong & Yang, ICLR 2020): 15,625 cells trained on three datasets.

Ground truth comes from ``nasbench201/nb201_ground_truth.csv.gz``, one row per architecture
string; a metric of a dataset is any table column that names the dataset, e.g.
``cifar10_test_acc`` (the default: 200-epoch test accuracy, mean over seeds) or
``cifar10_valid_test_acc_v1_0`` (the "cifar10-valid" column older papers correlate with).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from zeronas.benchmarks._registry import register_benchmark
from zeronas.benchmarks.base import Benchmark, Metric, SimulatedTraining, TrainingRecords
from zeronas.data.nb201_perseed import load_nb201_perseed
from zeronas.data.nb201_table import load_nb201_table
from zeronas.spaces.nb201 import NB201Arch, NB201Space

_DATASETS = ("cifar10", "cifar100", "imagenet16")


def _metric(column: str) -> Metric:
    if column.startswith("hw_"):
        unit = "mJ" if "energy" in column else "ms"
        return Metric(column, higher_is_better=False, unit=unit, description="HW-NAS-Bench measurement")
    if column.startswith(("params_M", "flops_M")):
        return Metric(column, higher_is_better=True, unit="M", description="model size, millions")
    description = "200-epoch test accuracy, mean over seeds" if column.endswith("_test_acc") else "accuracy"
    return Metric(column, higher_is_better=True, unit="%", description=description)


@register_benchmark
class NB201Benchmark(Benchmark, SimulatedTraining):
    """NAS-Bench-201 on CIFAR-10, CIFAR-100 and ImageNet16-120; every cell has ground truth."""

    name = "nb201"
    description = "NAS-Bench-201: 15,625 cells, CIFAR-10 / CIFAR-100 / ImageNet16-120"
    default_sample = 1000

    @cached_property
    def space(self) -> NB201Space:
        return NB201Space(self.data_dir)

    @property
    def datasets(self) -> tuple[str, ...]:
        return _DATASETS

    def metrics(self, dataset: str) -> dict[str, Metric]:
        self.check_dataset(dataset)
        columns = load_nb201_table(self.data_dir).columns
        return {name: _metric(name) for name in columns if dataset in name.split("_")}

    def default_metric(self, dataset: str) -> str:
        return f"{self.check_dataset(dataset)}_test_acc"

    def params_metric(self, dataset: str) -> str | None:
        return f"params_M_{self.check_dataset(dataset)}"

    def population(self, dataset: str, metric: str | None = None) -> Sequence[NB201Arch]:
        self.metric(dataset, metric)
        return self.space.all_archs()

    def training_records(self, dataset: str) -> TrainingRecords:
        """Per-seed 200-epoch x-valid accuracy (CIFAR-10: the cifar10-valid setting, trained on 25k
        images) and the 200-epoch training time, from the per-seed table."""
        self.check_dataset(dataset)
        table = load_nb201_perseed(self.data_dir)
        setting = "cifar10-valid" if dataset == "cifar10" else dataset
        return TrainingRecords(identities=table.arch_str, accuracy=table.valid_acc[dataset],
                               seconds=table.train_seconds[dataset], epochs=200,
                               description=f"200-epoch validation accuracy of one training seed ({setting})")

    def _lookup(self, identities: Sequence[str], dataset: str, metric: str) -> np.ndarray:
        table = load_nb201_table(self.data_dir)
        rows = table.rows_of(identities)
        column = table.column(metric)
        return np.where(rows >= 0, column[np.maximum(rows, 0)], np.nan)
