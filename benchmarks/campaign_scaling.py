"""Campaign throughput on this machine: local pool and Ray, 1 and 2 workers, in one run.

Scores the same seeded sample of NB201 cells with each executor, start-up timed apart: each
executor first scores ``--warmup`` cells (process start, imports, the data sent once), then
the timed cells. Reports cells per minute, the speed-up of 2 workers over 1, the per-task
overhead of Ray against the pool (a near-free proxy, one cell per task), and the projected
wall time of the full NB201 campaign of the three seed proxies (gradsign, gradalign,
gradalign_gram, epsinas) x 3 datasets, from their measured throughput on a 2-worker pool::

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


SEED_PROXIES = ["gradsign", "gradalign", "gradalign_gram", "epsinas"]


def projection(archs, cells: int, speedup: float, cores: list[int]) -> dict:
    """Wall hours of the full NB201 campaign of the seed proxies, from a measured 2-worker pool.

    Each dataset's seconds per cell come from ``cells`` cells scored by a 2-worker pool (start-up
    excluded); N cores are assumed to scale as 2 do (``speedup`` / 2 per core).
    """
    from zeronas import Evaluator
    from zeronas.runner.executors import LocalPoolExecutor

    sample = [archs[i] for i in np.random.default_rng(2).choice(len(archs), size=cells + 2, replace=False)]
    per_cell = {}
    with LocalPoolExecutor(2) as executor:
        for dataset in ("cifar10", "cifar100", "imagenet16"):
            evaluator = Evaluator("nb201", dataset=dataset, proxies=SEED_PROXIES, progress=False)
            run = measure(executor, evaluator, sample[:2], sample[2:])
            per_cell[dataset] = run["seconds"] / run["timed_cells"]  # wall seconds per cell on 2 workers
    two_core_cell_s = sum(per_cell.values())  # one cell on all three datasets, 2 workers
    one_core_cell_s = two_core_cell_s * speedup  # the same work on one core
    out = {"proxies": SEED_PROXIES, "wall_s_per_cell_2_workers": {d: round(v, 3) for d, v in per_cell.items()},
           "hours": {}}
    for name, n in {"all 15,625": 15625, "de-duplicated 14,125": 14125}.items():
        for c in cores:
            seconds = n * (two_core_cell_s if c == 2 else one_core_cell_s / (c * speedup / 2))
            out["hours"][f"{name}, {c} cores"] = round(seconds / 3600, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=40, help="timed cells per executor")
    parser.add_argument("--warmup", type=int, default=4, help="cells scored before the timing starts")
    parser.add_argument("--proxies", default="gradsign,synflow,params", help="proxies scored per cell")
    parser.add_argument("--overhead-cells", type=int, default=200, help="cells of the per-task overhead test")
    parser.add_argument("--executors", default="pool,ray", help="which executors to time")
    parser.add_argument("--project-cells", type=int, default=40, help="cells per dataset timed for the projection")
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
    speedup = results.get("pool speed-up 2 vs 1", 2.0)
    results["projection"] = projection(archs, args.project_cells, speedup,
                                       [int(c) for c in args.project_cores.split(",")])
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
