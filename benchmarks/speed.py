"""Seconds per NAS-Bench-201 architecture for each proxy, beside the floor and the slow paths.

For a fixed list of cells (seeded sample of the official index), on CIFAR-10 batches:
  floor      one plain batched forward+backward (batch 128, BatchNorm in train mode)
  loop       per-sample gradients by a Python loop of batch-1 forward/backward passes (the
             approach of the official GradSign code), reduced to the GradSign score
  gradsign, gradalign, gradalign_gram   each alone through zeronas.score (vmap engine)
  shared     the three gradient proxies in one call (one shared per-sample pass)
  epsinas    width-one evaluation, against epsinas_full: the same computation at full width
             (fastest of three runs each)

Prints medians, ratios and the largest relative score difference between fast and slow paths.
Usage: python benchmarks/speed.py [--cells 30] [--json out.json]
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
from zeronas.proxies._per_sample import per_sample_gradients_loop
from zeronas.spaces import nb201


def timed(fn, repeat=1):
    """The value of ``fn()`` and its fastest time over ``repeat`` calls (seconds)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return value, best


def floor(model, x, y):
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model.train()(x), y).backward()


def loop_gradsign(model, x, y):
    grads = per_sample_gradients_loop(model, x, y)
    return sum(float(torch.sign(g).sum(0).abs().sum()) for g in grads.values())


def rel(a, b):
    if math.isnan(a) and math.isnan(b):
        return 0.0
    return abs(a - b) / max(abs(b), 1e-30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    table = load_nb201_table()
    cells = np.sort(np.random.default_rng(2024).choice(len(table), size=args.cells, replace=False))
    grad_batch = load_batch("cifar10", batch_size=128, seed=args.seed, normalization="zero_cost_nas", augment=True)
    eps_batch = load_batch("cifar10", batch_size=256, seed=args.seed)
    x, y = grad_batch.inputs, grad_batch.targets
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.cells} cells, batch 128 (epsinas 256)")

    times: dict[str, list[float]] = {k: [] for k in (
        "floor", "loop", "gradsign", "gradalign", "gradalign_gram", "shared", "epsinas", "epsinas_full")}
    diffs = {"gradsign_vs_loop": [], "epsinas_vs_full": []}
    warm = nb201.build(table.arch_str[int(cells[0])])
    floor(warm, x, y)
    zeronas.score(warm, x, y, ["gradsign"])
    for k, index in enumerate(cells):
        torch.manual_seed(args.seed)
        model = nb201.build(table.arch_str[int(index)])
        _, t = timed(lambda: floor(model, x, y))
        times["floor"].append(t)
        model.zero_grad(set_to_none=True)
        scores = {}
        for name in ("gradsign", "gradalign", "gradalign_gram"):
            result, t = timed(lambda n=name: zeronas.score(model, x, y, [n])[n])
            scores[name] = result
            times[name].append(t)
        _, t = timed(lambda: zeronas.score(model, x, y, ["gradsign", "gradalign", "gradalign_gram"]))
        times["shared"].append(t)
        reference, t = timed(lambda: loop_gradsign(model, x, y))
        times["loop"].append(t)
        diffs["gradsign_vs_loop"].append(rel(scores["gradsign"], reference))
        # Short calls: the fastest of three runs, for both paths alike.
        fast, t = timed(lambda: zeronas.score(model, eps_batch.inputs, None, ["epsinas"])["epsinas"], repeat=3)
        times["epsinas"].append(t)
        full, t = timed(lambda: zeronas.score(model, eps_batch.inputs, None, ["epsinas"],
                                              epsinas={"collapse": "never"})["epsinas"], repeat=3)
        times["epsinas_full"].append(t)
        diffs["epsinas_vs_full"].append(rel(fast, full))
        print(f"[{k + 1}/{len(cells)}] cell {index}: floor {times['floor'][-1]:.3f}s gradsign {times['gradsign'][-1]:.3f}s "
              f"loop {times['loop'][-1]:.3f}s epsinas {times['epsinas'][-1]:.3f}s full {times['epsinas_full'][-1]:.3f}s",
              flush=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    total = {k: sum(v) for k, v in times.items()}
    print("\nseconds per architecture (median over cells; ratio = total time / total floor time)")
    print(f"{'path':<16}{'median s':>10}{'x floor':>10}")
    for name in times:
        print(f"{name:<16}{med[name]:>10.3f}{total[name] / total['floor']:>10.2f}")
    print(f"\nGradSign vs per-sample loop: loop/gradsign = {total['loop'] / total['gradsign']:.2f}x, "
          f"max relative score difference {max(diffs['gradsign_vs_loop']):.2e}")
    ratios = [f / e for f, e in zip(times["epsinas_full"], times["epsinas"])]
    print(f"epsinas full width / width one = {total['epsinas_full'] / total['epsinas']:.1f}x "
          f"(per cell: min {min(ratios):.1f}x, median {statistics.median(ratios):.1f}x), "
          f"max relative score difference {max(diffs['epsinas_vs_full']):.2e}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cells": cells.tolist(), "times": times, "diffs": diffs}, handle, indent=1)


if __name__ == "__main__":
    main()
