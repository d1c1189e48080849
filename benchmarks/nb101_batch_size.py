"""NAS-Bench-101: zero-cost-nas' measures on their NB101 batch (256 images) against zeronas' default (64).

zero-cost-nas scores NAS-Bench-201 on 64 augmented images (``nasbench2_pred.py``) and
NAS-Bench-101 on 256 (``nasbench1_pred.py``); zeronas' recipe is 64 on every benchmark. This
correlates both configurations over the same seeded sample of NB101 cells (CIFAR-10, seed 0,
target the 108-epoch test accuracy): oriented Spearman and Kendall with bootstrap 95% intervals,
and the per-cell Spearman agreement of the two configurations. The scores come from::

    zeronas campaign --benchmark nb101 --datasets cifar10 --seeds 0 --workers 2 --out zeronas/tables \
        --sample 150 --seed 1 --proxies jacob_cov
    zeronas campaign ... --sample 150 --seed 1 --proxies jacob_cov --option jacob_cov.batch_size=256
    python benchmarks/nb101_batch_size.py [--proxies jacob_cov] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy import stats

from zeronas.benchmarks import get_benchmark
from zeronas.campaign import load_scores
from zeronas.campaign.run import plan_architectures
from zeronas.evaluate.metrics import ranking_metrics
from zeronas.proxies import get_proxy_class
from zeronas.runner import Evaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--proxies", default="jacob_cov", help="comma-separated zero-cost-nas measures")
    parser.add_argument("--sample", type=int, default=150)
    parser.add_argument("--sample-seed", type=int, default=1)
    parser.add_argument("--tables", default=None, help="campaign directory (default: the shipped tables)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    benchmark = get_benchmark("nb101")
    metric = benchmark.metric("cifar10")
    space = benchmark.space
    sample = plan_architectures(benchmark, "cifar10", archs=None, sample=args.sample, sample_seed=args.sample_seed)
    scores = load_scores(args.tables)
    stored = [(a, p, st) for sp, a, p, st in zip(scores["space"].to_pylist(), scores["arch"].to_pylist(),
                                                 scores["proxy"].to_pylist(), scores["status"].to_pylist(), strict=True)
              if sp == "nb101"]
    out: dict[str, object] = {"sample": len(sample), "sample_seed": args.sample_seed, "metric": metric.name}
    print(f"seeded sample {args.sample_seed} of {len(sample)} NB101 cells; target {metric.name}")
    print(f"{'proxy':<28}{'rho [95% CI]':>26}{'tau [95% CI]':>26}   agreement with batch 64")
    for name in args.proxies.split(","):
        cls = get_proxy_class(name)
        instances = [cls(), cls(batch_size=256)]
        # The cells both configurations have scored (the campaigns resume; nothing is scored here).
        done = {k: {a for a, p, st in stored if p == k and st != "error"} for k in (i.key for i in instances)}
        cells = [c for c in sample if all(space.identity(c) in done[i.key] for i in instances)]
        print(f"{name}: {len(cells)} of the {len(sample)} cells scored by both")
        if len(cells) < 3:
            continue
        truth = benchmark.ground_truth(cells, "cifar10", metric.name)
        table = Evaluator(benchmark, dataset="cifar10", proxies=instances, seed=0, progress=False,
                          tables=args.tables or True).score(cells)
        default = table[instances[0].key]
        for proxy in instances:
            values = table[proxy.key]
            sign = 1.0 if table.higher_is_better[proxy.key] else -1.0
            m = ranking_metrics(sign * values, truth, resamples=args.resamples, seed=0)
            keep = np.isfinite(values) & np.isfinite(default)
            agreement = float(stats.spearmanr(values[keep], default[keep]).statistic)
            rho, tau = m["spearman"], m["kendall"]
            print(f"{proxy.key:<28}{rho.value:>8.3f} [{rho.low:+.3f}, {rho.high:+.3f}]"
                  f"{tau.value:>8.3f} [{tau.low:+.3f}, {tau.high:+.3f}]   {agreement:.3f}")
            out[proxy.key] = {"cells": len(cells), "spearman": rho.as_dict(), "kendall": tau.as_dict(), "agreement_with_default": agreement,
                              "nan": int((~np.isfinite(values)).sum())}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
