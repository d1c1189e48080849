"""epsinas on NAS-Bench-101: zeronas against the official network, on the same cells and batch.

epsinas is undefined (NaN) on many NB101 cells here at the paper's weights (1e-4, 10): the
float32 output underflows to exactly 0 at w = 1e-4. This runs the official epsinas NB101
network (``NAS-Bench-101/nas_101_api`` of egracheva/epsinas, imported from ``--official-code``,
never copied) with the official initialisation and formula (re-derived: every weight w, every
bias 0, ``eval()`` with ``track_running_stats=False`` BatchNorm, min-max normalised outputs,
zeros to NaN, nanmean|o1 - o2| / nanmean(o)), in float32 and float64, beside zeronas' score.

    python benchmarks/nb101_epsinas_official.py --official-code /path/to/epsinas/NAS-Bench-101 [--cells 10]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from types import SimpleNamespace

import numpy as np
import torch

import zeronas
from zeronas.benchmarks import get_benchmark
from zeronas.data import load_batch
from zeronas.evaluate.metrics import sample_indices

WEIGHTS = (1e-4, 10.0)


def official_epsinas(network: torch.nn.Module, x: torch.Tensor, dtype: torch.dtype) -> tuple[float, float]:
    """(score, smallest |output| range over the two weights) of the official procedure."""
    preds, ranges = [], []
    network = network.to(dtype)
    for w in WEIGHTS:
        with torch.no_grad():
            for m in network.modules():
                if getattr(m, "bias", None) is not None:
                    m.bias.fill_(0)
                if isinstance(getattr(m, "weight", None), torch.Tensor) and getattr(m, "affine", True):
                    m.weight.fill_(w)
            network.eval()
            out = network(x.to(dtype))
            pred = (out[0] if isinstance(out, tuple) else out).double().numpy().ravel()
        ranges.append(float(pred.max() - pred.min()))
        with np.errstate(all="ignore"):
            preds.append((pred - pred.min()) / (pred.max() - pred.min()))
    p = np.array(preds)
    p[p == 0] = np.nan
    with np.errstate(all="ignore"):
        return float(np.nanmean(np.abs(p[0] - p[1])) / np.nanmean(p)), min(ranges)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official-code", required=True, help="the epsinas repository's NAS-Bench-101 folder")
    parser.add_argument("--cells", type=int, default=10, help="cells drawn with seed 0 from the 2,500")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, args.official_code)
    model = importlib.import_module("nas_101_api.model")
    model_spec = importlib.import_module("nas_101_api.model_spec")

    benchmark = get_benchmark("nb101")
    population = benchmark.population("cifar10", benchmark.metric("cifar10").name)
    cells = [population[i] for i in sample_indices(len(population), args.cells, 0)]
    proxy = zeronas.get_proxy("epsinas", weights=WEIGHTS)
    batch = load_batch("cifar10", batch_size=proxy.data.batch_size, seed=0, normalization=proxy.data.normalization,
                       augment=proxy.data.augment)
    config = SimpleNamespace(stem_out_channels=128, num_stacks=3, num_modules_per_stack=3, num_labels=1)
    rows = []
    print(f"{'zeronas':>12}{'official f32':>14}{'official f64':>14}{'f32 range at 1e-4':>20}  cell")
    for arch in cells:
        text = benchmark.space.format(arch)
        matrix, ops = text.split()
        n = int(round(len(matrix) ** 0.5))
        spec = model_spec.ModelSpec(np.array([int(c) for c in matrix]).reshape(n, n), ops.split("|"))
        torch.manual_seed(0)
        ours = zeronas.score(benchmark.space.build(arch, "cifar10"), batch.inputs, None, [proxy])[proxy.key]
        f32, low = official_epsinas(model.Network(spec, config), batch.inputs, torch.float32)
        f64, _ = official_epsinas(model.Network(spec, config), batch.inputs, torch.float64)
        rows.append({"cell": text, "zeronas": ours, "official_float32": f32, "official_float64": f64,
                     "official_float32_range": low})
        print(f"{ours:>12.6g}{f32:>14.6g}{f64:>14.6g}{low:>20.3g}  {text}", flush=True)
    both = sum(np.isnan(r["zeronas"]) and np.isnan(r["official_float32"]) for r in rows)
    agree = [abs(r["zeronas"] - r["official_float32"]) / abs(r["official_float32"]) for r in rows
             if np.isfinite(r["zeronas"]) and np.isfinite(r["official_float32"])]
    print(f"NaN in both: {both} of {len(rows)}; defined in both: {len(agree)}, largest relative difference "
          f"{max(agree, default=float('nan')):.2g}; NaN in float64: {sum(np.isnan(r['official_float64']) for r in rows)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2, allow_nan=True)


if __name__ == "__main__":
    main()
