"""Per-cell agreement of zeronas' NAS-Bench-101 scores with NASLib's precomputed ones.

NASLib's 500-spec file holds params, flops, synflow, snip, grad_norm and jacov for 292 distinct
cells (its repeats: the mean per cell). This scores the same cells with zeronas (CIFAR-10,
seed 0, each proxy's recipe batch; resumable through ``--results``) and prints the Spearman
rho between the two per proxy, with the ground truth's rho for each side.

    python benchmarks/nb101_naslib_agreement.py --results nb101_naslib.jsonl [--workers 2]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy import stats

from zeronas.benchmarks import get_benchmark
from zeronas.data.nb101_tables import load_nb101_naslib
from zeronas.runner import Evaluator, ResultStore, make_executor

PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "jacob_cov")
NASLIB_COLUMN = {"jacob_cov": "jacov"}  # NASLib's name where it differs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=None, help="JSON-lines scores file (resumable)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--proxies", default=",".join(PROXIES))
    parser.add_argument("--json", default=None, help="write the figures here too")
    args = parser.parse_args()
    proxies = args.proxies.split(",")

    benchmark = get_benchmark("nb101")
    space = benchmark.space
    naslib = load_nb101_naslib()
    archs = [space.parse(t) for t in naslib.texts()]
    rows: dict[str, list[int]] = {}
    for row, arch in enumerate(archs):
        rows.setdefault(space.identity(arch), []).append(row)
    cells = [archs[r[0]] for r in rows.values()]
    with ResultStore(args.results) as store, make_executor(args.workers) as executor:
        table = Evaluator(benchmark, dataset="cifar10", proxies=proxies, seed=0, store=store,
                          executor=executor).score(cells)
    truth = benchmark.ground_truth(cells, "cifar10", "naslib_val_acc")
    out = {"cells": len(cells)}
    print(f"{len(cells)} distinct NB101 cells of NASLib's 500-spec file")
    print(f"{'proxy':<12}{'rho vs NASLib':>15}{'zeronas rho acc':>17}{'NASLib rho acc':>16}{'nan':>5}")
    for proxy in proxies:
        theirs = np.array([np.mean(naslib.column(NASLIB_COLUMN.get(proxy, proxy))[r]) for r in rows.values()])
        ours = table[proxy]
        keep = np.isfinite(ours)
        agreement = stats.spearmanr(ours[keep], theirs[keep]).statistic
        ours_acc = stats.spearmanr(ours[keep], truth[keep]).statistic
        theirs_acc = stats.spearmanr(theirs, truth).statistic
        out[proxy] = {"agreement": agreement, "rho_zeronas": ours_acc, "rho_naslib": theirs_acc,
                      "nan": int((~keep).sum())}
        print(f"{proxy:<12}{agreement:>15.4f}{ours_acc:>17.3f}{theirs_acc:>16.3f}{(~keep).sum():>5}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
