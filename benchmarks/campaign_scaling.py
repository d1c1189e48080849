"""Campaign throughput on this machine: local pool and Ray, 1 and 2 workers, in one run.

Scores the same seeded sample of NB201 cells with each executor, start-up timed apart: each
executor first scores ``--warmup`` cells (process start, imports, the data sent once), then
the timed cells. Reports cells per minute, the speed-up of 2 workers over 1, the per-task
overhead of Ray against the pool (a near-free proxy, one cell per task), and the projected
wall time of the full NB201 campaign from the per-cell single-thread seconds recorded in a
score table::

    python benchmarks/campaign_scaling.py --cells 40 --json scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def _jobs(evaluator, archs):
    from zeronas.runner.task import Job

    return [Job(arch=a, proxy_keys=tuple(evaluator.keys)) for a in archs]


def measure(executor, evaluator, warmup, timed) -> dict:
    context = evaluator.context()
    started = time.perf_counter()
    for _ in executor.run(context, _jobs(evaluator, warmup)):
        pass
    startup = time.perf_counter() - started
    started = time.perf_counter()
    done = sum(1 for _ in executor.run(context, _jobs(evaluator, timed)))
    seconds = time.perf_counter() - started
    return {"startup_and_warmup_s": round(startup, 2), "timed_cells": done, "seconds": round(seconds, 2),
            "cells_per_minute": round(60 * done / seconds, 2)}


def make(kind: str, workers: int, chunk_size: int):
    from zeronas.runner.executors import LocalPoolExecutor

    if kind == "pool":
        return LocalPoolExecutor(workers)
    from zeronas.runner.executors.ray import RayExecutor

    return RayExecutor(workers=workers, chunk_size=chunk_size, init_options={"num_cpus": workers})


def projection(table_dir: Path | None, workers: list[int]) -> dict:
    """Wall hours of the full campaign from recorded seconds per cell (sum over its proxies)."""
    import pyarrow.compute as pc

    from zeronas.campaign import load_scores

    table = load_scores(table_dir)
    if table.num_rows == 0:
        return {}
    out = {}
    for proxies_name, proxies in {"seed proxies": ["gradsign", "gradalign", "gradalign_gram", "epsinas"],
                                  "all in the table": sorted(set(table["proxy"].to_pylist()))}.items():
        part = table.filter(pc.is_in(table["proxy"], value_set=__import__("pyarrow").array(proxies)))
        per_cell = part.group_by(["dataset", "arch"]).aggregate([("seconds", "sum")])
        by_dataset = {d: float(np.mean([s for dd, s in zip(per_cell["dataset"].to_pylist(),
                                                            per_cell["seconds_sum"].to_pylist(), strict=True)
                                        if dd == d])) for d in sorted(set(per_cell["dataset"].to_pylist()))}
        mean = float(np.mean(list(by_dataset.values())))
        cells = {"all 15,625": 15625, "de-duplicated 8,765": 8765}
        out[proxies_name] = {
            "proxies": proxies, "single_thread_s_per_cell": by_dataset,
            "hours_3_datasets": {f"{name}, {w} cores": round(n * 3 * mean / w / 3600, 2)
                                 for name, n in cells.items() for w in workers},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=40, help="timed cells per executor")
    parser.add_argument("--warmup", type=int, default=4, help="cells scored before the timing starts")
    parser.add_argument("--proxies", default="gradsign,synflow,params", help="proxies scored per cell")
    parser.add_argument("--overhead-cells", type=int, default=200, help="cells of the per-task overhead test")
    parser.add_argument("--executors", default="pool,ray", help="which executors to time")
    parser.add_argument("--tables", type=Path, default=None, help="score tables for the projection (default: shipped)")
    parser.add_argument("--project-cores", default="2,16,64", help="core counts of the projection")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from zeronas import Evaluator
    from zeronas.spaces import get_space

    space = get_space("nb201")
    archs = space.all_archs()
    index = np.random.default_rng(0).choice(len(archs), size=args.warmup + args.cells, replace=False)
    warmup, timed = [archs[i] for i in index[:args.warmup]], [archs[i] for i in index[args.warmup:]]
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=args.proxies.split(","), progress=False)
    results: dict = {"cells": args.cells, "proxies": args.proxies, "cpu_count": os.cpu_count(), "runs": {}}
    for kind in args.executors.split(","):
        for workers in (1, 2):
            executor = make(kind, workers, chunk_size=1)
            try:
                results["runs"][f"{kind} x{workers}"] = measure(executor, evaluator, warmup, timed)
            finally:
                executor.close()
            print(kind, workers, results["runs"][f"{kind} x{workers}"], flush=True)
        one, two = results["runs"][f"{kind} x1"], results["runs"][f"{kind} x2"]
        results[f"{kind} speed-up 2 vs 1"] = round(two["cells_per_minute"] / one["cells_per_minute"], 3)
    # Per-task overhead: a near-free proxy, one cell per task, one worker.
    cheap = Evaluator("nb201", dataset="cifar10", proxies=["params"], progress=False)
    many = [archs[i] for i in np.random.default_rng(1).choice(len(archs), size=args.overhead_cells, replace=False)]
    per_task = {}
    for kind in args.executors.split(","):
        executor = make(kind, 1, chunk_size=1)
        try:
            run = measure(executor, cheap, many[:4], many[4:])
        finally:
            executor.close()
        per_task[kind] = round(1000 * run["seconds"] / run["timed_cells"], 2)
    results["ms_per_task_params_only"] = per_task
    if "ray" in per_task and "pool" in per_task:
        results["ray_overhead_ms_per_task"] = round(per_task["ray"] - per_task["pool"], 2)
    results["projection"] = projection(args.tables, [int(c) for c in args.project_cores.split(",")])
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
