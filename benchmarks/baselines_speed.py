"""Seconds per NAS-Bench-201 architecture for every registered proxy, against the floor.

For a fixed list of cells (the same seeded sample as ``speed.py``), each proxy is timed through
``zeronas.score`` on the CIFAR-10 minibatch of its own recipe (``Proxy.data``). Two floors are
timed on the same network: one plain batched forward+backward of the cross-entropy (BatchNorm in
train mode) at batch 64, the zero-cost-nas default (``floor@64``), and at batch 128, the floor of
``speed.py`` (``floor@128``). Every call is the fastest of ``--repeat`` runs.

Also times, for ``ntk``, the vectorised ``vmap(vjp)`` Jacobian against the per-sample backward
loop zeronas uses (the official TE-NAS procedure), with the largest score difference.

Usage: python benchmarks/baselines_speed.py [--cells 10] [--threads N] [--proxies a,b] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

import zeronas
from zeronas.data import load_batch, load_nb201_table
from zeronas.spaces import nb201


def timed(fn, repeat=1):
    best, value = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return value, best


def floor(model, x, y):
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model.train()(x), y).backward()
    model.zero_grad(set_to_none=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--proxies", default=None, help="comma-separated (default: every registered proxy)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.proxies.split(",") if args.proxies else zeronas.list_proxies()

    table = load_nb201_table()
    cells = np.sort(np.random.default_rng(2024).choice(len(table), size=args.cells, replace=False))
    recipes = {n: zeronas.get_proxy_class(n).data for n in names}
    batches = {
        r: load_batch("cifar10", batch_size=r.batch_size, seed=args.seed, normalization=r.normalization, augment=r.augment)
        for r in set(recipes.values())
    }
    floor_batches = {b: load_batch("cifar10", batch_size=b, seed=args.seed) for b in (64, 128)}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.cells} cells")

    times: dict[str, list[float]] = {n: [] for n in names}
    floors: dict[int, list[float]] = {b: [] for b in floor_batches}
    reference = {"ntk_vmap": [], "ntk": [], "ntk_rel_diff": []}
    for k, index in enumerate(cells):
        torch.manual_seed(args.seed)
        model = nb201.build(table.arch_str[int(index)])
        for size, batch in floor_batches.items():
            floor(model, batch.inputs, batch.targets)  # warm-up
            floors[size].append(timed(lambda b=batch: floor(model, b.inputs, b.targets), args.repeat)[1])
        for name in names:
            batch = batches[recipes[name]]
            _, t = timed(lambda n=name, b=batch: zeronas.score(model, b.inputs, b.targets, [n], seed=args.seed), args.repeat)
            times[name].append(t)
        if "ntk" in names:
            batch = batches[recipes["ntk"]]
            loop, t_loop = timed(lambda: zeronas.score(model, batch.inputs, None, ["ntk"])["ntk"], args.repeat)
            vec, t_vec = timed(lambda: zeronas.score(model, batch.inputs, None, ["ntk"], ntk={"method": "vmap"})["ntk"],
                               args.repeat)
            reference["ntk"].append(t_loop)
            reference["ntk_vmap"].append(t_vec)
            reference["ntk_rel_diff"].append(abs(loop - vec) / abs(loop) if math.isfinite(loop) else float("nan"))
        print(f"[{k + 1}/{len(cells)}] cell {index}: floor@128 {floors[128][-1]:.3f}s", flush=True)

    print("\nseconds per architecture (median over cells); ratios = total proxy time / total floor time")
    print(f"{'proxy':<16}{'batch':>6}{'median s':>10}{'x floor@64':>12}{'x floor@128':>13}")
    summary = {}
    for name in names:
        summary[name] = {
            "batch": recipes[name].batch_size,
            "median_s": statistics.median(times[name]),
            "x_floor_64": sum(times[name]) / sum(floors[64]),
            "x_floor_128": sum(times[name]) / sum(floors[128]),
        }
        s = summary[name]
        print(f"{name:<16}{s['batch']:>6}{s['median_s']:>10.3f}{s['x_floor_64']:>12.2f}{s['x_floor_128']:>13.2f}")
    for size in sorted(floors):
        print(f"floor@{size:<10}{size:>6}{statistics.median(floors[size]):>10.3f}")
    if reference["ntk"]:
        print(f"\nntk: vmap(vjp) / per-sample backward loop = {sum(reference['ntk_vmap']) / sum(reference['ntk']):.2f}x, "
              f"max relative score difference {np.nanmax(reference['ntk_rel_diff']):.1e}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cells": cells.tolist(), "times": times, "floors": {str(k): v for k, v in floors.items()},
                       "summary": summary, "reference": reference}, handle, indent=1)


if __name__ == "__main__":
    main()
