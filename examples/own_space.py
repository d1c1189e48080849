"""Your own search space: a small CNN family, scored resumably with zero-cost proxies and ranked.

    python examples/own_space.py --candidates 300 --proxies gradsign,naswot,params --workers 2

An architecture is three stages of ``depth x width`` convolutions (each stage halves the
resolution), one kernel size and BatchNorm or not, written e.g. ``2x8-1x16-3x24-k3-bn``
(3^6 * 2 * 2 = 2,916 networks). Scores go to a JSON-lines file: rerun a killed run with the
same ``--results`` and only the missing scores are computed.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass

import numpy as np
from torch import nn

from zeronas.data.datasets import DatasetSpec
from zeronas.errors import ArchitectureError, ZeronasUserError
from zeronas.evaluate import ensemble_scores
from zeronas.runner import Evaluator, JsonlStore, make_executor
from zeronas.spaces import SearchSpace

DEPTHS, WIDTHS, KERNELS, NORMS = (1, 2, 3), (8, 16, 24), (3, 5), ("bn", "nobn")
CHOICES = (DEPTHS,) * 3 + (WIDTHS,) * 3 + (KERNELS, NORMS)  # one entry per decision
_TEXT = re.compile(r"^(\d+)x(\d+)-(\d+)x(\d+)-(\d+)x(\d+)-k(\d+)-(\w+)$")


@dataclass(frozen=True)
class CNNArch:
    depths: tuple[int, int, int]
    widths: tuple[int, int, int]
    kernel: int
    norm: str

    def __str__(self) -> str:
        stages = "-".join(f"{d}x{w}" for d, w in zip(self.depths, self.widths, strict=True))
        return f"{stages}-k{self.kernel}-{self.norm}"


class CNNSpace(SearchSpace):
    """Plain CNNs: (conv-[BN]-ReLU) x depth per stage, global pooling, a linear head."""

    name = "own_cnn"  # part of every stored score's key: rename it when build() changes (not registered)

    def parse(self, text: str) -> CNNArch:
        match = _TEXT.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ArchitectureError(f"malformed architecture {text!r}; expected e.g. '2x8-1x16-3x24-k3-bn'")
        d1, w1, d2, w2, d3, w3, kernel, norm = match.groups()
        d = (int(d1), int(d2), int(d3), int(w1), int(w2), int(w3), int(kernel), norm)
        bad = [f"{v!r} (choose from {', '.join(map(str, c))})" for v, c in zip(d, CHOICES, strict=True) if v not in c]
        if bad:
            raise ArchitectureError(f"architecture {text!r} is outside the space: {'; '.join(bad)}")
        return self._from(d)

    def identity(self, arch: CNNArch) -> str:
        return self.format(arch)  # every description is a different network

    def decisions(self, arch: CNNArch) -> tuple:
        return (*arch.depths, *arch.widths, arch.kernel, arch.norm)

    @staticmethod
    def _from(d: tuple) -> CNNArch:
        return CNNArch(tuple(d[0:3]), tuple(d[3:6]), d[6], d[7])

    def sample(self, rng: np.random.Generator) -> CNNArch:
        return self._from(tuple(c[rng.integers(len(c))] for c in CHOICES))

    def mutate(self, arch: CNNArch, rng: np.random.Generator) -> CNNArch:
        d = list(self.decisions(arch))
        i = int(rng.integers(len(CHOICES)))
        others = [v for v in CHOICES[i] if v != d[i]]
        d[i] = others[rng.integers(len(others))]
        return self._from(tuple(d))

    def neighbours(self, arch: CNNArch) -> list[CNNArch]:
        d = self.decisions(arch)
        return [self._from(d[:i] + (v,) + d[i + 1:]) for i, c in enumerate(CHOICES) for v in c if v != d[i]]

    def build(self, arch: CNNArch, dataset: DatasetSpec) -> nn.Module:
        layers: list[nn.Module] = []
        channels, k, bn = dataset.input_shape[0], arch.kernel, arch.norm == "bn"
        for depth, width in zip(arch.depths, arch.widths, strict=True):
            for block in range(depth):
                stride = 2 if block == 0 else 1  # each stage halves the resolution
                layers.append(nn.Conv2d(channels, width, k, stride=stride, padding=k // 2, bias=not bn))
                layers += [nn.BatchNorm2d(width), nn.ReLU()] if bn else [nn.ReLU()]
                channels = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, dataset.num_classes)]
        return nn.Sequential(*layers)


def sample_distinct(space: SearchSpace, n: int, seed: int) -> list[CNNArch]:
    """The first ``n`` distinct architectures drawn with ``seed``: a rerun draws the same ones,
    and a larger ``n`` extends them, so the scores stored for them are reused."""
    rng, found = np.random.default_rng(seed), {}
    for _ in range(100 * n):
        arch = space.sample(rng)
        found.setdefault(space.identity(arch), arch)
        if len(found) == n:
            return list(found.values())
    raise ZeronasUserError(f"could not draw {n} distinct architectures; pass fewer --candidates")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=300, help="distinct architectures to score (default 300)")
    parser.add_argument("--proxies", default="gradsign,naswot,params", help="comma-separated; ranked by their ensemble")
    parser.add_argument("--results", default="own_space.jsonl", help="JSON-lines results file; rerun to resume")
    parser.add_argument("--workers", type=int, default=1, help="scoring processes of one thread each")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample, the batches and the initialisation")
    parser.add_argument("--top", type=int, default=10, help="how many to print (default 10)")
    parser.add_argument("--data-dir", default=None, help="data directory (default: zeronas' rule)")
    parser.add_argument("--json", action="store_true", help="print the ranking as JSON")
    args = parser.parse_args(argv)

    space = CNNSpace()
    candidates = sample_distinct(space, args.candidates, args.seed)
    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    with JsonlStore(args.results) as store, make_executor(args.workers) as executor:
        table = Evaluator(space, dataset="cifar10", proxies=proxies, seed=args.seed, store=store,
                          executor=executor, data_dir=args.data_dir).score(candidates)

    # Rank ensemble: each proxy's scores oriented and ranked (NaN worst), log ranks summed.
    keys = table.keys()
    combined = ensemble_scores(table.values, keys, higher_is_better=table.higher_is_better)
    order = sorted(range(len(candidates)), key=lambda i: (-combined[i], table.identities[i]))
    ranking = [{"rank": r, "arch": table.identities[i], "ensemble": round(float(combined[i]), 6),
                "scores": {k: None if math.isnan(table[k][i]) else float(table[k][i]) for k in keys},
                "reasons": {k: str(table.reasons[k][i]) for k in keys if table.status[k][i] != "ok"}}
               for r, i in enumerate(order, start=1)]

    top = ranking[:args.top]
    if args.json:
        print(json.dumps({"candidates": len(candidates), "proxies": keys, "results": args.results, "top": top},
                         indent=2))
        return ranking
    print(f"top {len(top)} of {len(candidates)} by the rank ensemble of {', '.join(keys)}")
    print(f"{'rank':>4}  {'architecture':<22} {'ensemble':>9}" + "".join(f"{k:>12}" for k in keys))
    for row in top:
        values = "".join(f"{'nan' if v is None else f'{v:.4g}':>12}" for v in row["scores"].values())
        print(f"{row['rank']:>4}  {row['arch']:<22} {row['ensemble']:>9.3f}{values}")
    return ranking


if __name__ == "__main__":  # the guard lets --workers spawn processes that import this file
    try:
        main()
    except ZeronasUserError as exc:  # a bad proxy, data directory or results file: one line, exit 2
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every finished score is in the results file
        print("interrupted; rerun with the same --results to resume", file=sys.stderr)
        sys.exit(130)
