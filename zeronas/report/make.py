"""One call from benchmark to report folder: measure, study the linear-region count, render."""

from __future__ import annotations

import os
import time
from pathlib import Path

from zeronas.experiments.linear_region_study import PROXY as LINEAR_REGIONS
from zeronas.experiments.linear_region_study import applies_to, linear_region_study
from zeronas.experiments.reproduction import Measurements, ReproductionConfig, measure
from zeronas.report.render import write_report
from zeronas.runner import ResultStore
from zeronas.runner.executors import make_executor
from zeronas.runner.table_store import with_tables


def make_report(
    out_dir: str | os.PathLike[str],
    config: ReproductionConfig = ReproductionConfig(),
    *,
    results: str | os.PathLike[str] | None = None,
    study_linear_regions: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    command: str = "",
    workers: int = 1,
    progress: bool = True,
    tables: bool | str | os.PathLike[str] = True,
) -> tuple[Measurements, dict[str, Path]]:
    """Score, measure and write ``out_dir``/report.md, report.html, summary.json and figures/.

    ``workers`` local scoring processes (one pool for the whole report). Scores go to
    ``results`` (default ``out_dir``/results.jsonl), so a rerun rescores nothing already there.
    Scores whose keys match a score table (``tables``: the shipped ones, a campaign directory,
    or False for none) are read from it.
    The linear-region study runs when ``linear_regions`` is among the proxies and the
    benchmark's networks have TE-NAS's thin network.
    Returns the measurements and the written paths.
    """
    start = time.perf_counter()
    out = Path(out_dir)
    results_path = Path(results) if results is not None else out / "results.jsonl"
    with ResultStore(results_path) as results_store, make_executor(workers) as executor:
        # Scores the shipped tables hold (same keys) are read from them; new ones go to results.
        store = with_tables(results_store, tables)
        m = measure(config, store=store, executor=executor, data_dir=data_dir, progress=progress, tables=False)
        variants = None
        if study_linear_regions and LINEAR_REGIONS in config.proxies and applies_to(config.benchmark, data_dir):
            dataset = "cifar10" if "cifar10" in m.datasets else m.datasets[0]
            variants = linear_region_study(config.benchmark, m.cells, m.accuracy[dataset], dataset=dataset,
                                           store=store, executor=executor, resamples=config.resamples,
                                           data_dir=data_dir, progress=progress)
            m.settings["linear_region_dataset"] = dataset
        scoring_seconds = store.seconds_needed()
    m.seconds = time.perf_counter() - start
    paths = write_report(m, out, linear_regions=variants, command=command, scoring_seconds=scoring_seconds)
    paths["results"] = results_path
    return m, paths
