"""Cells per minute of ``score_archs`` in one process against ``--workers`` single-thread processes.

The same seeded NAS-Bench-201 cells are scored three ways with the report's proxy set on
CIFAR-10: one process with torch's default thread count (``serial``), one process with one
thread (``serial@1``), and ``workers`` spawned processes of one thread each. Each run starts from
an empty store; the worker run's time includes starting the processes. The scores of the
worker run are compared with the serial ones (largest relative difference).

Usage: python benchmarks/workers_speed.py [--cells 40] [--workers 2] [--proxies a,b] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from zeronas.evaluate import sample_indices
from zeronas.experiments import DEFAULT_PROXIES
from zeronas.runner import score_archs
from zeronas.spaces import NB201Space


def run(space, cells, proxies, workers, threads=None):
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    scores = score_archs(space, cells, dataset="cifar10", proxies=proxies, seed=0, workers=workers, progress=False)
    seconds = time.perf_counter() - start
    torch.set_num_threads(previous)
    return scores, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--proxies", default=None, help="comma-separated (default: the report's proxy set)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    proxies = args.proxies.split(",") if args.proxies else [p for p in DEFAULT_PROXIES if p != "ensemble"]
    space = NB201Space(None)
    archs = space.all_archs()
    cells = [archs[i] for i in sample_indices(len(archs), args.cells, 0)]

    serial, t_serial = run(space, cells, proxies, 1)
    _, t_single = run(space, cells, proxies, 1, threads=1)
    parallel, t_workers = run(space, cells, proxies, args.workers)
    worst = 0.0
    for name in proxies:
        a, b = serial[name], parallel[name]
        both = np.isfinite(a) & np.isfinite(b)
        assert (np.isfinite(a) == np.isfinite(b)).all(), f"{name}: NaN pattern differs"
        rel = np.abs(a[both] - b[both]) / np.maximum(np.abs(a[both]), 1e-12)
        worst = max(worst, float(rel.max(initial=0.0)))
    result = {
        "cells": args.cells, "proxies": proxies, "torch_threads": torch.get_num_threads(), "workers": args.workers,
        "seconds": {"serial": t_serial, "serial@1": t_single, "workers": t_workers},
        "cells_per_minute": {k: 60 * args.cells / v for k, v in
                             {"serial": t_serial, "serial@1": t_single, "workers": t_workers}.items()},
        "speedup_vs_serial": t_serial / t_workers, "largest_relative_difference": worst,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
