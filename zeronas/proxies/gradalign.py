"""GradAlign (Li & Guo, arXiv:2411.19819): conflict among per-sample gradients at initialisation.

The paper publishes no code and its full text could not be read; both variants are
reconstructed from its public description ("GradAlign-i" from gradient alignment,
"GradAlign-ii" from the Gram determinant) on the same per-sample gradients as GradSign
(Conv/Linear weights, each sample forwarded alone, BatchNorm in training mode, cross-entropy):

* ``gradalign``: for each weight tensor t, the mean over samples of cos(g_i,t, mean_j g_j,t),
  summed over tensors. Higher = per-sample gradients agree with their common direction.
* ``gradalign_gram``: for each weight tensor, log det(G + ridge * I) with
  G_ij = cos(g_i, g_j) the Gram matrix of the L2-normalised per-sample gradients, summed over
  tensors. Higher = per-sample gradients span a larger volume (are less redundant).

``aggregation="global"`` treats the whole flattened gradient as one tensor instead. A zero
gradient (an unused layer, or a sample with no gradient) has cosine 0 with everything.
"""

from __future__ import annotations

import math

import torch

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, PerSampleGradientProxy
from zeronas.proxies._per_sample import GradientConsumer
from zeronas.proxies._registry import register_proxy

_TINY = 1e-30
# Row norms in [1e-15, 1e15] keep every squared norm and dot product inside float32's normal range.
_SAFE_NORMS = (1e-15, 1e15)


def _grouped(grads: dict[str, torch.Tensor], aggregation: str) -> dict[str, torch.Tensor]:
    """Per-sample gradients as (chunk, P_t) matrices (at least float32), one per tensor or one for all."""
    flat = {name: g.flatten(1) if g.dtype in (torch.float32, torch.float64) else g.flatten(1).float()
            for name, g in grads.items()}
    if aggregation == "global":
        return {"all": torch.cat(list(flat.values()), dim=1)}
    return flat


def _outside_safe_range(norms: torch.Tensor) -> torch.Tensor:
    return ~((norms >= _SAFE_NORMS[0]) & (norms <= _SAFE_NORMS[1]))


def _inverse_norms(rows: torch.Tensor) -> torch.Tensor:
    """1/|row| per row, 0 for a zero row (which then has cosine 0 with everything)."""
    norms = rows.norm(dim=1)
    odd = _outside_safe_range(norms)
    if bool(odd.any()):  # float32 squares may have underflowed or overflowed: redo those rows in float64
        norms[odd] = rows[odd].double().norm(dim=1).to(norms.dtype)
    return torch.where(norms > _TINY, norms.clamp_min(_TINY).reciprocal(), torch.zeros_like(norms))


class _MeanDirectionAlignment(GradientConsumer):
    """Streams sum_i g_i and sum_i g_i/|g_i|: mean_i cos(g_i, m) = <sum ĝ_i, m> / (N |m|)."""

    def __init__(self, aggregation: str) -> None:
        self.aggregation = aggregation
        self.sums: dict[str, torch.Tensor] = {}  # (2, P_t) float64: sum_i g_i and sum_i g_i/|g_i|
        self.count = 0

    def update(self, grads: dict[str, torch.Tensor]) -> None:
        for name, rows in _grouped(grads, self.aggregation).items():
            # Both sums in one read of the gradients: a (2, chunk) x (chunk, P_t) product, not a
            # normalised copy of every row; chunks accumulate in float64.
            weights = torch.stack([rows.new_ones(len(rows)), _inverse_norms(rows)])
            both = (weights @ rows).double()
            if name in self.sums:
                self.sums[name] += both
            else:
                self.sums[name] = both
        self.count += next(iter(grads.values())).shape[0]

    def result(self) -> float:
        total = 0.0
        for s, unit_sum in self.sums.values():
            norm = float(s.norm())
            if norm > _TINY:
                total += float(unit_sum @ s) / (self.count * norm)
        return total


