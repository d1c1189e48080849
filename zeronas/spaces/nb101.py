"""NAS-Bench-101 (Ying et al., ICML 2019): cells of at most 7 vertices and 9 edges, 423,624 networks.

A cell is a DAG given by an upper-triangular adjacency matrix and one operation per vertex:
``input``, then ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3``, then ``output``.
Its text is one line ``MATRIX OPS``: the row-major matrix as 0/1 characters, a space and the
op names joined by ``|``, e.g. ``0110001000000100000100000 input|conv3x3-bn-relu|...|output``.

As in NAS-Bench-101, vertices that are not on an input->output path are pruned before the
cell is hashed, checked or built, and the identity of a cell is NAS-Bench-101's module hash
(``graph_util.hash_module``), so isomorphic cells and cells that differ only in pruned parts
share it. The network is the one NAS-Bench-101 trained (``model_builder.py``): stem
Conv3x3-BN-ReLU of 128 channels, 3 stacks of 3 cells, 2x2 max-pool with channels doubled
between stacks, global average pool and a dense layer.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zeronas.data.datasets import DatasetSpec, get_dataset
from zeronas.errors import ArchitectureError
from zeronas.spaces._registry import register_space
from zeronas.spaces.base import Canonical, Categorical, SearchSpace

INPUT, OUTPUT = "input", "output"
CONV3X3, CONV1X1, MAXPOOL3X3 = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# NAS-Bench-101's ``available_ops`` order: an op's index is its label in the module hash.
INNER_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
MAX_VERTICES = 7
MAX_EDGES = 9
_INPUT_LABEL, _OUTPUT_LABEL = -1, -2
_EXAMPLE = "0110001000000100000100000 input|conv3x3-bn-relu|maxpool3x3|conv1x1-bn-relu|output"

# NAS-Bench-101's training configuration (config.py, base_ops.py).
STEM_CHANNELS = 128
NUM_STACKS = 3
CELLS_PER_STACK = 3
BN_EPSILON = 1e-5
# TensorFlow's momentum 0.997 weights the old running mean; PyTorch's weights the new batch.
BN_MOMENTUM = 1.0 - 0.997

Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class NB101Arch:
    """One NAS-Bench-101 cell: adjacency ``matrix`` (``matrix[i][j] = 1``: edge i -> j) and ``ops``.

    Kept as given, unpruned; the constructor normalises the matrix to a tuple of int tuples
    and validates the cell (raises ArchitectureError, one line).
    """

    matrix: Matrix
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        try:
            matrix = tuple(tuple(int(x) for x in row) for row in self.matrix)
        except (TypeError, ValueError):
            raise ArchitectureError(
                f"NAS-Bench-101 matrix must be rows of 0/1 integers, got {self.matrix!r}"
            ) from None
        if isinstance(self.ops, str) or not all(isinstance(op, str) for op in self.ops):
            raise ArchitectureError(f"NAS-Bench-101 ops must be a sequence of op names, got {self.ops!r}")
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", tuple(self.ops))
        problem = _problem(matrix, self.ops)
        if problem:
            raise ArchitectureError(f"invalid NAS-Bench-101 cell {format_arch(self)!r}: {problem}")

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def __str__(self) -> str:
        return format_arch(self)


def format_arch(arch: NB101Arch) -> str:
    """``MATRIX OPS``: the row-major 0/1 matrix, a space, the op names joined by ``|``."""
    return "".join(str(x) for row in arch.matrix for x in row) + " " + "|".join(arch.ops)


# ----------------------------------------------------------------------------- validity
def _problem(matrix: Matrix, ops: tuple[str, ...]) -> str | None:
    """Why (matrix, ops) is not a NAS-Bench-101 cell, or None if it is one."""
    n = len(ops)
    if not 2 <= n <= MAX_VERTICES:
        return f"{n} vertices; a cell has 2 to {MAX_VERTICES} (input and output included)"
    if len(matrix) != n or any(len(row) != n for row in matrix):
        return f"the matrix must be {n} x {n}, one row and column per op"
    if any(x not in (0, 1) for row in matrix for x in row):
        return "matrix entries must be 0 or 1"
    if any(matrix[i][j] for i in range(n) for j in range(i + 1)):
        return "the matrix must be upper-triangular (edges only from a vertex to a later one)"
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        return f"the first op must be {INPUT!r} and the last {OUTPUT!r}"
    for op in ops[1:-1]:
        if op not in INNER_OPS:
            return f"unknown operation {op!r}; inner ops are {', '.join(INNER_OPS)}"
    kept = _kept_vertices(matrix)
    if kept is None:
        return "no path from input to output"
    edges = sum(matrix[i][j] for i in kept for j in kept)
    if edges > MAX_EDGES:
        return f"{edges} edges after pruning; NAS-Bench-101 allows at most {MAX_EDGES}"
    return None


def _kept_vertices(matrix: Matrix) -> list[int] | None:
    """Vertices on some input->output path (in order), or None if the output is unreachable."""
    n = len(matrix)
    from_input = {0}
    for v in range(1, n):  # upper-triangular: predecessors of v come before it
        if any(matrix[u][v] for u in from_input):
            from_input.add(v)
    to_output = {n - 1}
    for v in range(n - 2, -1, -1):
        if any(matrix[v][w] for w in to_output):
            to_output.add(v)
    if n - 1 not in from_input:
        return None
    return sorted(from_input & to_output)


def prune(arch: NB101Arch) -> NB101Arch:
    """``arch`` without the vertices that are not on an input->output path (NB101 ModelSpec)."""
    kept = _kept_vertices(arch.matrix)
    assert kept is not None  # valid archs always reach the output
    if len(kept) == arch.num_vertices:
        return arch
    matrix = tuple(tuple(arch.matrix[i][j] for j in kept) for i in kept)
    return NB101Arch(matrix, tuple(arch.ops[i] for i in kept))


def renumberings(arch: NB101Arch) -> list[NB101Arch]:
    """``arch`` written in every topological numbering of its inner vertices (one identity).

    NB101 trained one numbering per hash, and its channel split depends on the numbering,
    so parameter counts of isomorphic numberings can differ by a few thousand.
    """
    n = arch.num_vertices
    out = []
    for perm in itertools.permutations(range(1, n - 1)):
        order = (0, *perm, n - 1)
        matrix = tuple(tuple(arch.matrix[order[i]][order[j]] for j in range(n)) for i in range(n))
        if not any(matrix[i][j] for i in range(n) for j in range(i + 1)):
            out.append(NB101Arch(matrix, tuple(arch.ops[k] for k in order)))
    return out


# ----------------------------------------------------------------------------- parsing
def parse(text: str) -> NB101Arch:
    """Parse ``MATRIX OPS`` (see the module docstring); raises ArchitectureError (one line)."""
    if not isinstance(text, str):
        raise ArchitectureError(f"NAS-Bench-101 architecture must be a string, got {type(text).__name__}")
    hint = f"expected 'MATRIX OPS' like {_EXAMPLE!r}"
    parts = text.split()
    if len(parts) != 2:
        raise ArchitectureError(f"malformed NAS-Bench-101 architecture {text!r}: {hint}")
    bits, op_text = parts
    if set(bits) - {"0", "1"}:
        raise ArchitectureError(f"malformed NAS-Bench-101 matrix {bits!r}: only 0/1 characters allowed; {hint}")
    ops = tuple(op_text.split("|"))
    n = len(ops)
    if len(bits) != n * n:
        raise ArchitectureError(
            f"NAS-Bench-101 matrix {bits!r} has {len(bits)} entries but {n} ops need {n * n} (n x n); {hint}"
        )
    matrix = tuple(tuple(int(b) for b in bits[i * n:(i + 1) * n]) for i in range(n))
    return NB101Arch(matrix, ops)


def as_arch(arch: NB101Arch | str) -> NB101Arch:
    return arch if isinstance(arch, NB101Arch) else parse(arch)


# ----------------------------------------------------------------------------- module hash
def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def module_hash(matrix: Matrix, labels: Sequence[int]) -> str:
    """NAS-Bench-101's graph-invariant hash of a (pruned) matrix and integer vertex labels.

    Each vertex starts from the md5 of ``(out-degree, in-degree, label)`` and is re-hashed
    ``n`` times from its sorted in-neighbour hashes, its sorted out-neighbour hashes and its own
    hash; the cell hash is the md5 of the sorted vertex hashes. The strings hashed are exactly
    those NB101 feeds md5 (Python reprs of a tuple and of a list of strings), so the hashes
    match the benchmark's keys.
    """
    n = len(labels)
    preds = [[u for u in range(n) if matrix[u][v]] for v in range(n)]
    succs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [_md5(f"({len(succs[v])}, {len(preds[v])}, {labels[v]})") for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[u] for u in preds[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in succs[v]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5("[" + ", ".join(f"'{h}'" for h in sorted(hashes)) + "]")


@lru_cache(maxsize=1 << 16)
def identity(arch: NB101Arch) -> str:
    """The NAS-Bench-101 module hash (32 hex) of ``arch`` after pruning."""
    spec = prune(arch)
    labels = [_INPUT_LABEL] + [INNER_OPS.index(op) for op in spec.ops[1:-1]] + [_OUTPUT_LABEL]
    return module_hash(spec.matrix, labels)


# ----------------------------------------------------------------------------- search moves
def sample(rng: np.random.Generator) -> NB101Arch:
    """NAS-Bench-101's random spec: 7 vertices, random upper-triangular 0/1 matrix and inner ops.

    Redrawn until valid (input reaches output, at most 9 edges after pruning), as the NB101
    example code does; unpruned, so its extraneous vertices are kept.
    """
    while True:
        matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), k=1)
        inner = rng.integers(len(INNER_OPS), size=MAX_VERTICES - 2)
        ops = (INPUT, *(INNER_OPS[int(i)] for i in inner), OUTPUT)
        matrix_t = tuple(tuple(int(x) for x in row) for row in matrix)
        if _problem(matrix_t, ops) is None:
            return NB101Arch(matrix_t, ops)


def single_changes(arch: NB101Arch) -> list[NB101Arch]:
    """Every valid cell that differs from ``arch`` in one decision (one edge bit or one inner op).

    Edges first (row-major upper triangle), then ops by vertex; identities may repeat.
    """
    n = arch.num_vertices
    changed: list[NB101Arch] = []
    for i in range(n):
        for j in range(i + 1, n):
            rows = [list(row) for row in arch.matrix]
            rows[i][j] = 1 - rows[i][j]
            matrix = tuple(tuple(row) for row in rows)
            if _problem(matrix, arch.ops) is None:
                changed.append(NB101Arch(matrix, arch.ops))
    for v in range(1, n - 1):
        for op in INNER_OPS:
            if op != arch.ops[v]:
                changed.append(NB101Arch(arch.matrix, arch.ops[:v] + (op,) + arch.ops[v + 1:]))
    return changed


def neighbours(arch: NB101Arch) -> list[NB101Arch]:
    """One cell per distinct identity one decision away from ``arch``, its own identity excluded."""
    seen = {identity(arch)}
    result = []
    for other in single_changes(arch):
        key = identity(other)
        if key not in seen:
            seen.add(key)
            result.append(other)
    return result


def mutate(arch: NB101Arch, rng: np.random.Generator) -> NB101Arch:
    """One decision of ``arch`` changed, drawn uniformly among the changes to another identity."""
    own = identity(arch)
    options = [other for other in single_changes(arch) if identity(other) != own]
    if not options:
        raise ArchitectureError(
            f"NAS-Bench-101 cell {format_arch(arch)!r} has no valid single-change mutation; "
            "give it 7 vertices (sample() does) so that edges can be added"
        )
    return options[int(rng.integers(len(options)))]


# ----------------------------------------------------------------------------- network
def compute_vertex_channels(c_in: int, c_out: int, matrix: Matrix) -> list[int]:
    """Output channels of each vertex of a pruned cell, as NAS-Bench-101 splits them.

    The vertices feeding the output share ``c_out`` (the first ones get one extra channel when
    it does not divide evenly); every other interior vertex takes the largest count among the
    interior vertices it feeds, so channels never grow along an edge.
    """
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    feeds_output = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    share, extra = divmod(c_out, len(feeds_output))
    for k, v in enumerate(feeds_output):
        channels[v] = share + (1 if k < extra else 0)
    for v in range(n - 3, 0, -1):  # backwards, so successors are already set
        if not matrix[v][n - 1]:
            channels[v] = max(channels[w] for w in range(v + 1, n - 1) if matrix[v][w])
    return channels


class ChannelsLastMaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d``, run on a channels-last copy of its input when no gradient is taken.

    Same values (the output is contiguous). PyTorch's CPU kernel without indices is about 4x
    faster on channels-last tensors (it vectorises over channels) on NAS-Bench-101's 128-512
    channels; with gradients the indices kernel is used as before, so gradients are unchanged.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or self.return_indices or (torch.is_grad_enabled() and x.requires_grad):
            return super().forward(x)
        # A permuted copy has channels-last strides; unlike ``.contiguous(memory_format=...)`` it
        # also works inside ``torch.func.vmap``.
        channels_last = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        return super().forward(channels_last).contiguous()


class ConvBnRelu(nn.Sequential):
    """NAS-Bench-101's ``conv_bn_relu``: 'same' conv without bias, BatchNorm (affine), ReLU.

    Named as in the PyTorch NAS-Bench-101 network that NASWOT's official code scores: its hook
    rule (class name contains "ReLU") must see only the ReLU inside, not this wrapper.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def _make_op(op: str, channels: int) -> nn.Module:
    if op == CONV3X3:
        return ConvBnRelu(channels, channels, 3)
    if op == CONV1X1:
        return ConvBnRelu(channels, channels, 1)
    if op == MAXPOOL3X3:
        return ChannelsLastMaxPool2d(3, stride=1, padding=1)
    raise ArchitectureError(f"unknown NAS-Bench-101 operation {op!r}")


