"""The NAS-Bench-201 ground-truth table: one row per cell, in official index order."""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError

TABLE_FILE = "nasbench201/nb201_ground_truth.csv.gz"


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

    def rows_of(self, arch_strs: Sequence[str]) -> np.ndarray:
        """Row of each architecture string (int64), -1 where the table has none."""
        index = _index(self.arch_str)
        return np.array([index.get(s, -1) for s in arch_strs], dtype=np.int64)


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
