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


def _grouped(grads: dict[str, torch.Tensor], aggregation: str) -> dict[str, torch.Tensor]:
    """Per-sample gradients as (chunk, P_t) matrices, one per tensor or one for all."""
    flat = {name: g.flatten(1) for name, g in grads.items()}
    if aggregation == "global":
        return {"all": torch.cat(list(flat.values()), dim=1)}
    return flat


def _normalised(rows: torch.Tensor) -> torch.Tensor:
    norms = rows.norm(dim=1, keepdim=True)
    return torch.where(norms > _TINY, rows / norms.clamp_min(_TINY), torch.zeros_like(rows))


class _MeanDirectionAlignment(GradientConsumer):
    """Streams sum_i g_i and sum_i g_i/|g_i|: mean_i cos(g_i, m) = <sum ĝ_i, m> / (N |m|)."""

    def __init__(self, aggregation: str) -> None:
        self.aggregation = aggregation
        self.sums: dict[str, torch.Tensor] = {}
        self.unit_sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def update(self, grads: dict[str, torch.Tensor]) -> None:
        for name, rows in _grouped(grads, self.aggregation).items():
            rows = rows.double()
            s, u = rows.sum(0), _normalised(rows).sum(0)
            if name in self.sums:
                self.sums[name] += s
                self.unit_sums[name] += u
            else:
                self.sums[name], self.unit_sums[name] = s, u
        self.count += next(iter(grads.values())).shape[0]

    def result(self) -> float:
        total = 0.0
        for name, s in self.sums.items():
            norm = float(s.norm())
            if norm > _TINY:
                total += float(self.unit_sums[name] @ s) / (self.count * norm)
        return total


class _GramLogDet(GradientConsumer):
    """Keeps the normalised gradients and returns sum_t log det(G_t + ridge I)."""

    def __init__(self, aggregation: str, ridge: float) -> None:
        self.aggregation = aggregation
        self.ridge = ridge
        self.units: dict[str, list[torch.Tensor]] = {}

    def update(self, grads: dict[str, torch.Tensor]) -> None:
        for name, rows in _grouped(grads, self.aggregation).items():
            self.units.setdefault(name, []).append(_normalised(rows))

    def result(self) -> float:
        total = 0.0
        for chunks in self.units.values():
            units = torch.cat(chunks)
            gram = (units @ units.T).double()
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