class _GramLogDet(GradientConsumer):
    """Builds sum_t log det(G_t + ridge I), G_t the cosine matrix of the per-sample gradients.

    cos(g_i, g_j) = <g_i, g_j> / (|g_i| |g_j|), scaled after the product: no normalised copy of
    the gradients. Each chunk is multiplied only by itself and the chunks before it (the Gram
    matrix is symmetric), so with 4 chunks 10 of the 16 blocks are computed.
    """

    def __init__(self, aggregation: str, ridge: float) -> None:
        self.aggregation = aggregation
        self.ridge = ridge
        self.rows: dict[str, list[torch.Tensor]] = {}  # each chunk's rows (normalised only if out of range)
        self.inverse: dict[str, list[torch.Tensor]] = {}
        self.blocks: dict[str, list[list[torch.Tensor]]] = {}  # blocks[t][k][j] = rows_k @ rows_j.T, j <= k

    def update(self, grads: dict[str, torch.Tensor]) -> None:
        for name, rows in _grouped(grads, self.aggregation).items():
            inverse = _inverse_norms(rows)
            live = inverse > 0
            if bool(_outside_safe_range(inverse[live].reciprocal()).any()):
                # Squared norms would leave float32's range: normalise this chunk's rows first.
                rows, inverse = rows * inverse[:, None], live.to(rows.dtype)
            kept = self.rows.setdefault(name, [])
            kept.append(rows)
            self.inverse.setdefault(name, []).append(inverse)
            self.blocks.setdefault(name, []).append([rows @ earlier.T for earlier in kept])

    def result(self) -> float:
        total = 0.0
        for name, blocks in self.blocks.items():
            grid = [[blocks[k][j] if j <= k else blocks[j][k].T for j in range(len(blocks))] for k in range(len(blocks))]
            inverse = torch.cat(self.inverse[name]).double()
            gram = torch.cat([torch.cat(row, dim=1) for row in grid]).double() * inverse[:, None] * inverse[None, :]
            gram.diagonal().add_(self.ridge)
            factor, info = torch.linalg.cholesky_ex(gram)
            if int(info) != 0:  # not positive definite numerically: fall back to eigenvalues
                eig = torch.linalg.eigvalsh(gram).clamp_min(self.ridge)
                total += float(eig.log().sum())
            else:
                total += 2.0 * float(factor.diagonal().log().sum())
        return total


def _check(aggregation: str, chunk_size: int) -> None:
    if aggregation not in ("per_tensor", "global"):
        raise ZeronasUserError(f"aggregation must be 'per_tensor' or 'global', got {aggregation!r}")
    if chunk_size < 1:
        raise ZeronasUserError(f"chunk_size must be >= 1, got {chunk_size}")


@register_proxy
class GradAlign(PerSampleGradientProxy):
    """GradAlign-i: summed mean cosine to the mean gradient; in [-T, T] for T tensors. Higher is better."""

    name = "gradalign"
    data = DataRecipe(batch_size=128, normalization="zero_cost_nas", augment=True)

    def __init__(self, *, aggregation: str = "per_tensor", chunk_size: int = 32) -> None:
        _check(aggregation, chunk_size)
        self.aggregation = aggregation
        self.chunk_size = chunk_size

    def consumer(self) -> GradientConsumer:
        return _MeanDirectionAlignment(self.aggregation)


@register_proxy
class GradAlignGram(PerSampleGradientProxy):
    """GradAlign-ii: summed log det of the cosine Gram matrix (+ ridge); at most N log(1+ridge) per tensor."""

    name = "gradalign_gram"
    data = DataRecipe(batch_size=128, normalization="zero_cost_nas", augment=True)

    def __init__(self, *, aggregation: str = "per_tensor", ridge: float = 1e-3, chunk_size: int = 32) -> None:
        _check(aggregation, chunk_size)
        if not (ridge > 0 and math.isfinite(ridge)):
            raise ZeronasUserError(f"ridge must be a positive number, got {ridge}")
        self.aggregation = aggregation
        self.ridge = ridge
        self.chunk_size = chunk_size

    def consumer(self) -> GradientConsumer:
        return _GramLogDet(self.aggregation, self.ridge)
