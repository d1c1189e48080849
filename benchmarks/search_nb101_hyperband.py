"""Multi-fidelity search on NAS-Bench-101: Optuna's Hyperband pruner against single-fidelity
search, TPE and random sampling, over the cells with runs at 4/12/36/108 epochs, 500 seeded
searches per setting. Reported: the chosen cell's 108-epoch validation accuracy (single run),
trials and training runs per search::

    python benchmarks/search_nb101_hyperband.py --json benchmarks/results/search_nb101_hyperband.json
"""

from __future__ import annotations

import argparse
import json
import time

from zeronas.benchmarks import get_benchmark
from zeronas.search import hyperband_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--budgets", default="10000,30000,100000", help="simulated seconds")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    benchmark = get_benchmark("nb101")
    rows = []
    print("| sampler | Hyperband | budget s | 108-epoch valid acc | trials | completed | training runs | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for budget in (float(b) for b in args.budgets.split(",")):
        for sampler in ("tpe", "random"):
            for hyperband in (True, False):
                started = time.perf_counter()
                row = hyperband_experiment(benchmark, "cifar10", budget=budget, runs=args.runs, sampler=sampler,
                                           hyperband=hyperband)
                row["wall_seconds"] = time.perf_counter() - started
                rows.append(row)
                acc = row["accuracy"]
                print(f"| {sampler} | {'yes' if hyperband else 'no'} | {budget:.0f} | {acc['mean']:.2f} ± "
                      f"{acc['std']:.2f} [{acc['ci95'][0]:.2f}, {acc['ci95'][1]:.2f}] | {row['trials']['mean']:.1f} "
                      f"| {row['completed']['mean']:.1f} | {row['training_runs']['mean']:.1f} | "
                      f"{row['wall_seconds']:.1f} |", flush=True)
    print(f"{rows[0]['architectures']} cells; optimum {rows[0]['optimum']:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
