"""Wall time of a live proxy-assisted search: REA (population 10, sample 3) for 100 evaluations on
NAS-Bench-201 with GradSign-assisted children (k = 10 candidates), every candidate scored live
(no score table), training simulated from the per-seed table (instant), so the time is the
proxy's. Reports the wall time, the distinct architectures scored and the seconds per score::

    python benchmarks/search_live_speed.py --assist k10 --json speed.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from zeronas.benchmarks import get_benchmark
from zeronas.search import SimulatedTrainer, search_live, training_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proxy", default="gradsign")
    parser.add_argument("--assist", default="k10")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    benchmark = get_benchmark("nb201")
    trainer = SimulatedTrainer(benchmark.space, training_records(benchmark, "cifar10"),
                               np.random.default_rng(args.seed), cost_scale=12 / 200)
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        result = search_live("nb201", trainer, algorithm="rea", budget=args.budget, seed=args.seed, proxy=args.proxy,
                             assist=args.assist, directory=directory)
        wall = time.perf_counter() - started
        with open(f"{directory}/scores.jsonl", encoding="utf-8") as handle:
            scored = sum(1 for line in handle if line.strip())
    chosen = benchmark.ground_truth([result.best], "cifar10")[0]
    out = {"proxy": args.proxy, "assist": args.assist, "evaluations": len(result.trajectory), "wall_seconds": wall,
           "architectures_scored": scored, "seconds_per_score": wall / max(scored, 1),
           "recorded_proxy_seconds": result.proxy_seconds, "best": str(result.best),
           "best_cifar10_test": float(chosen)}
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main()
