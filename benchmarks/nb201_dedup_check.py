"""How much de-duplication changes NAS-Bench-201 correlations, on a seeded 1,000-cell sample.

A de-duplicated campaign scores one representative per isomorphism class; the other cells of a
class take its score. Here every sampled cell that is not its class's representative is scored
on its own as well (seed 0, the campaign's batches; the representatives' scores come from the
tables), and the correlations of both versions are compared: Spearman rho against
``<dataset>_test_acc``, the difference, and how far a cell's own score lies from its
representative's (median relative difference, and the Spearman rho between the two over the
non-representative cells: the share of a score that is the draw of the initialisation)::

    python benchmarks/nb201_dedup_check.py --datasets cifar10 --json dedup.json
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

from scipy import stats  # noqa: E402

from zeronas.benchmarks import get_benchmark  # noqa: E402
from zeronas.campaign import load_class_map  # noqa: E402
from zeronas.campaign.shipped import shipped_dir  # noqa: E402
from zeronas.evaluate.metrics import sample_indices, spearman  # noqa: E402
from zeronas.runner import Evaluator  # noqa: E402
from zeronas.runner.executors import make_executor  # noqa: E402

PROXIES = ("gradsign", "gradalign", "epsinas", "meco", "jacob_cov", "synflow", "params", "flops")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="cifar10")
    parser.add_argument("--proxies", default=",".join(PROXIES))
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--tables", default=None, help="campaign directory (default: the shipped tables)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    directory = args.tables or shipped_dir()
    benchmark = get_benchmark("nb201")
    archs = benchmark.space.all_archs()
    cells = [archs[int(i)] for i in sample_indices(len(archs), args.sample, 0)]
    classes = load_class_map(directory, "nb201")
    representative = dict(zip(classes["arch"].to_pylist(), classes["representative"].to_pylist(), strict=True))
    others = [c for c in cells if representative[str(c)] != str(c)]
    reps = [benchmark.space.parse(representative[str(c)]) for c in others]
    proxies = args.proxies.split(",")
    out = {"sample": len(cells), "non_representatives": len(others), "datasets": {}}
    print(f"{len(cells)} cells, {len(others)} not their class's representative")
    with make_executor(args.workers) as executor:
        for dataset in args.datasets.split(","):
            truth = benchmark.ground_truth(cells, dataset)
            # dedup: every cell as its class shares it (tables); full: the non-representatives scored on their own
            shared = Evaluator(benchmark, dataset=dataset, proxies=proxies, tables=directory, share_classes=True,
                               progress=False).score(cells, compute=False)
            own = Evaluator(benchmark, dataset=dataset, proxies=proxies, tables=directory, executor=executor,
                            progress=True).score(others)
            rep_scores = Evaluator(benchmark, dataset=dataset, proxies=proxies, tables=directory,
                                   progress=False).score(reps, compute=False)
            position = {str(c): i for i, c in enumerate(cells)}
            rows = [position[str(c)] for c in others]
            result = {}
            for key in shared.keys():
                sign = 1.0 if shared.higher_is_better[key] else -1.0
                dedup = sign * shared.values[key]
                full = dedup.copy()
                full[rows] = sign * own.values[key]
                mine, theirs = own.values[key], rep_scores.values[key]
                both = np.isfinite(mine) & np.isfinite(theirs)
                relative = np.abs(mine[both] - theirs[both]) / np.maximum(np.abs(theirs[both]), 1e-12)
                entry = {"rho_dedup": spearman(dedup, truth), "rho_full": spearman(full, truth),
                         "covered": int(np.isfinite(dedup).sum()),
                         "median_relative_difference": float(np.median(relative)) if both.any() else None,
                         "rho_own_vs_representative": float(stats.spearmanr(mine[both], theirs[both]).statistic)
                         if both.sum() > 2 else None}
                entry["delta"] = entry["rho_full"] - entry["rho_dedup"]
                result[key] = entry
                print(f"  {dataset} {key:<12} rho dedup {entry['rho_dedup']:.4f} full {entry['rho_full']:.4f} "
                      f"delta {entry['delta']:+.4f}; own vs representative: median rel. diff "
                      f"{entry['median_relative_difference']}, rho {entry['rho_own_vs_representative']}")
            out["datasets"][dataset] = result
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
