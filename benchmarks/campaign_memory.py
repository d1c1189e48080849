"""Peak resident memory of the campaign driver over a full NB201 campaign's records.

Writes a campaign directory holding the records of 15,625 cells x 11 proxies x 3 datasets
(real keys: the batch digests and proxy versions a campaign computes; synthetic values), less
the ``params`` scores of ``--missing`` CIFAR-10 cells. Then runs the real command twice under
``/usr/bin/time -v``: first over the raw shards (it scans every record, scores the missing
cells in a 2-worker pool and compacts 515k records to Parquet), then again over the compacted
tables (nothing left to score). Prints each run's maximum resident set size::

    python benchmarks/campaign_memory.py --dir /tmp/campaign-memory
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROXIES = ["gradsign", "gradalign", "gradalign_gram", "epsinas", "meco", "jacob_cov", "synflow", "naswot", "snip",
           "grad_norm", "params"]
DATASETS = ["cifar10", "cifar100", "imagenet16"]


def write_records(directory: Path, missing: int) -> int:
    from zeronas import Evaluator
    from zeronas.campaign.shards import ShardWriter
    from zeronas.runner.task import base_record

    rng = np.random.default_rng(0)
    written = 0
    with ShardWriter(directory) as writer:
        for dataset in DATASETS:
            evaluator = Evaluator("nb201", dataset=dataset, proxies=PROXIES, progress=False)
            context = evaluator.context()
            archs = evaluator.space.all_archs()
            skip = set(rng.choice(len(archs), size=missing, replace=False).tolist()) if dataset == "cifar10" else set()
            for i, arch in enumerate(archs):
                identity, text = evaluator.space.identity(arch), evaluator.space.format(arch)
                records = []
                for proxy in context.proxies:
                    if i in skip and proxy.name == "params":
                        continue
                    record = base_record(context, identity, text, proxy, context.batches[proxy.data])
                    record.update(value=float(rng.normal()), status="ok", reason="", seconds=0.5,
                                  torch="synthetic", zeronas="synthetic", time=time.time())
                    records.append(record)
                writer.write(records)
                written += len(records)
    return written


def max_rss_mb(command: list[str]) -> tuple[float, float, str]:
    started = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"command failed ({run.returncode}): {run.stderr[-2000:]}")
    kb = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    return kb / 1024, seconds, run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True, help="scratch campaign directory (emptied first)")
    parser.add_argument("--missing", type=int, default=200, help="CIFAR-10 cells whose params score is left out")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    records = write_records(args.dir, args.missing)
    command = [sys.executable, "-m", "zeronas", "campaign", "--benchmark", "nb201", "--datasets", ",".join(DATASETS),
               "--proxies", ",".join(PROXIES), "--seeds", "0", "--workers", "2", "--out", str(args.dir), "--json",
               "--no-progress"]
    first_mb, first_s, first_out = max_rss_mb(command)
    second_mb, second_s, _ = max_rss_mb(command)
    summary = json.loads(first_out)
    figures = {"records_in_shards": records, "scored_by_first_run": summary["jobs_run"],
               "rows_after_compaction": sum(summary["compaction"]["tables"].values()),
               "first_run_max_rss_mb": round(first_mb), "first_run_seconds": round(first_s, 1),
               "second_run_max_rss_mb": round(second_mb), "second_run_seconds": round(second_s, 1)}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
