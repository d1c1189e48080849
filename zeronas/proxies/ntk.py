"""TE-NAS NTK condition number (Chen et al., ICLR 2021), as ``lib/procedures/ntk.py`` computes it.

One batch of 16 training images (TE-NAS's default ``--batch_size 16``; xautodl normalisation,
no augmentation), a training-mode copy (BatchNorm on batch statistics, so samples interact
through it); for each sample i the gradient of the sum of its logits w.r.t. every parameter
whose name contains ``weight`` (Conv, Linear and BatchNorm scales); NTK = G G^T (N x N);
score = lambda_max / lambda_min. **Lower is better** (a well-conditioned NTK trains faster).

The N backward passes of the official loop are one vectorised ``vmap(vjp)`` here; the
eigenvalues of the symmetric NTK come from ``eigvalsh`` in float64 (the official
``torch.symeig`` in float32 can return a zero or negative smallest eigenvalue from rounding).
A non-positive smallest eigenvalue gives NaN with the reason.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, vjp, vmap

from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import batch_statistics_copy
from zeronas.proxies._registry import register_proxy


def logit_sum_jacobian(model: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """``(N, P)``: row i is d(sum_k logit_ik)/d(weights) for a batch forward in training mode."""
    work = batch_statistics_copy(model).train()
    named = dict(work.named_parameters())
    weights = {n: p.detach() for n, p in named.items() if "weight" in n}
    others = {n: p.detach() for n, p in named.items() if "weight" not in n}
    buffers = dict(work.named_buffers())

    def per_sample_logit_sums(w: dict[str, torch.Tensor]) -> torch.Tensor:
        return functional_call(work, {**w, **others, **buffers}, (inputs,)).sum(1)

    sums, pullback = vjp(per_sample_logit_sums, weights)
    (rows,) = vmap(pullback)(torch.eye(len(sums), dtype=sums.dtype))
    return torch.cat([g.reshape(len(sums), -1) for g in rows.values()], dim=1)


@register_proxy
class NTK(Proxy):
    """Condition number of the empirical NTK; lower is better."""

    name = "ntk"
    needs_gradients = True
    higher_is_better = False
    data = DataRecipe(batch_size=16, normalization="nb201", augment=False)

    def compute(self, model, inputs, targets):
        grads = logit_sum_jacobian(model, inputs).double()
        eigenvalues = torch.linalg.eigvalsh(grads @ grads.T)
        smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
        if not smallest > 0:
            raise UndefinedScore(f"the NTK is singular (smallest eigenvalue {smallest:.3g})")
        return largest / smallest
