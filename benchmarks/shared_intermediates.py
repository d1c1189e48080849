"""Time saved by shared intermediates: proxies scored together against each proxy alone.

On a fixed seeded sample of NAS-Bench-201 cells (the sample of ``speed.py``) and the CIFAR-10
minibatch of the proxies' recipe (64 augmented images), each configuration is timed through
``zeronas.score``: grad_norm, snip and plain alone and together (one batch weight gradient), and
jacob_cov and epe_nas alone and together (one input Jacobian). Repetitions are interleaved (every
configuration once per cell per round, the order rotated each round) so that a shared machine's
load hits all of them alike; a configuration's time is the sum over cells of its median over
rounds. Acceptance: together / slowest single <= 1.25. Also checks that every score is the same
together as alone.

Usage: python benchmarks/shared_intermediates.py [--cells 10] [--repeat 5] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch

import zeronas
from zeronas.data import load_batch, load_nb201_table
from zeronas.spaces import nb201

GROUPS = {"weight gradients": ["grad_norm", "snip", "plain"], "input Jacobian": ["jacob_cov", "epe_nas"]}
LIMIT = 1.25


def configurations() -> dict[str, list[str]]:
    """Each proxy alone, then each group together."""
    configs = {name: [name] for names in GROUPS.values() for name in names}
    configs.update({"+".join(names): names for names in GROUPS.values()})
    return configs


def timed_score(model, batch, names, seed):
    start = time.perf_counter()
    values = zeronas.score(model, batch.inputs, batch.targets, names, seed=seed)
    return values, time.perf_counter() - start


def relative_difference(x: float, y: float) -> float:
    """|x - y| / |y|; 0 when both are NaN (the same undefined score), inf when one is."""
    if math.isnan(x) or math.isnan(y):
        return 0.0 if math.isnan(x) and math.isnan(y) else math.inf
    return abs(x - y) / max(abs(y), 1e-300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    recipes = {zeronas.get_proxy_class(n).data for names in GROUPS.values() for n in names}
    assert len(recipes) == 1, "the grouped proxies must share one data recipe"
    recipe = recipes.pop()
    batch = load_batch("cifar10", batch_size=recipe.batch_size, seed=args.seed,
                       normalization=recipe.normalization, augment=recipe.augment)
    table = load_nb201_table()
    cells = np.sort(np.random.default_rng(2024).choice(len(table), size=args.cells, replace=False))
    models = []
    for index in cells:
        torch.manual_seed(args.seed)
        models.append(nb201.build(table.arch_str[int(index)]))
    configs = configurations()
    load_before = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.cells} cells, batch "
          f"{recipe.batch_size}, {args.repeat} interleaved rounds; load average {load_before[0]:.2f} (1 min)")

    times = {c: [[] for _ in models] for c in configs}
    alone: list[dict[str, float]] = [{} for _ in models]
    together: list[dict[str, float]] = [{} for _ in models]
    for model in models:
        timed_score(model, batch, [n for names in GROUPS.values() for n in names], args.seed)  # warm-up
    order = list(configs)
    for round_ in range(args.repeat):
        rotated = order[round_ % len(order):] + order[: round_ % len(order)]
        for k, model in enumerate(models):
            for config in rotated:
                values, seconds = timed_score(model, batch, configs[config], args.seed)
                times[config][k].append(seconds)
                (alone if len(configs[config]) == 1 else together)[k].update(values)
        print(f"round {round_ + 1}/{args.repeat} done", flush=True)
    load_after = os.getloadavg()

    totals = {c: sum(statistics.median(per_cell) for per_cell in times[c]) for c in configs}
    print(f"\n{'configuration':<26}{'median s/cell':>14}{'total s':>10}")
    for config in configs:
        median = statistics.median(statistics.median(per_cell) for per_cell in times[config])
        print(f"{config:<26}{median:>14.4f}{totals[config]:>10.3f}")
    ratios = {}
    for names in GROUPS.values():
        joint = "+".join(names)
        slowest = max(totals[n] for n in names)
        ratios[joint] = totals[joint] / slowest
        verdict = "ok" if ratios[joint] <= LIMIT else f"ABOVE {LIMIT}"
        print(f"{joint}: together / slowest single = {ratios[joint]:.3f} ({verdict}); "
              f"sum of singles / together = {sum(totals[n] for n in names) / totals[joint]:.2f}")
    diffs = [relative_difference(t[n], a[n]) for t, a in zip(together, alone) for n in a]
    print(f"max relative difference together vs alone: {max(diffs):.1e}")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"cells": cells.tolist(), "times": times, "totals": totals, "ratios": ratios,
                       "load": [load_before, load_after]}, handle, indent=1)


if __name__ == "__main__":
    main()