class Cell(nn.Module):
    """One NAS-Bench-101 module for a pruned spec.

    Interior vertex t sums its interior inputs (truncated to its channels) and the 1x1
    projection of the cell input, then applies its op; the output concatenates the vertices
    that feed it and adds the projected cell input when input -> output is an edge.
    """

    def __init__(self, spec: NB101Arch, c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = spec.matrix
        self.channels = compute_vertex_channels(c_in, c_out, spec.matrix)
        n = spec.num_vertices
        self.projections = nn.ModuleDict(
            {str(t): ConvBnRelu(c_in, self.channels[t], 1) for t in range(1, n) if spec.matrix[0][t]}
        )
        self.vertex_ops = nn.ModuleList(_make_op(spec.ops[t], self.channels[t]) for t in range(1, n - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m = len(self.matrix), self.matrix
        tensors = [x]
        for t in range(1, n - 1):
            inputs = [tensors[s][:, : self.channels[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                inputs.append(self.projections[str(t)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            tensors.append(self.vertex_ops[t - 1](total))
        concat = [tensors[t] for t in range(1, n - 1) if m[t][n - 1]]
        if not concat:  # only input -> output
            return self.projections[str(n - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if m[0][n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network for one cell; ``forward`` returns the logits."""

    def __init__(self, arch: NB101Arch, *, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch
        spec = prune(arch)
        self.stem = ConvBnRelu(in_channels, STEM_CHANNELS, 3)
        layers: list[nn.Module] = []
        c_in = c = STEM_CHANNELS
        for stack in range(NUM_STACKS):
            if stack > 0:
                # TF 'same' 2x2/2 pooling pads odd sizes at the end, like ceil_mode.
                layers.append(ChannelsLastMaxPool2d(2, stride=2, ceil_mode=True))
                c *= 2
            for _ in range(CELLS_PER_STACK):
                layers.append(Cell(spec, c_in, c))
                c_in = c
        self.cells = nn.Sequential(*layers)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.cells(self.stem(x))
        return self.classifier(torch.flatten(self.global_pooling(out), 1))

    def constant_weight_twin(self) -> nn.Module:
        """The network at one constant weight, one channel per group of equal channels (epsinas)."""
        return ConstantWeightNB101(self.arch, in_channels=self.stem[0].in_channels)


class ConstantWeightNB101(nn.Module):
    """:class:`NB101Network` with every weight one constant ``weight`` and every bias 0, narrowed.

    Under one constant weight (BatchNorm on batch statistics, its scale the same constant) the
    channels of a vertex are all equal, and a cell's output is the concatenation of groups of
    equal channels, one group per vertex that feeds it (``channels[t]`` wide), each plus the
    projected input. So the network runs with one channel per group: a convolution reading
    groups of widths m_j sums ``weight * m_j`` times each group; pooling and BatchNorm act per
    channel. Reads the channel mean of the input (N, 1, H, W); returns the first logit (N, 1).
    """

    def __init__(self, arch: NB101Arch, *, in_channels: int = 3) -> None:
        super().__init__()
        self.spec = prune(as_arch(arch))
        self.in_channels = in_channels
        self.weight = nn.Parameter(torch.ones(()), requires_grad=False)  # the constant; epsinas sets it
        self.cell_channels: list[list[list[int]]] = []  # per stack, each cell's vertex channels
        c_in = c = STEM_CHANNELS
        for stack in range(NUM_STACKS):
            if stack > 0:
                c *= 2
            cells = []
            for _ in range(CELLS_PER_STACK):
                cells.append(compute_vertex_channels(c_in, c, self.spec.matrix))
                c_in = c
            self.cell_channels.append(cells)

    def _conv_bn_relu(self, x: torch.Tensor, widths: list[float], kernel: int) -> torch.Tensor:
        """Conv (summing each input group ``widths[j]`` times), BatchNorm and ReLU, at the constant."""
        scale = self.weight.to(x.dtype) * x.new_tensor(widths)
        out = F.conv2d(x, scale.view(1, -1, 1, 1).expand(1, len(widths), kernel, kernel), padding=kernel // 2)
        out = F.batch_norm(out, None, None, weight=self.weight.view(1).to(x.dtype),
                           bias=x.new_zeros(1), training=True, eps=BN_EPSILON)
        return F.relu(out)

    def _cell(self, x: torch.Tensor, widths: list[float], channels: list[int]) -> tuple[torch.Tensor, list[float]]:
        m = self.spec.matrix
        n = len(m)
        vertices = [x]  # vertex t > 0: one group, channels[t] wide (an input truncated to it stays one group)
        for t in range(1, n - 1):
            inputs = [vertices[s] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                inputs.append(self._conv_bn_relu(x, widths, 1))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            op = self.spec.ops[t]
            if op == MAXPOOL3X3:
                vertices.append(F.max_pool2d(total, 3, stride=1, padding=1))
            else:
                vertices.append(self._conv_bn_relu(total, [float(channels[t])], 3 if op == CONV3X3 else 1))
        feeding = [t for t in range(1, n - 1) if m[t][n - 1]]
        if not feeding:  # only input -> output
            return self._conv_bn_relu(x, widths, 1), [float(channels[n - 1])]
        out = torch.cat([vertices[t] for t in feeding], dim=1)
        if m[0][n - 1]:
            out = out + self._conv_bn_relu(x, widths, 1)
        return out, [float(channels[t]) for t in feeding]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._conv_bn_relu(x, [float(self.in_channels)], 3)
        widths = [float(STEM_CHANNELS)]
        for stack, cells in enumerate(self.cell_channels):
            if stack > 0:
                out = F.max_pool2d(out, 2, stride=2, ceil_mode=True)
            for channels in cells:
                out, widths = self._cell(out, widths, channels)
        pooled = out.mean(dim=(2, 3))
        return pooled @ (self.weight.to(pooled.dtype) * pooled.new_tensor(widths)).view(-1, 1)


def build(arch: NB101Arch | str, *, num_classes: int = 10, in_channels: int = 3) -> NB101Network:
    """Build the network NAS-Bench-101 trained for ``arch`` (default PyTorch init)."""
    if num_classes < 1:
        raise ArchitectureError(f"num_classes must be >= 1, got {num_classes}")
    return NB101Network(as_arch(arch), num_classes=num_classes, in_channels=in_channels)


def _conv_bn(c_in: int, c_out: int, kernel: int) -> int:
    return c_in * c_out * kernel * kernel + 2 * c_out


def _cell_parameters(spec: NB101Arch, c_in: int, c_out: int) -> int:
    channels = compute_vertex_channels(c_in, c_out, spec.matrix)
    n = spec.num_vertices
    total = sum(_conv_bn(c_in, channels[t], 1) for t in range(1, n) if spec.matrix[0][t])
    kernels = {CONV3X3: 3, CONV1X1: 1}
    for t in range(1, n - 1):
        if spec.ops[t] in kernels:
            total += _conv_bn(channels[t], channels[t], kernels[spec.ops[t]])
    return total


def count_parameters(arch: NB101Arch | str, *, num_classes: int = 10, in_channels: int = 3) -> int:
    """Trainable parameters of ``build(arch, num_classes=...)``, computed without building it."""
    spec = prune(as_arch(arch))
    total = _conv_bn(in_channels, STEM_CHANNELS, 3)
    c_in = c = STEM_CHANNELS
    for stack in range(NUM_STACKS):
        if stack > 0:
            c *= 2
        for _ in range(CELLS_PER_STACK):
            total += _cell_parameters(spec, c_in, c)
            c_in = c
    return total + c * num_classes + num_classes


# ----------------------------------------------------------------------------- the space
@register_space
class NB101Space(SearchSpace, Canonical, Categorical):
    """NAS-Bench-101: cells of at most 7 vertices and 9 edges; identity = NB101 module hash.

    Architectures are kept unpruned (as given or sampled), so search moves act on the full
    7-vertex spec; two cells with the same pruned graph share an identity and ground truth.

    ``build`` follows the vertex numbering it is given. NB101 trained one numbering per hash,
    and its channel split hands the spare channels to the first vertices, so an isomorphic
    numbering can differ by a few thousand parameters (1 of the 189 cells with a recorded
    count here: see benchmarks/nb101_checks.py).
    """

    name = "nb101"

    def parse(self, text: str) -> NB101Arch:
        return parse(text)

    def format(self, arch: NB101Arch | str) -> str:
        return format_arch(as_arch(arch))

    def identity(self, arch: NB101Arch | str) -> str:
        return identity(as_arch(arch))

    def canonical(self, arch: NB101Arch | str) -> str:
        """The module hash: NB101 keys its table by it, so its identity already names the class."""
        return identity(as_arch(arch))

    def decisions(self, arch: NB101Arch | str) -> tuple[int | str, ...]:
        """The upper-triangle edge bits (row-major), then the inner vertices' ops."""
        arch = as_arch(arch)
        n = arch.num_vertices
        return (*(arch.matrix[i][j] for i in range(n) for j in range(i + 1, n)), *arch.ops[1:-1])

    def choices(self) -> tuple[tuple[int | str, ...], ...]:
        """A 7-vertex cell: its 21 upper-triangle edge bits, then its 5 inner ops."""
        edges = MAX_VERTICES * (MAX_VERTICES - 1) // 2
        return ((0, 1),) * edges + (INNER_OPS,) * (MAX_VERTICES - 2)

    def from_decisions(self, decisions: Sequence[int | str]) -> NB101Arch:
        decisions = tuple(decisions)
        edges = MAX_VERTICES * (MAX_VERTICES - 1) // 2
        if len(decisions) != edges + MAX_VERTICES - 2:
            raise ArchitectureError(f"a 7-vertex NAS-Bench-101 cell has {edges} edge bits and {MAX_VERTICES - 2} "
                                    f"inner ops; got {len(decisions)} decisions")
        bits = iter(decisions[:edges])
        matrix = tuple(tuple(next(bits) if j > i else 0 for j in range(MAX_VERTICES)) for i in range(MAX_VERTICES))
        return NB101Arch(matrix, (INPUT, *decisions[edges:], OUTPUT))  # validates: raises ArchitectureError

    def sample(self, rng: np.random.Generator) -> NB101Arch:
        return sample(rng)

    def mutate(self, arch: NB101Arch | str, rng: np.random.Generator) -> NB101Arch:
        return mutate(as_arch(arch), rng)

    def neighbours(self, arch: NB101Arch | str) -> list[NB101Arch]:
        return neighbours(as_arch(arch))

    def build(self, arch: NB101Arch | str, dataset: DatasetSpec | str = "cifar10") -> nn.Module:
        spec = get_dataset(dataset)
        return build(arch, num_classes=spec.num_classes, in_channels=spec.input_shape[0])

    def prune(self, arch: NB101Arch | str) -> NB101Arch:
        """``arch`` with NAS-Bench-101's pruning applied (same identity)."""
        return prune(as_arch(arch))

    def count_parameters(self, arch: NB101Arch | str, dataset: DatasetSpec | str = "cifar10") -> int:
        """Trainable parameters of the network ``build`` gives, without building it."""
        spec = get_dataset(dataset)
        return count_parameters(arch, num_classes=spec.num_classes, in_channels=spec.input_shape[0])
