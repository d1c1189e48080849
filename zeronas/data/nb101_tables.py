"""The three NAS-Bench-101 tables in ``nasbench101/``: specs with accuracies, and hash-keyed results.

- ``nb101_2500_spec_acc.csv``: 2,500 pruned cells, one single-run 108-epoch CIFAR-10 accuracy
  each (a fraction; most likely test accuracy).
- ``nb101_500_zc_and_val_acc.csv``: 500 unpruned NASLib specs (292 distinct cells) with NASLib's
  validation accuracy (percent), params (millions) and 11 zero-cost proxy scores.
- ``nb101_30k_hashkeyed_multifidelity.csv.gz``: 30,001 cells keyed by module hash only, with
  validation accuracy (fraction) after 4/12/36/108-epoch budgets, training time and parameters.

Specs are returned as text (row-major 0/1 matrix, op-name tuple); turning them into
architectures and hashes is the space's job (:mod:`zeronas.spaces.nb101`).
"""

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

SPEC_FILE = "nasbench101/nb101_2500_spec_acc.csv"
NASLIB_FILE = "nasbench101/nb101_500_zc_and_val_acc.csv"
HASH_FILE = "nasbench101/nb101_30k_hashkeyed_multifidelity.csv.gz"

# NASLib's integer op codes in its NAS-Bench-101 specs.
NASLIB_OPS = {"0": "input", "1": "output", "2": "maxpool3x3", "3": "conv1x1-bn-relu", "4": "conv3x3-bn-relu"}


@dataclass(frozen=True)
class NB101Specs:
    """Cells given as specs: ``matrices[i]`` (row-major 0/1 string) and ``ops[i]`` (op names).

    ``columns`` holds the numeric columns as float64 arrays, in file units.
    """

    matrices: tuple[str, ...]
    ops: tuple[tuple[str, ...], ...]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.matrices)

    def column(self, name: str) -> np.ndarray:
        return _column(self.columns, name, "NAS-Bench-101 spec")

    def texts(self) -> list[str]:
        """Each cell as the space's one-line text ``MATRIX OPS`` (``ops`` joined by ``|``)."""
        return [f"{m} {'|'.join(o)}" for m, o in zip(self.matrices, self.ops)]


@dataclass(frozen=True)
class NB101HashTable:
    """Results keyed by NAS-Bench-101 module hash (32 hex); numeric columns as float64 arrays."""

    module_hash: tuple[str, ...]
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.module_hash)

    def column(self, name: str) -> np.ndarray:
        return _column(self.columns, name, "NAS-Bench-101 hash-table")

    def rows_of(self, hashes: Sequence[str]) -> np.ndarray:
        """Row of each module hash (int64), -1 where the table has none."""
        index = _hash_index(self.module_hash)
        return np.array([index.get(h, -1) for h in hashes], dtype=np.int64)


def _column(columns: dict[str, np.ndarray], name: str, what: str) -> np.ndarray:
    if name not in columns:
        raise ZeronasUserError(f"unknown {what} column {name!r}; choose from {', '.join(sorted(columns))}")
    return columns[name]


@lru_cache(maxsize=4)
def _hash_index(hashes: tuple[str, ...]) -> dict[str, int]:
    return {h: i for i, h in enumerate(hashes)}


def _numeric(header: list[str], body: list[list[str]], skip: set[str]) -> dict[str, np.ndarray]:
    return {
        name: np.array([float(row[j]) for row in body], dtype=np.float64)
        for j, name in enumerate(header)
        if name not in skip
    }


def _read_csv(path: str) -> tuple[list[str], list[list[str]]]:
    # newline="" lets csv handle the CRLF line ends of these files.
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="ascii") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ZeronasUserError(f"{path} is empty; restore it from the data directory's source")
    return rows[0], rows[1:]


def load_nb101_specs(data_dir: str | os.PathLike[str] | None = None) -> NB101Specs:
    """The 2,500-cell file (cached): pruned specs, ``value`` = 108-epoch accuracy as a fraction."""
    return _load_specs(str(data_file(SPEC_FILE, data_dir)))


@lru_cache(maxsize=4)
def _load_specs(path: str) -> NB101Specs:
    header, body = _read_csv(path)
    m, o = header.index("matrix_rowmajor"), header.index("ops")
    return NB101Specs(
        matrices=tuple(row[m] for row in body),
        ops=tuple(tuple(row[o].split("|")) for row in body),
        columns=_numeric(header, body, skip={"matrix_rowmajor", "ops"}),
    )


def load_nb101_naslib(data_dir: str | os.PathLike[str] | None = None) -> NB101Specs:
    """The 500-spec NASLib file (cached), op codes translated to NAS-Bench-101 op names.

    Specs are unpruned (7 vertices); ``val_accuracy`` is in percent, ``params`` in millions,
    the other columns are NASLib's zero-cost proxy scores. Several rows share one cell.
    """
    return _load_naslib(str(data_file(NASLIB_FILE, data_dir)))


@lru_cache(maxsize=4)
def _load_naslib(path: str) -> NB101Specs:
    header, body = _read_csv(path)
    m, o = header.index("adjacency_7x7_flat"), header.index("ops")
    try:
        ops = tuple(tuple(NASLIB_OPS[code] for code in row[o].split("|")) for row in body)
    except KeyError as bad:
        raise ZeronasUserError(f"{path}: unknown NASLib op code {bad}; the file is damaged, restore it") from None
    return NB101Specs(
        matrices=tuple(row[m] for row in body),
        ops=ops,
        columns=_numeric(header, body, skip={"adjacency_7x7_flat", "ops"}),
    )


def load_nb101_hash_table(data_dir: str | os.PathLike[str] | None = None) -> NB101HashTable:
    """The 30k hash-keyed multi-fidelity table (cached); accuracies as fractions."""
    return _load_hash_table(str(data_file(HASH_FILE, data_dir)))


@lru_cache(maxsize=4)
def _load_hash_table(path: str) -> NB101HashTable:
    header, body = _read_csv(path)
    h = header.index("module_hash")
    hashes = tuple(row[h] for row in body)
    if len(set(hashes)) != len(hashes):
        raise ZeronasUserError(f"{path}: repeated module hashes; the file is damaged, restore it")
    return NB101HashTable(module_hash=hashes, columns=_numeric(header, body, skip={"module_hash"}))
