"""Ranking effect of the official-parity fixes of synflow, fisher and naswot on NAS-Bench-201.

Scores the 1,000-cell NAS-Bench-201 sample of the README (``np.random.default_rng(0).choice``
of 1,000 indices into the ground-truth table, sorted), CIFAR-10, seed 0, with the official rule
of each proxy (the defaults: synflow ``batchnorm="official"``, fisher ``reduction="official"``,
naswot ``hook="official"``) and/or (``--rules earlier|both``) with the earlier zeronas rules
(``batchnorm="none"``, ``reduction="channel"``, ``hook="relu"``). Reports Spearman's rho against
``cifar10_test_acc`` and ``cifar10_valid_test_acc_v1_0``, NaN scores dropped.

Uses only the stable low-level API: ``nb201.build`` after ``torch.manual_seed(0)``,
``zeronas.data.load_batch`` with each proxy's recipe, ``zeronas.score_detailed``.

Usage: python benchmarks/official_parity.py [--cells 1000] [--rules official|earlier|both] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from scipy import stats

import zeronas
from zeronas.data import load_batch, load_nb201_table
from zeronas.spaces import nb201

OFFICIAL = {"synflow": {}, "fisher": {}, "naswot": {}}
EARLIER = {"synflow": {"batchnorm": "none"}, "fisher": {"reduction": "channel"}, "naswot": {"hook": "relu"}}
COLUMNS = ("cifar10_test_acc", "cifar10_valid_test_acc_v1_0")


def spearman(scores: np.ndarray, truth: np.ndarray) -> tuple[float, int]:
    keep = np.isfinite(scores)
    return float(stats.spearmanr(scores[keep], truth[keep])[0]), int((~keep).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--rules", choices=("official", "earlier", "both"), default="official",
                        help="score the official rules (default), the earlier zeronas rules, or both")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="write scores and correlations here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    table = load_nb201_table()
    rows = np.sort(np.random.default_rng(0).choice(len(table), size=args.cells, replace=False))
    configs = []
    if args.rules in ("official", "both"):
        configs += [(name, opts, "official") for name, opts in OFFICIAL.items()]
    if args.rules in ("earlier", "both"):
        configs += [(name, opts, "earlier") for name, opts in EARLIER.items()]
    proxies = [(f"{name}:{tag}", zeronas.get_proxy(name, **opts)) for name, opts, tag in configs]
    batches = {}
    for label, proxy in proxies:
        recipe = proxy.data
        batches[label] = load_batch("cifar10", batch_size=recipe.batch_size, seed=0,
                                    normalization=recipe.normalization, augment=recipe.augment)

    scores = {label: np.full(len(rows), np.nan) for label, _ in proxies}
    start = time.perf_counter()
    for i, row in enumerate(rows):
        arch = table.arch_str[int(row)]
        for label, proxy in proxies:
            torch.manual_seed(0)
            model = nb201.build(arch, num_classes=10)
            batch = batches[label]
            (result,) = zeronas.score_detailed(model, batch.inputs, batch.targets, [proxy], seed=0).values()
            scores[label][i] = result.value
        if (i + 1) % 50 == 0 or i + 1 == len(rows):
            print(f"{i + 1}/{len(rows)} cells, {time.perf_counter() - start:.0f} s", flush=True)

    report = {}
    for label, values in scores.items():
        report[label] = {}
        for column in COLUMNS:
            rho, dropped = spearman(values, table.column(column)[rows])
            report[label][column] = rho
            report[label]["nan"] = dropped
        print(f"{label:18s} rho(cifar10_test_acc)={report[label][COLUMNS[0]]:.3f}  "
              f"rho(cifar10_valid_test_acc_v1_0)={report[label][COLUMNS[1]]:.3f}  NaN={report[label]['nan']}",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows.tolist(), "correlations": report,
                       "scores": {k: [None if math.isnan(v) else v for v in vals.tolist()] for k, vals in scores.items()}},
                      f, indent=1)


if __name__ == "__main__":
    main()
