"""EPE-NAS (Lopes et al., ICANN 2021) as NASLib ``measures/epe_nas.py`` computes it.

Input Jacobians as for ``jacob_cov`` (one batch forward in training mode, gradient of the sum of
outputs); for each class c present in the batch, the correlation matrix of its samples'
Jacobians gives s_c = sum log(|corr| + 1e-5), divided by the class's sample count when the
network has more than 100 outputs. With at most 100 outputs the score is sum_c |s_c|; otherwise
sum over class pairs |s_c - s_c'| / (number of classes). A class with one sample contributes
log(1 + 1e-5) (or is skipped with more than 100 outputs, as in the official code). Batch 64
augmented training images, true labels. Higher is better.
"""

from __future__ import annotations

import math

import torch

from zeronas.proxies._base import IntermediateProxy, UndefinedScore
from zeronas.proxies._intermediates import InputJacobian
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZeroCostNasBatchOption
from zeronas.proxies.jacob_cov import correlation_matrix

EPSILON = 1e-5


@register_proxy
class EpeNas(ZeroCostNasBatchOption, IntermediateProxy):
    """Class-wise Jacobian-correlation score; higher is better."""

    name = "epe_nas"
    needs_labels = True
    needs_gradients = True
    intermediate = InputJacobian

    def compute_from(self, value, model, inputs, targets):
        jacobian, n_outputs = value
        per_class: dict[int, float] = {}
        for c in torch.unique(targets).tolist():
            rows = jacobian[targets == c]
            if len(rows) == 1:
                if n_outputs > 100:
                    continue
                per_class[c] = math.log(1.0 + EPSILON)
                continue
            corr = correlation_matrix(rows)
            if not torch.isfinite(corr).all():
                raise UndefinedScore(f"input Jacobians of class {c} are constant; their correlation is undefined")
            s = float(torch.log(corr.abs() + EPSILON).sum())
            per_class[c] = s / len(rows) if n_outputs > 100 else s
        values = torch.tensor(list(per_class.values()), dtype=torch.float64)
        if n_outputs <= 100:
            return float(values.abs().sum())
        if len(values) == 0:
            return 0.0
        return float((values[:, None] - values[None, :]).abs().sum() / len(values))
