"""NAS-Bench-101 checks: module hashes and parameter counts against every recorded value.

  hashes      the 2,500-file cells found in the 30k hash-keyed table (PROVENANCE: 163), the
              500-file specs' distinct identities (292) and those in the table (26 cells, 110 rows)
  params      count_parameters and the built network (meta device: shapes only, unless
              --real-init) against the 30k table's trainable_parameters for every cell with a
              spec (163 + 26 distinct cells; also per 500-file row), and against the 500 file's
              params column (millions, NASLib) for all 500 rows / 292 cells: number equal,
              largest difference, Spearman
  timing      (--time) seconds of one forward+backward of a batch of 64 CIFAR-10 images,
              one CPU thread, on the 2,500-file networks of median and largest size (wall and
              process CPU time: the machine may be shared)

Usage: python benchmarks/nb101_checks.py [--real-init] [--time] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from zeronas.data import load_batch
from zeronas.data.nb101_tables import load_nb101_hash_table, load_nb101_naslib, load_nb101_specs
from zeronas.spaces import nb101


def built_parameters(arch: nb101.NB101Arch, *, real_init: bool) -> int:
    """Trainable parameters of the built network (on the meta device unless ``real_init``)."""
    if real_init:
        return sum(p.numel() for p in nb101.build(arch).parameters() if p.requires_grad)
    with torch.device("meta"):
        return sum(p.numel() for p in nb101.build(arch).parameters() if p.requires_grad)


def compare(name: str, ours: np.ndarray, recorded: np.ndarray) -> dict:
    """Number equal, total and largest absolute difference of two integer arrays."""
    diff = np.abs(ours.astype(np.int64) - recorded.astype(np.int64))
    result = {"equal": int((diff == 0).sum()), "total": int(diff.size), "max_abs_diff": int(diff.max(initial=0))}
    print(f"  {name:62s} {result['equal']:4d} / {result['total']:4d} equal, max |diff| {result['max_abs_diff']:,}")
    return result


def check_hashes(spec_archs, naslib_archs, table) -> dict:
    spec_ids = [nb101.identity(a) for a in spec_archs]
    naslib_ids = [nb101.identity(a) for a in naslib_archs]
    result = {
        "spec_cells": len(spec_archs),
        "spec_distinct": len(set(spec_ids)),
        "spec_in_30k": int((table.rows_of(spec_ids) >= 0).sum()),
        "naslib_rows": len(naslib_archs),
        "naslib_distinct": len(set(naslib_ids)),
        "naslib_distinct_in_30k": int((table.rows_of(sorted(set(naslib_ids))) >= 0).sum()),
        "naslib_rows_in_30k": int((table.rows_of(naslib_ids) >= 0).sum()),
    }
    print("hashes")
    for key, value in result.items():
        print(f"  {key:24s} {value}")
    return result


def check_parameters(spec_archs, naslib, naslib_archs, table, *, real_init: bool) -> dict:
    recorded = table.column("trainable_parameters")
    print(f"parameters (built on {'CPU, real init' if real_init else 'the meta device'})")
    out = {}
    spec_rows = table.rows_of([nb101.identity(a) for a in spec_archs])
    spec_found = [(a, r) for a, r in zip(spec_archs, spec_rows) if r >= 0]
    # One row per distinct 500-file cell (its first spec), and every row.
    naslib_rows = table.rows_of([nb101.identity(a) for a in naslib_archs])
    first: dict[int, nb101.NB101Arch] = {}
    for arch, row in zip(naslib_archs, naslib_rows):
        if row >= 0:
            first.setdefault(int(row), arch)
    groups = {
        "2,500-file cells in the 30k table": spec_found,
        "500-file cells in the 30k table (first spec)": [(a, r) for r, a in first.items()],
        "500-file rows in the 30k table": [(a, r) for a, r in zip(naslib_archs, naslib_rows) if r >= 0],
    }
    all_cells = groups["2,500-file cells in the 30k table"] + groups["500-file cells in the 30k table (first spec)"]
    groups["all distinct cells with a recorded count"] = all_cells
    for name, pairs in groups.items():
        truth = np.array([recorded[r] for _, r in pairs])
        ours = np.array([nb101.count_parameters(a) for a, _ in pairs])
        out[f"analytic: {name}"] = compare(f"count_parameters, {name}", ours, truth)
    mismatched = [(a, r) for a, r in all_cells if nb101.count_parameters(a) != recorded[r]]
    explained = sum(int(recorded[r]) in {nb101.count_parameters(r) for r in nb101.renumberings(nb101.prune(a))} for a, r in mismatched)
    out["mismatches explained by vertex numbering"] = [explained, len(mismatched)]
    print(f"  mismatches whose count an isomorphic renumbering gives (the split depends on vertex order): "
          f"{explained} / {len(mismatched)}")
    for arch, row in mismatched:
        cell = nb101.format_arch(nb101.prune(arch))
        print(f"    {cell}: ours {nb101.count_parameters(arch):,}, NB101 {int(recorded[row]):,}")
    built = np.array([built_parameters(a, real_init=real_init) for a, _ in all_cells])
    out["built: all distinct cells"] = compare(
        "built network, all distinct cells with a recorded count", built, np.array([recorded[r] for _, r in all_cells])
    )

    print("parameters vs the 500 file's params (NASLib, millions)")
    ours = np.array([nb101.count_parameters(a) for a in naslib_archs])
    theirs = np.round(naslib.column("params") * 1e6).astype(np.int64)
    out["naslib rows"] = compare("count_parameters, all 500 rows", ours, theirs)
    distinct = {}
    for arch, mine, given in zip(naslib_archs, ours, theirs):
        distinct.setdefault(nb101.identity(arch), (mine, given))
    pairs = np.array(list(distinct.values()))
    out["naslib distinct"] = compare("count_parameters, 292 distinct cells (first spec)", pairs[:, 0], pairs[:, 1])
    rho = float(spearmanr(ours, naslib.column("params")).statistic)
    out["naslib spearman"] = rho
    print(f"  Spearman(count_parameters, params) over 500 rows: {rho:.6f}")
    return out


def time_forward_backward(spec_archs, *, batch_size: int = 64, repeats: int = 2) -> dict:
    """Seconds of one forward+backward (BatchNorm in train mode), 1 thread, median and largest net."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    counts = np.array([nb101.count_parameters(a) for a in spec_archs])
    order = np.argsort(counts, kind="stable")
    batch = load_batch("cifar10", batch_size=batch_size, seed=0, normalization="zero_cost_nas")
    out = {}
    print(f"forward+backward, batch {batch_size}, torch.set_num_threads(1)")
    for label, index in (("median", order[len(order) // 2]), ("largest", order[-1])):
        net = nb101.build(spec_archs[int(index)])
        net.train()
        wall, cpu = [], []
        for _ in range(repeats + 1):  # the first call warms up the allocator
            start, start_cpu = time.perf_counter(), time.process_time()
            loss = F.cross_entropy(net(batch.inputs), batch.targets)
            loss.backward()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            net.zero_grad(set_to_none=True)
        arch = nb101.format_arch(spec_archs[int(index)])
        out[label] = {"params": int(counts[index]), "arch": arch, "seconds": min(wall[1:]), "cpu_seconds": min(cpu[1:])}
        # CPU time is what one thread costs; wall time grows when other processes share the cores.
        print(f"  {label:8s} {counts[index]:>11,} params  {min(wall[1:]):6.2f} s wall  "
              f"{min(cpu[1:]):6.2f} s CPU  ({arch})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-init", action="store_true", help="build networks on the CPU with real init")
    parser.add_argument("--time", action="store_true", help="also time a forward+backward of batch 64")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    start = time.perf_counter()
    specs, naslib, table = load_nb101_specs(), load_nb101_naslib(), load_nb101_hash_table()
    spec_archs = [nb101.parse(t) for t in specs.texts()]
    naslib_archs = [nb101.parse(t) for t in naslib.texts()]
    figures = {
        "hashes": check_hashes(spec_archs, naslib_archs, table),
        "parameters": check_parameters(spec_archs, naslib, naslib_archs, table, real_init=args.real_init),
    }
    if args.time:
        figures["timing"] = time_forward_backward(spec_archs)
    print(f"done in {time.perf_counter() - start:.1f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
