"""jacob_cov (Mellor et al., NASWOT arXiv v1) as zero-cost-nas ``measures/jacob_cov.py`` computes it.

Input Jacobians J (one row per sample: the gradient of the sum of that sample's outputs w.r.t.
its input, from one batch forward in training mode); C = correlation matrix of the rows;
score = -sum over eigenvalues v of C of [log(v + 1e-5) + 1 / (v + 1e-5)]. One batch of 64
augmented training images (option ``batch_size``); labels unused. Higher is better.

Stable equivalent: C is symmetric, so its eigenvalues come from ``eigvalsh`` in float64 (the
official ``np.linalg.eig`` can return complex or negative rounding noise). A sample whose
Jacobian is constant (a disconnected network) makes C undefined: the score is NaN with the
reason, as the official code's ``except: nan``.
"""

from __future__ import annotations

import torch

from zeronas.proxies._base import IntermediateProxy, UndefinedScore
from zeronas.proxies._intermediates import InputJacobian
from zeronas.proxies._registry import register_proxy
from zeronas.proxies.grad_norm import ZeroCostNasBatchOption

EPSILON = 1e-5


def correlation_matrix(rows: torch.Tensor) -> torch.Tensor:
    """Pearson correlation between the rows of ``rows`` (float64), as ``np.corrcoef``."""
    return torch.corrcoef(rows.double())


@register_proxy
class JacobCov(ZeroCostNasBatchOption, IntermediateProxy):
    """-sum[log(v + k) + 1/(v + k)] over eigenvalues of the Jacobian correlation; higher is better."""

    name = "jacob_cov"
    needs_gradients = True
    intermediate = InputJacobian

    def compute_from(self, value, model, inputs, targets):
        jacobian, _ = value
        corr = correlation_matrix(jacobian)
        if not torch.isfinite(corr).all():
            raise UndefinedScore("a sample's input Jacobian is constant; the correlation matrix is undefined")
        v = torch.linalg.eigvalsh(corr)
        return float(-(torch.log(v + EPSILON) + 1.0 / (v + EPSILON)).sum())
