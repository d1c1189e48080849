"""NAS-Bench-201 correlations over all 15,625 cells, read from campaign score tables.

Each cell takes the score of its isomorphism class's representative (the de-duplicated
tables; see ``zeronas campaign --dedup``), so nothing is scored here. While a campaign is
still running, the cells whose representative is scored are a seeded random subset, and the
table says how many there are. Oriented Spearman and Kendall with bootstrap 95% intervals,
NaN scores dropped (and counted), against ``<dataset>_test_acc``; on CIFAR-10 also against the
cifar10-valid split's test accuracy, the target of GradSign's and zero-cost-nas' figures. The
ensemble's members are fixed before the run: the log-rank ensemble the reproduction report
chose (meco, gradalign, jacob_cov, gradsign)::

    python benchmarks/nb201_all_cells.py [--tables zeronas/tables] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from zeronas.benchmarks import get_benchmark
from zeronas.campaign import load_class_map, load_scores
from zeronas.campaign.shipped import shipped_dir
from zeronas.evaluate.ensemble import DEFAULT_MEMBERS as ENSEMBLE
from zeronas.evaluate.ensemble import ensemble_scores
from zeronas.evaluate.metrics import ranking_metrics
from zeronas.experiments.published import PUBLISHED
from zeronas.proxies import get_proxy_class

VALID_TARGET = "cifar10_valid_test_acc_v1_0"


def _orientation(key: str) -> bool:
    return get_proxy_class(key.split("[")[0]).higher_is_better


def cell_scores(tables, classes, dataset: str, cells: list[str]) -> dict[str, np.ndarray]:
    """``{proxy key: score of each cell}`` (NaN where the cell's representative is unscored or undefined)."""
    import pyarrow.compute as pc

    part = tables.filter(pc.and_(pc.equal(tables["space"], "nb201"), pc.equal(tables["dataset"], dataset)))
    part = part.filter(pc.equal(part["seed"], 0))
    rep_of = dict(zip(classes["arch"].to_pylist(), classes["representative"].to_pylist(), strict=True))
    out, covered = {}, {}
    for key in sorted(set(part["proxy"].to_pylist())):
        rows = part.filter(pc.equal(part["proxy"], key))
        value = dict(zip(rows["arch"].to_pylist(), rows["value"].to_pylist(), strict=True))
        scored = [rep_of.get(c, c) in value for c in cells]
        out[key] = np.array([value.get(rep_of.get(c, c), np.nan) for c in cells], dtype=np.float64)
        covered[key] = np.array(scored)
    return out, covered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", default=None, help="campaign directory (default: the shipped tables)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    directory = args.tables or shipped_dir()
    tables, classes = load_scores(directory), load_class_map(directory, "nb201")
    if classes is None:
        raise SystemExit(f"{directory} has no classes-nb201.parquet: run the campaign with --dedup")
    benchmark = get_benchmark("nb201")
    cells = [str(a) for a in benchmark.space.all_archs()]
    out: dict[str, dict] = {}
    for dataset in benchmark.datasets:
        scores, covered = cell_scores(tables, classes, dataset, cells)
        if not scores:
            continue
        if all(m in scores for m in ENSEMBLE):
            every = np.logical_and.reduce([covered[m] for m in ENSEMBLE])
            combined = np.full(len(cells), np.nan)
            combined[every] = ensemble_scores({m: scores[m][every] for m in ENSEMBLE}, list(ENSEMBLE),
                                              higher_is_better={m: _orientation(m) for m in ENSEMBLE})
            scores["ensemble"], covered["ensemble"] = combined, every
        targets = [f"{dataset}_test_acc"] + ([VALID_TARGET] if dataset == "cifar10" else [])
        out[dataset] = {}
        print(f"\n{dataset}: {len(cells)} cells; rho [95% CI] / tau, oriented, NaN dropped")
        for key, values in scores.items():
            mask = covered[key]
            sign = 1.0 if key == "ensemble" or _orientation(key) else -1.0
            entry = {"cells_covered": int(mask.sum()), "nan": int((~np.isfinite(values[mask])).sum())}
            published = PUBLISHED.get(key.split("[")[0])
            entry["published"] = None if published is None else published.value(dataset)
            entry["published_cifar10_valid"] = bool(published and published.cifar10_valid)
            line = f"  {key:<32} covered {mask.sum():>5} nan {entry['nan']:>5}"
            for target in targets:
                truth = benchmark.ground_truth([cells[i] for i in np.flatnonzero(mask)], dataset, target)
                m = ranking_metrics(sign * values[mask], truth, resamples=args.resamples, seed=0)
                rho, tau = m["spearman"], m["kendall"]
                entry[target] = {"spearman": rho.as_dict(), "kendall": tau.as_dict()}
                line += f"  {target}: {rho.value:.3f} [{rho.low:.3f}, {rho.high:.3f}] / {tau.value:.3f}"
            print(line + (f"  published {entry['published']}" if entry["published"] is not None else ""))
            out[dataset][key] = entry
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
