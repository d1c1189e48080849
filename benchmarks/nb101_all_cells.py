"""NAS-Bench-101 correlations over every cell with ground truth (2,500 cells, CIFAR-10, seed 0).

The scores come from a campaign (resumable; its cells go in a seeded random order, so what is
done at any moment is a random subset of the population)::

    zeronas campaign --benchmark nb101 --datasets cifar10 --seeds 0 --workers 2 --out zeronas/tables \
        --proxies gradsign,gradalign,epsinas,synflow,naswot,meco,jacob_cov,snip,grad_norm,params,flops
    python benchmarks/nb101_all_cells.py [--tables zeronas/tables] [--json out.json]

It correlates the cells that every proxy has scored (oriented Spearman and Kendall with
bootstrap 95% intervals; NaN scores dropped and counted) beside the published values.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from zeronas.benchmarks import get_benchmark
from zeronas.evaluate.metrics import ranking_metrics
from zeronas.campaign import load_scores
from zeronas.runner import Evaluator

PROXIES = ("gradsign", "gradalign", "epsinas", "synflow", "naswot", "meco", "jacob_cov", "snip",
           "grad_norm", "params", "flops")
# Published NB101 rank correlations over all 423,624 cells, as published: epsinas' own notebook
# (rho / tau, raw sign); zero-cost-nas' notebook prints |rho| only (batch 256, see the README),
# and the proxy facts give the sign of snip and grad_norm (negative) from ZiCo's Fig. 3.
PUBLISHED = {"epsinas": "+0.62 / +0.44", "synflow": "|0.37|", "jacob_cov": "|0.38|", "snip": "-0.16",
             "grad_norm": "-0.20"}
def summary(args: argparse.Namespace) -> None:
    benchmark = get_benchmark("nb101")
    metric = benchmark.metric("cifar10")
    population = benchmark.population("cifar10", metric.name)
    scores = load_scores(args.tables)
    evaluator = Evaluator(benchmark, dataset="cifar10", proxies=list(args.proxies), seed=args.seed, progress=False,
                          tables=args.tables or True)
    # Which cells are complete: read the table without scoring anything.
    rows = zip(scores["space"].to_pylist(), scores["arch"].to_pylist(), scores["proxy"].to_pylist(),
               scores["status"].to_pylist(), strict=True)
    done = {(arch, proxy) for space_name, arch, proxy, status in rows if space_name == "nb101" and status != "error"}
    space = benchmark.space
    cells = [a for a in population if all((space.identity(a), k) in done for k in evaluator.keys)]
    table = evaluator.score(cells)
    truth = benchmark.ground_truth(cells, "cifar10", metric.name)
    out: dict[str, object] = {"cells": len(cells), "population": len(population), "metric": metric.name,
                              "seed": args.seed, "proxies": {}}
    print(f"{len(cells)} of {len(population)} NB101 cells scored by every proxy; target {metric.name}")
    print(f"{'proxy':<32}{'rho [95% CI]':>26}{'tau [95% CI]':>26}{'nan':>6}{'published':>20}")
    for key in evaluator.keys:
        sign = 1.0 if table.higher_is_better[key] else -1.0
        m = ranking_metrics(sign * table[key], truth, resamples=args.resamples, seed=0)
        nan = int((~np.isfinite(table[key])).sum())
        published = PUBLISHED.get(key.split("[")[0], "")
        rho, tau = m["spearman"], m["kendall"]
        print(f"{key:<32}{rho.value:>8.3f} [{rho.low:+.3f}, {rho.high:+.3f}]"
              f"{tau.value:>8.3f} [{tau.low:+.3f}, {tau.high:+.3f}]{nan:>6}{published:>20}")
        out["proxies"][key] = {"spearman": rho.as_dict(), "kendall": tau.as_dict(), "nan": nan,
                               "higher_is_better": table.higher_is_better[key],
                               "published": published or None}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", default=None, help="campaign directory (default: the shipped tables)")
    parser.add_argument("--proxies", type=lambda s: tuple(s.split(",")), default=PROXIES)
    parser.add_argument("--seed", type=int, default=0, help="scoring seed")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples for the intervals")
    parser.add_argument("--json", default=None, help="write the summary here too")
    summary(parser.parse_args())


if __name__ == "__main__":
    main()
