"""NAS-Bench-201: a cell of 4 nodes and 6 edges, 5 candidate operations, 15,625 cells.

The network is the one the benchmark trained (the "TinyNetwork" of NAS-Bench-201): stem
Conv3x3+BN, three stages of N=5 cells with C=16, 32, 64 channels, a residual stride-2 block
between stages, and a BN-ReLU-global-pool-Linear head.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zeronas.data.datasets import DatasetSpec, get_dataset
from zeronas.errors import ArchitectureError
from zeronas.spaces._registry import register_space
from zeronas.spaces.base import Canonical, Categorical, Enumerable, SearchSpace

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (target node, source node) of each of the 6 edges, in the order of the architecture string.
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
_NODE_RE = re.compile(r"^\|([^|]+~\d+\|)+$")


@dataclass(frozen=True)
class NB201Arch:
    """One NAS-Bench-201 cell: the operation on each of the 6 edges, in string order."""

    ops: tuple[str, str, str, str, str, str]

    def __str__(self) -> str:
        nodes, k = [], 0
        for target in (1, 2, 3):
            parts = []
            for source in range(target):
                parts.append(f"{self.ops[k]}~{source}")
                k += 1
            nodes.append("|" + "|".join(parts) + "|")
        return "+".join(nodes)


def parse(text: str) -> NB201Arch:
    """Parse an architecture string such as ``|nor_conv_3x3~0|+|...~0|...~1|+|...|``."""
    if not isinstance(text, str):
        raise ArchitectureError(f"NAS-Bench-201 architecture must be a string, got {type(text).__name__}")
    nodes = text.strip().split("+")
    hint = f"expected 3 nodes like {_EXAMPLE!r}"
    if len(nodes) != 3 or not all(_NODE_RE.match(node) for node in nodes):
        raise ArchitectureError(f"malformed NAS-Bench-201 architecture {text!r}: {hint}")
    ops: list[str] = []
    for target, node in enumerate(nodes, start=1):
        entries = node.strip("|").split("|")
        if len(entries) != target:
            raise ArchitectureError(
                f"malformed NAS-Bench-201 architecture {text!r}: node {target} needs {target} inputs, "
                f"got {len(entries)}; {hint}"
            )
        for source, entry in enumerate(entries):
            op, _, src = entry.partition("~")
            if op not in OPS:
                raise ArchitectureError(
                    f"unknown NAS-Bench-201 operation {op!r} in {text!r}; choose from {', '.join(OPS)}"
                )
            if int(src) != source:
                raise ArchitectureError(
                    f"malformed NAS-Bench-201 architecture {text!r}: input {entry!r} of node {target} "
                    f"must read from node {source}"
                )
            ops.append(op)
    return NB201Arch(tuple(ops))  # type: ignore[arg-type]


def as_arch(arch: NB201Arch | str) -> NB201Arch:
    return arch if isinstance(arch, NB201Arch) else parse(arch)


# ----------------------------------------------------------------------------- network
class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


@lru_cache(maxsize=16)
def _window_counts(height: int, width: int) -> torch.Tensor:
    """In-image pixels of each 3x3 window, shape (1, 1, H, W): 9 inside, 6 at edges, 4 at corners."""
    # Cached: made outside inference mode, or autograd could not use it after an inference pass.
    with torch.inference_mode(False), torch.no_grad():
        ones = torch.ones(1, 1, height, width, device="cpu", dtype=torch.float32)
        return F.conv2d(ones, torch.ones(1, 1, 3, 3, device="cpu", dtype=torch.float32), padding=1)


class AveragePool3x3(nn.AvgPool2d):
    """``nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)``, computed as a depthwise sum.

    A 3x3 all-ones depthwise convolution divided by the window counts gives the same values
    (to float rounding) about 7x faster forward and backward on CPU than PyTorch's pooling
    kernel; it is an ``AvgPool2d`` subclass, so code that tests module types (FLOP counts) sees
    a 3x3 average pool.
    """

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            return super().forward(x)
        channels = x.shape[1]
        summed = F.conv2d(x, x.new_ones(channels, 1, 3, 3), padding=1, groups=channels)
        return summed / _window_counts(*x.shape[-2:]).to(device=x.device, dtype=x.dtype)


def _make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if name == "avg_pool_3x3":
        return AveragePool3x3()
    raise ArchitectureError(f"unknown NAS-Bench-201 operation {name!r}")


class Cell(nn.Module):
    """Node j = sum over i < j of op_(j,i)(node i); the cell outputs node 3."""

    def __init__(self, arch: NB201Arch, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(_make_op(op, channels) for op in arch.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for target in (1, 2, 3):
            total = self.edges[k](nodes[0])
            for source in range(1, target):
                total = total + self.edges[k + source](nodes[source])
            k += target
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """The stride-2 ResNet basic block between stages."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NAS-Bench-201 network for one cell; ``forward`` returns the logits."""

    def __init__(self, arch: NB201Arch, *, num_classes: int = 10, channels: int = 16, cells_per_stage: int = 5):
        super().__init__()
        self.arch = arch
        self.num_classes = num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers.extend(Cell(arch, c) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pooling(out), 1))

    def collapses_under_constant_weights(self) -> bool:
        # Channels mix only through Conv/Linear sums, so epsinas may evaluate it at width one
        # without a check (tests/proxies/test_epsinas.py verifies this on many cells).
        return True

    def linear_region_network(self) -> nn.Module:
        """The thin network TE-NAS counts linear regions on: one cell of width 1, no stem, no reductions.

        TE-NAS's ``C=1, N=1, depth=1, use_stem=False`` configuration; it reads one-channel inputs
        (TE-NAS feeds 3x3 crops of one random colour channel). Freshly initialised.
        """
        return nn.Sequential(
            Cell(self.arch, 1),
            nn.BatchNorm2d(1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(1, self.num_classes),
        )

    def batchnorm_free_copy(self) -> nn.Module:
        """The ``bn=False`` copy zero-cost-nas scores SynFlow on (``get_prunable_copy(bn=False)``).

        zero-cost-nas's NAS-Bench-201 model (``foresight/models/nasbench2.py``) passes
        ``use_bn=False`` to the stem, the cells and the head, but builds the stride-2 residual
        blocks' ReLU-Conv-BN units with their default ``use_bn=True``: their two BatchNorms stay.
        So this deep copy replaces every other BatchNorm (stem, cells, ``lastact``) by an
        identity and keeps those of each :class:`ResidualReduction` unchanged.
        """
        import copy

        work = copy.deepcopy(self)
        kept = {id(m) for block in work.modules() if isinstance(block, ResidualReduction) for m in block.modules()}
        for parent in list(work.modules()):
            for child_name, child in list(parent.named_children()):
                if isinstance(child, nn.modules.batchnorm._BatchNorm) and id(child) not in kept:
                    setattr(parent, child_name, nn.Identity())
        return work


def build(arch: NB201Arch | str, *, num_classes: int = 10) -> NB201Network:
    """Build the network NAS-Bench-201 trained for ``arch`` (C=16, N=5), default PyTorch init."""
    if num_classes < 1:
        raise ArchitectureError(f"num_classes must be >= 1, got {num_classes}")
    return NB201Network(as_arch(arch), num_classes=num_classes)


def count_parameters(arch: NB201Arch | str, *, num_classes: int = 10) -> int:
    """Trainable parameters of ``build(arch, num_classes)``, computed without building it."""
    arch = as_arch(arch)
    total = 3 * 16 * 9 + 2 * 16  # stem conv + BN
    for stage, c in enumerate((16, 32, 64)):
        if stage > 0:
            c_in = c // 2
            total += c_in * c * 9 + 2 * c + c * c * 9 + 2 * c + c_in * c  # conv_a, conv_b, shortcut
        per_cell = sum(
            c * c * 9 + 2 * c if op == "nor_conv_3x3" else c * c + 2 * c if op == "nor_conv_1x1" else 0
            for op in arch.ops
        )
        total += 5 * per_cell
    return total + 2 * 64 + 64 * num_classes + num_classes


def isomorphism_class(arch: NB201Arch) -> str:
    """The isomorphism class of a cell, named by its smallest architecture string.

    Two cells are isomorphic when a renumbering of the inner nodes 1 and 2 maps one graph onto
    the other, every edge counted, those no input-output path uses included: they are then the
    same network up to the order of its modules (same parameters, FLOPs and computation, a
    different draw of the initialisation). In NAS-Bench-201 only a cell whose edge 1->2 is
    "none" can be renumbered (node 1 and node 2 swap roles), so there are 14,125 classes of the
    15,625 cells. :func:`pruned_class` drops the unused edges first, which merges further.
    """
    e01, e02, e12, e03, e13, e23 = arch.ops
    if e12 != "none":
        return str(arch)
    swapped = NB201Arch((e02, e01, e12, e03, e23, e13))
    return str(min(arch, swapped, key=lambda a: a.ops))


@lru_cache(maxsize=1 << 15)
def pruned_class(arch: NB201Arch) -> str:
    """The computation a cell's output depends on, as a term: 8,765 classes of the 15,625 cells.

    Edges that no input-output path uses ("none" edges, edges out of a node the input does not
    reach, edges into a node that does not reach the output) are dropped; each node is then the
    sorted sum of ``op(source term)`` over its remaining inputs, so two cells share the term
    exactly when their pruned graphs are isomorphic. Not used to share scores: the dropped
    edges still hold parameters and activations, so cells of one pruned class can differ in
    parameter count (e.g. 316,346 against 73,306) and in every score that sees all layers.
    NAS-Bench-201's own ``to_unique_str`` also treats skip_connect as no operation, which merges
    further, to 6,466 classes.
    """
    live = [(target, source, op) for (target, source), op in zip(EDGES, arch.ops, strict=True) if op != "none"]
    from_input = {0}
    for node in (1, 2, 3):
        if any(t == node and s in from_input for t, s, _ in live):
            from_input.add(node)
    to_output = {3}
    for node in (2, 1, 0):
        if any(s == node and t in to_output for t, s, _ in live):
            to_output.add(node)
    used = [(t, s, op) for t, s, op in live if s in from_input and t in to_output]
    terms = {0: "x"}
    for node in (1, 2, 3):
        parts = sorted(f"{op}({terms[s]})" for t, s, op in used if t == node)
        terms[node] = parts[0] if len(parts) == 1 else "(" + "+".join(parts) + ")" if parts else ""
    return terms[3] or "zero"


def canonical_order() -> list[NB201Arch]:
    """All 15,625 cells in itertools.product order (not the benchmark's index order)."""
    return [NB201Arch(ops) for ops in itertools.product(OPS, repeat=6)]  # type: ignore[misc]


@register_space
class NB201Space(SearchSpace, Enumerable, Canonical, Categorical):
    """NAS-Bench-201: 6 edges, 5 operations each; ``all_archs`` follows the official index.

    The identity of a cell is its architecture string: NAS-Bench-201 trained every one of the
    15,625 strings, isomorphic cells included, so each has its own ground truth.
    ``canonical`` names the isomorphism class (see :func:`isomorphism_class`).
    """

    name = "nb201"

    def parse(self, text: str) -> NB201Arch:
        return parse(text)

    def format(self, arch: NB201Arch) -> str:
        return str(as_arch(arch))

    def identity(self, arch: NB201Arch | str) -> str:
        return str(as_arch(arch))

    def canonical(self, arch: NB201Arch | str) -> str:
        return isomorphism_class(as_arch(arch))

    def decisions(self, arch: NB201Arch | str) -> tuple[str, ...]:
        return as_arch(arch).ops

    def choices(self) -> tuple[tuple[str, ...], ...]:
        return (OPS,) * len(EDGES)

    def from_decisions(self, decisions: Sequence[str]) -> NB201Arch:
        ops = tuple(decisions)
        if len(ops) != len(EDGES) or any(op not in OPS for op in ops):
            raise ArchitectureError(f"a NAS-Bench-201 cell is {len(EDGES)} operations from {', '.join(OPS)}; got {ops!r}")
        return NB201Arch(ops)  # type: ignore[arg-type]

    def sample(self, rng: np.random.Generator) -> NB201Arch:
        return NB201Arch(tuple(OPS[int(i)] for i in rng.integers(len(OPS), size=len(EDGES))))  # type: ignore[arg-type]

    def mutate(self, arch: NB201Arch | str, rng: np.random.Generator) -> NB201Arch:
        arch = as_arch(arch)
        edge = int(rng.integers(len(EDGES)))
        others = [op for op in OPS if op != arch.ops[edge]]
        return _with_op(arch, edge, others[int(rng.integers(len(others)))])

    def neighbours(self, arch: NB201Arch | str) -> list[NB201Arch]:
        arch = as_arch(arch)
        return [_with_op(arch, edge, op) for edge in range(len(EDGES)) for op in OPS if op != arch.ops[edge]]

    def build(self, arch: NB201Arch | str, dataset: DatasetSpec | str = "cifar10") -> nn.Module:
        return build(arch, num_classes=get_dataset(dataset).num_classes)

    def all_archs(self) -> Sequence[NB201Arch]:
        return _archs_in_index_order(str(self.data_dir) if self.data_dir is not None else None)

    def index_of(self, arch: NB201Arch | str) -> int:
        return _index_in_order(str(self.data_dir) if self.data_dir is not None else None)[as_arch(arch)]


def _with_op(arch: NB201Arch, edge: int, op: str) -> NB201Arch:
    ops = list(arch.ops)
    ops[edge] = op
    return NB201Arch(tuple(ops))  # type: ignore[arg-type]


@lru_cache(maxsize=4)
def _index_in_order(data_dir: str | None) -> dict[NB201Arch, int]:
    return {arch: i for i, arch in enumerate(_archs_in_index_order(data_dir))}


@lru_cache(maxsize=4)
def _archs_in_index_order(data_dir: str | None) -> tuple[NB201Arch, ...]:
    from zeronas.data.nb201_table import load_nb201_table

    return tuple(parse(s) for s in load_nb201_table(data_dir=data_dir).arch_str)


def all_archs(data_dir: str | Path | None = None) -> Sequence[NB201Arch]:
    """All 15,625 cells in the official index order (read from the ground-truth table)."""
    return NB201Space(data_dir).all_archs()
