"""NAS-Bench-201 search results: vanilla against proxy-assisted search, a 12,000-second budget,
and training-free arg-max, each over 500 seeded runs (search on CIFAR-10, reported on the test
accuracy of all three datasets)::

    python benchmarks/search_nb201.py --parts count,time,argmax --workers 2 \\
        --json benchmarks/results/search_nb201.json --out benchmarks/results/search_nb201

Parts:
- ``count``: budget of 100 evaluations; RS, REA (population 10, sample 3), REINFORCE (Adam
  0.5, EMA 0.9) and TPE, vanilla, GradSign-assisted (k = 10) and ensemble-assisted (k = 10);
  assisted minus vanilla with 95% bootstrap intervals.
  REINFORCE also with NATS-Bench's learning rate 0.01.
- ``time``: 12,000 simulated seconds, each evaluation charged the recorded 200-epoch training
  time x 12/200 (NB201's 12-epoch search schedule, approximated); vanilla and GradSign k = 10,
  the latter with and without its recorded scoring seconds charged against the budget.
- ``specific``: the count budget searching on CIFAR-100 and on ImageNet16-120 themselves
  (their fitness and proxy scores), vanilla and GradSign k = 10.
- ``argmax``: the proxy's arg-max among N = 10, 100, 1,000 random cells (with replacement) for
  gradsign, gradalign, epsinas and the ensemble; the ensemble over all 15,625.
Proxy scores come from the score tables (``zeronas campaign``); proxy time is not charged (the
papers' protocol) and is reported beside. Wall time per 500-run experiment is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from zeronas.experiments.search import (SearchConfig, compare, markdown_summary,  # noqa: E402
                                        run_search_experiment, write_outputs)
from zeronas.search import list_searchers  # noqa: E402

def _run(config: SearchConfig, tables):
    result = run_search_experiment(replace(config, tables=tables))
    line = ", ".join(f"{ds} {s['mean']:.2f}±{s['std']:.2f}" for ds, s in result.final.items())
    print(f"  {config.label:<34} {line}  ({result.seconds:.1f} s)", flush=True)
    return result


def budget_part(name: str, base: SearchConfig, assists: list, args, out: dict, *, charged: bool = False) -> None:
    """Each algorithm vanilla and with each assistance; ``charged``: also with the proxy's
    recorded seconds counted against the budget."""
    results, comparisons = [], {}
    for algorithm in list_searchers():
        vanilla = _run(replace(base, algorithm=algorithm), args.tables)
        results.append(vanilla)
        for proxy, assist in assists:
            for charge in (False, True) if charged else (False,):
                assisted = _run(replace(base, algorithm=algorithm, proxy=proxy, assist=assist, charge_proxy=charge),
                                args.tables)
                results.append(assisted)
                comparisons[assisted.config.label] = compare(assisted, vanilla)
    # NATS-Bench's REINFORCE learning rate beside NB201's documented 0.5
    results.append(_run(replace(base, algorithm="reinforce", algorithm_options={"learning_rate": 0.01}), args.tables))
    out[name] = {"results": [r.as_dict(with_runs=False) for r in results], "comparisons": comparisons,
                 "markdown": markdown_summary(results, comparisons)}
    if args.out:
        write_outputs(Path(args.out) / name, results, comparisons)


def argmax_part(base: SearchConfig, args, out: dict) -> None:
    results = []
    for proxy in ("gradsign", "gradalign", "epsinas", "ensemble"):
        for n in (10, 100, 1000):
            results.append(_run(replace(base, algorithm="argmax", proxy=proxy, budget=n), args.tables))
    results.append(_run(replace(base, algorithm="argmax", proxy="ensemble", budget=0), args.tables))
    out["argmax"] = {"results": [r.as_dict(with_runs=False) for r in results],
                     "markdown": markdown_summary(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="count,time,argmax")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tables", default=True, help="campaign directory (default: the shipped tables)")
    parser.add_argument("--assists", default="gradsign:k10,ensemble:k10",
                        help="proxy:assist pairs beside each vanilla run ('none': vanilla only)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--out", default=None, help="directory for summaries and curve PNGs")
    args = parser.parse_args()
    base = SearchConfig(runs=args.runs, workers=args.workers)
    assists = [] if args.assists == "none" else [tuple(p.split(":")) for p in args.assists.split(",")]
    out: dict = {}
    parts = args.parts.split(",")
    if "count" in parts:
        print("budget: 100 evaluations", flush=True)
        budget_part("count", replace(base, budget=100), assists, args, out)
    if "time" in parts:
        print("budget: 12,000 simulated seconds", flush=True)
        budget_part("time", replace(base, budget=12000, budget_unit="seconds"), assists[:1], args, out, charged=True)
    if "specific" in parts:
        for dataset in ("cifar100", "imagenet16"):
            print(f"budget: 100 evaluations, searching on {dataset}", flush=True)
            budget_part(f"count-{dataset}", replace(base, budget=100, dataset=dataset), assists[:1], args, out)
    if "argmax" in parts:
        print("training-free arg-max", flush=True)
        argmax_part(base, args, out)
    for part in out.values():
        print(part["markdown"])
    if args.json:
        previous = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
        Path(args.json).write_text(json.dumps({**previous, **out}, indent=1) + "\n")


if __name__ == "__main__":
    main()
