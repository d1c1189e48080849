"""The NAS-Bench-201 ground-truth table: one row per cell, in official index order."""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError

TABLE_FILE = "nasbench201/nb201_ground_truth.csv.gz"
DATASETS = ("cifar10", "cifar100", "imagenet16")


@dataclass(frozen=True)
class NB201Table:
    """Columns of the ground-truth table; numeric columns as float64 arrays."""

    arch_str: tuple[str, ...]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.arch_str)

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise ZeronasUserError(
                f"unknown NAS-Bench-201 column {name!r}; choose from {', '.join(sorted(self.columns))}"
            )
        return self.columns[name]

    def index_of(self, arch_str: str) -> int:
        return _index(self.arch_str)[arch_str]


def accuracy_column(dataset: str) -> str:
    """The main ground truth: 200-epoch test accuracy (%), mean over seeds; higher is better."""
    check_dataset(dataset)
    return f"{dataset}_test_acc"


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ZeronasUserError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    return dataset


@lru_cache(maxsize=8)
def _index(arch_strs: tuple[str, ...]) -> dict[str, int]:
    return {s: i for i, s in enumerate(arch_strs)}


def load_nb201_table(data_dir: str | os.PathLike[str] | None = None) -> NB201Table:
    """Load ``nasbench201/nb201_ground_truth.csv.gz`` (cached per path)."""
    return _load(str(data_file(TABLE_FILE, data_dir)))


@lru_cache(maxsize=4)
def _load(path: str) -> NB201Table:
    with gzip.open(path, "rt", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    text_columns = {"arch_str", "naslib_op_indices"}
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        if name in text_columns:
            continue
        columns[name] = np.array([float(row[j]) for row in body], dtype=np.float64)
    arch_str = tuple(row[header.index("arch_str")] for row in body)
    if not np.array_equal(columns["arch_index"], np.arange(len(body))):
        raise ZeronasUserError(f"{path}: rows are not in arch_index order; the file is damaged, restore it")
    return NB201Table(arch_str=arch_str, columns=columns)
