"""TE-NAS NTK condition number (Chen et al., ICLR 2021), as ``lib/procedures/ntk.py`` computes it.

One batch of 16 training images (TE-NAS's default ``--batch_size 16``; xautodl normalisation,
no augmentation), a training-mode copy (BatchNorm on batch statistics, so samples interact
through it) re-initialised as TE-NAS does before every measurement (``init="kaiming"``:
Conv/Linear weights N(0, 2/fan_in), biases 0, BatchNorm 1/0; ``init="model"`` keeps the
model's own weights); for each sample i the gradient of the sum of its logits w.r.t. every parameter
whose name contains ``weight`` (Conv, Linear and BatchNorm scales); NTK = G G^T (N x N);
score = lambda_max / lambda_min. **Lower is better** (a well-conditioned NTK trains faster).

Because BatchNorm couples the samples, every row needs a backward pass through the whole
batch. On a CPU, N retained-graph backward passes (the official procedure) measured faster
than one vectorised ``vmap(vjp)`` over the N rows (3.5 s vs 4.9 s for a NAS-Bench-201 cell,
one thread; ``benchmarks/baselines_speed.py`` repeats the comparison), so the loop is kept;
``method="vmap"`` selects the vectorised path. The eigenvalues of the symmetric NTK come from
``eigvalsh`` in float64 (the official ``torch.symeig`` in float32 can return a zero or negative
smallest eigenvalue from rounding); a non-positive smallest eigenvalue gives NaN with the reason.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, vjp, vmap

from zeronas.errors import ZeronasUserError
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import TE_NAS_INITS, batch_statistics_copy, kaiming_fanin_init
from zeronas.proxies._registry import register_proxy


def logit_sum_jacobian(
    model: torch.nn.Module, inputs: torch.Tensor, method: str = "loop", init: str = "kaiming"
) -> torch.Tensor:
    """``(N, P)``: row i is d(sum_k logit_ik)/d(weights) for a batch forward in training mode."""
    work = batch_statistics_copy(model).train()
    if init == "kaiming":
        kaiming_fanin_init(work)
    named = dict(work.named_parameters())
    weights = {n: p for n, p in named.items() if "weight" in n}
    if method == "loop":
        sums = work(inputs).sum(1)
        rows = []
        for i in range(len(inputs)):
            grads = torch.autograd.grad(sums[i], list(weights.values()), retain_graph=True, allow_unused=True)
            rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                                   for g, w in zip(grads, weights.values(), strict=True)]))
        return torch.stack(rows)
    if method != "vmap":
        raise ZeronasUserError(f"ntk method must be 'loop' or 'vmap', got {method!r}")
    others = {n: p.detach() for n, p in named.items() if "weight" not in n}
    buffers = dict(work.named_buffers())

    def per_sample_logit_sums(w: dict[str, torch.Tensor]) -> torch.Tensor:
        return functional_call(work, {**w, **others, **buffers}, (inputs,)).sum(1)

    sums, pullback = vjp(per_sample_logit_sums, {n: p.detach() for n, p in weights.items()})
    (rows_by_name,) = vmap(pullback)(torch.eye(len(sums), dtype=sums.dtype))
    return torch.cat([g.reshape(len(sums), -1) for g in rows_by_name.values()], dim=1)


@register_proxy
class NTK(Proxy):
    """Condition number of the empirical NTK; lower is better."""

    name = "ntk"
    version = "2"
    needs_gradients = True
    higher_is_better = False
    data = DataRecipe(batch_size=16, normalization="nb201", augment=False)

    def __init__(self, *, method: str = "loop", init: str = "kaiming") -> None:
        if method not in ("loop", "vmap"):
            raise ZeronasUserError(f"ntk method must be 'loop' or 'vmap', got {method!r}")
        if init not in TE_NAS_INITS:
            raise ZeronasUserError(f"ntk init must be one of {', '.join(TE_NAS_INITS)}, got {init!r}")
        self.method = method
        self.init = init

    def compute(self, model, inputs, targets):
        grads = logit_sum_jacobian(model, inputs, self.method, self.init).double()
        eigenvalues = torch.linalg.eigvalsh(grads @ grads.T)
        smallest, largest = float(eigenvalues[0]), float(eigenvalues[-1])
        if not smallest > 0:
            raise UndefinedScore(f"the NTK is singular (smallest eigenvalue {smallest:.3g})")
        return largest / smallest
