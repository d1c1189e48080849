"""NAS-Bench-101 (Ying et al., ICML 2019) on CIFAR-10, from the three tables in ``nasbench101/``.

Cells with a spec come from two files: the 2,500-cell file (one single-run 108-epoch
accuracy each, most likely test accuracy: the default metric) and NASLib's 500-spec file
(292 distinct cells with NASLib's validation accuracy). The 30k table has no specs; it is
looked up by module hash for the cells of those two files it holds (163 + 26 cells).

All accuracies are single training runs (one of NB101's three repeats), in percent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from zeronas.benchmarks._registry import register_benchmark
from zeronas.benchmarks.base import Benchmark, FidelityRecords, Metric, MultiFidelityTraining
from zeronas.data.nb101_tables import load_nb101_hash_table, load_nb101_naslib, load_nb101_specs
from zeronas.data.paths import resolve_data_dir
from zeronas.spaces.nb101 import NB101Arch, NB101Space, identity, parse

_DATASETS = ("cifar10",)
DEFAULT_METRIC = "test_acc_108ep"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(DEFAULT_METRIC, description="single run, 108 epochs, most likely test accuracy (2,500-cell file)"),
        *(
            Metric(f"val_acc_{e}ep", description=f"validation accuracy, {e}-epoch budget, single run (30k table)")
            for e in (4, 12, 36, 108)
        ),
        Metric(
            "naslib_val_acc",
            description="NASLib's validation accuracy, mean of the file's rows of a cell (500-spec file)",
        ),
        Metric("trainable_parameters", unit="count", description="NB101's trainable parameter count (30k table)"),
    )
}
# Metrics read from the 30k table, and the factor to their unit (fraction -> percent).
_HASH_TABLE_SCALE = {"val_acc_4ep": 100.0, "val_acc_12ep": 100.0, "val_acc_36ep": 100.0,
                     "val_acc_108ep": 100.0, "trainable_parameters": 1.0}


@dataclass(frozen=True)
class _Catalogue:
    """Every cell with a spec (2,500 file, then 500 file; distinct identities) and its values."""

    archs: tuple[NB101Arch, ...]
    identities: tuple[str, ...]
    by_identity: dict[str, dict[str, float]]  # metric -> identity -> value, for the spec-file metrics


@lru_cache(maxsize=4)
def _catalogue(data_dir: str) -> _Catalogue:
    specs = load_nb101_specs(data_dir)
    naslib = load_nb101_naslib(data_dir)
    spec_archs = [parse(t) for t in specs.texts()]
    naslib_archs = [parse(t) for t in naslib.texts()]
    spec_ids = [identity(a) for a in spec_archs]
    naslib_ids = [identity(a) for a in naslib_archs]

    test_acc = dict(zip(spec_ids, (100.0 * specs.column("value")).tolist()))
    # NASLib stores one of NB101's three repeats per row, so a cell's rows may disagree:
    # its value is their mean.
    sums: dict[str, list[float]] = {}
    for key, value in zip(naslib_ids, naslib.column("val_accuracy").tolist()):
        sums.setdefault(key, []).append(value)
    naslib_acc = {key: float(np.mean(values)) for key, values in sums.items()}

    archs, ids, seen = [], [], set()
    for arch, key in zip(spec_archs + naslib_archs, spec_ids + naslib_ids):
        if key not in seen:
            seen.add(key)
            archs.append(arch)
            ids.append(key)
    return _Catalogue(tuple(archs), tuple(ids), {DEFAULT_METRIC: test_acc, "naslib_val_acc": naslib_acc})


@register_benchmark
class NB101Benchmark(Benchmark, MultiFidelityTraining):
    """NAS-Bench-101 on CIFAR-10: the cells of the 2,500- and 500-spec files, ground truth by hash."""

    name = "nb101"
    description = "NAS-Bench-101: 2,500 + 292 cells with specs, CIFAR-10, single-run accuracies"
    # Proxy options the benchmark's papers use (epsinas: its NB101 weight pair).
    proxy_defaults = {"epsinas": {"weights": (1e-4, 10.0)}}

    @cached_property
    def space(self) -> NB101Space:
        return NB101Space(self.data_dir)

    @property
    def datasets(self) -> tuple[str, ...]:
        return _DATASETS

    def metrics(self, dataset: str) -> dict[str, Metric]:
        self.check_dataset(dataset)
        return dict(METRICS)

    def default_metric(self, dataset: str) -> str:
        self.check_dataset(dataset)
        return DEFAULT_METRIC

    def _cells(self) -> _Catalogue:
        return _catalogue(str(resolve_data_dir(self.data_dir)))

    def population(self, dataset: str, metric: str | None = None) -> Sequence[NB101Arch]:
        """Cells with a spec and a value of ``metric``: 2,500-file order, then 500-file order."""
        chosen = self.metric(dataset, metric).name
        cells = self._cells()
        has_value = np.isfinite(self._lookup(cells.identities, dataset, chosen))
        return [arch for arch, keep in zip(cells.archs, has_value) if keep]

    def fidelity_records(self, dataset: str) -> FidelityRecords:
        """The cells with a spec found in the 30k table (189): single-run validation accuracy after
        the 4-, 12-, 36- and 108-epoch budgets, each a separate NAS-Bench-101 run. The table
        records only the 108-epoch training time; a shorter budget's time is approximated as
        that x epochs / 108."""
        cells = self.population(dataset, "val_acc_108ep")
        identities = [identity(a) for a in cells]
        epochs = (4, 12, 36, 108)
        accuracy = np.stack([self._lookup(identities, dataset, f"val_acc_{e}ep") for e in epochs], axis=1)
        table = load_nb101_hash_table(self.data_dir)
        time_108 = table.column("training_time_108ep_s")[table.rows_of(identities)]
        keep = np.isfinite(accuracy).all(axis=1) & np.isfinite(time_108)
        seconds = time_108[:, None] * np.array(epochs, dtype=np.float64)[None, :] / 108.0
        return FidelityRecords(archs=tuple(a for a, k in zip(cells, keep, strict=True) if k),
                               identities=tuple(i for i, k in zip(identities, keep, strict=True) if k),
                               epochs=epochs, accuracy=accuracy[keep], seconds=seconds[keep],
                               description="NAS-Bench-101 single-run validation accuracy at 4/12/36/108 epochs "
                                           "(30k table; shorter budgets' times approximated from the 108-epoch time)")

    def _lookup(self, identities: Sequence[str], dataset: str, metric: str) -> np.ndarray:
        if metric in _HASH_TABLE_SCALE:
            table = load_nb101_hash_table(self.data_dir)
            rows = table.rows_of(identities)
            column = table.column(metric) * _HASH_TABLE_SCALE[metric]
            return np.where(rows >= 0, column[np.maximum(rows, 0)], np.nan)
        values = self._cells().by_identity[metric]
        return np.array([values.get(key, np.nan) for key in identities], dtype=np.float64)
