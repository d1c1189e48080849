"""One call from benchmark to report folder: measure, study the linear-region count, render."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from zeronas.report.build import DEFAULT_PROXIES, Measurements, measure
from zeronas.report.linear_region_study import PROXY as LINEAR_REGIONS
from zeronas.report.linear_region_study import linear_region_study
from zeronas.report.render import write_report
from zeronas.runner import ResultStore
from zeronas.spaces import SPACES


def make_report(
    out_dir: str | os.PathLike[str],
    *,
    results: str | os.PathLike[str] | None = None,
    space: str = "nb201",
    datasets: Sequence[str] = ("cifar10", "cifar100", "imagenet16"),
    sample: int = 1000,
    seeds: int = 3,
    proxies: Sequence[str] = DEFAULT_PROXIES,
    ensemble: bool = True,
    ensemble_members: Sequence[str] | None = None,
    selection_sample: int = 1000,
    aggregation: str = "log_rank",
    nan_policy: str = "drop",
    resamples: int = 1000,
    study_linear_regions: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    command: str = "",
    workers: int = 1,
    progress: bool = True,
) -> tuple[Measurements, dict[str, Path]]:
    """Score, measure and write ``out_dir``/report.md, report.html, summary.json and figures/.

    ``workers`` scoring processes run side by side (see :func:`zeronas.runner.score_archs`).
    Scores go to ``results`` (default ``out_dir``/results.jsonl), so a rerun rescores nothing
    already there. The linear-region study runs when ``linear_regions`` is among ``proxies``.
    Returns the measurements and the written paths.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    results_path = Path(results) if results is not None else out / "results.jsonl"
    store = ResultStore(results_path)  # read once; the study and the time total use it too
    m = measure(store, space=space, datasets=datasets, sample=sample, seeds=seeds, proxies=proxies,
                ensemble=ensemble, ensemble_members=ensemble_members, selection_sample=selection_sample,
                aggregation=aggregation,
                nan_policy=nan_policy, resamples=resamples, data_dir=data_dir, workers=workers, progress=progress)
    variants = None
    if study_linear_regions and LINEAR_REGIONS in proxies:
        dataset = "cifar10" if "cifar10" in m.datasets else m.datasets[0]
        search_space = SPACES[space](data_dir)
        cells = [search_space.parse(cell) for cell in m.cells]
        variants = linear_region_study(search_space, cells, m.accuracy[dataset], dataset=dataset, store=store,
                                       resamples=resamples, data_dir=data_dir, workers=workers,
                                       progress=progress)
        m.settings["linear_region_dataset"] = dataset
    m.seconds = time.perf_counter() - start
    paths = write_report(m, out, linear_regions=variants, command=command,
                         scoring_seconds=store.seconds_needed())
    paths["results"] = results_path
    return m, paths
