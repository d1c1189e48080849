"""The NAS-Bench-201 per-seed table: each cell's 200-epoch validation accuracy per training seed
and its training time, per dataset (``nasbench201/nb201_perseed_valid_acc_train_time.csv.gz``)."""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError

PERSEED_FILE = "nasbench201/nb201_perseed_valid_acc_train_time.csv.gz"
# zeronas dataset name -> the column prefix of the per-seed file
PREFIX = {"cifar10": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet"}
MAX_SEEDS = 3


@dataclass(frozen=True)
class NB201PerSeed:
    """``valid_acc[dataset]``: (15,625, 3) %, NaN where a cell has two seeds; ``train_seconds[dataset]``:
    (15,625,) seconds of the whole 200-epoch run; rows in official index order, named by ``arch_str``."""

    arch_str: tuple[str, ...]
    valid_acc: dict[str, np.ndarray]
    train_seconds: dict[str, np.ndarray]


def load_nb201_perseed(data_dir: str | os.PathLike[str] | None = None) -> NB201PerSeed:
    """Load the per-seed table (cached per path)."""
    return _load(str(data_file(PERSEED_FILE, data_dir)))


def _number(text: str) -> float:
    return float(text) if text else np.nan


@lru_cache(maxsize=2)
def _load(path: str) -> NB201PerSeed:
    with gzip.open(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        body = list(reader)
    column = {name: j for j, name in enumerate(header)}
    try:
        index = np.array([int(row[column["arch_index"]]) for row in body])
        arch_str = tuple(row[column["arch_str"]] for row in body)
        valid, seconds = {}, {}
        for dataset, prefix in PREFIX.items():
            valid[dataset] = np.array([[_number(row[column[f"{prefix}_valid_acc_s{s}"]]) for s in range(MAX_SEEDS)]
                                       for row in body], dtype=np.float64)
            seconds[dataset] = np.array([_number(row[column[f"{prefix}_train_all_time_200ep_s"]]) for row in body],
                                        dtype=np.float64)
    except (KeyError, ValueError, IndexError) as exc:
        raise ZeronasUserError(f"{path} is not the NAS-Bench-201 per-seed table ({exc}); restore the file") from None
    if not np.array_equal(index, np.arange(len(body))):
        raise ZeronasUserError(f"{path}: rows are not in arch_index order; the file is damaged, restore it")
    for array in (*valid.values(), *seconds.values()):
        array.setflags(write=False)  # cached and shared: read-only
    return NB201PerSeed(arch_str=arch_str, valid_acc=valid, train_seconds=seconds)
