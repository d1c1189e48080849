"""NASWOT (Mellor et al., ICML 2021): the published ``hook_logdet`` score.

As BayesWatch ``nas-without-training`` (``score_networks.py``) computes it: one batch of 128
training images (xautodl normalisation, no augmentation), a training-mode copy, one forward
pass; every call of a hooked module contributes the binary code c of which entries of its
INPUT are positive, and K = sum over those calls of c c^T + (1 - c)(1 - c)^T, i.e. for each pair
of samples the number of hooked units on which they agree; score = log|det K| (``slogdet``).
Labels unused. Higher is better. K holds integer counts, accumulated exactly in float64.

Which modules are hooked (option ``hook``):

- ``"official"`` (default): every module whose class name contains ``"ReLU"``, as the official
  ``'ReLU' in str(type(module))`` (which tests the qualified name; zeronas tests the class name
  only). Besides ``nn.ReLU`` (and ``LeakyReLU``, ``ReLU6``, ``PReLU``, ...), this picks up wrapper
  modules such as NAS-Bench-201's ``ReLUConvBN``, whose input is the input of the ReLU inside
  it: each ReLU-Conv-BN unit is therefore counted twice, the head's lone ReLU once.
- ``"relu"``: every ``nn.ReLU`` (and subclass) only, each unit once (zeronas' NASWOT before
  version 2; on NAS-Bench-201 a log-determinant 5 to 8% lower, the ranking almost the same).

Functional activations outside those modules (``torch.relu``, ``F.relu``, ``Tensor.relu``;
under ``"official"`` also ``F.relu6``, ``F.leaky_relu``, ``F.prelu``, ``F.rrelu``) are counted as
the module form would be, so a network written with functional ReLUs scores as its ``nn.ReLU``
twin (the official hook does not see them).

The official script counts only modules that its first (Jacobian) pass reached by
backpropagation from the logits; zeronas counts every hooked call of the forward pass. The two
agree on any network whose hooked modules all feed the output, NAS-Bench-201's included.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from zeronas.errors import ZeronasUserError
from zeronas.proxies._activations import RELU_FAMILY_FUNCTIONS, RELU_FUNCTIONS, visit_input_codes
from zeronas.proxies._base import DataRecipe, Proxy, UndefinedScore
from zeronas.proxies._model_copy import train_copy
from zeronas.proxies._registry import register_proxy

HOOK_RULES = ("official", "relu")


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K_ij = number of units on which samples i and j have the same code (float64, exact).

    Uses (1 - c)(1 - c)^T = units - r_i - r_j + c c^T (r = active units per sample), so one
    product suffices. The product is an int8 x int8 -> int32 matrix product (exact below 2^31
    units, and on this CPU about 3.5x faster than float32 with its bool -> float conversion);
    float32, exact while the counts stay below 2^24, where that kernel is unavailable.
    """
    units = codes.shape[1]
    both_active = _both_active(codes)
    active = both_active.diagonal()  # c_i . c_i: the active units of sample i
    return 2 * both_active + units - active[:, None] - active[None, :]


def _both_active(codes: torch.Tensor) -> torch.Tensor:
    """c c^T for 0/1 codes c, exactly, in float64."""
    units = codes.shape[1]
    if units < 2**31 and hasattr(torch, "_int_mm"):  # int32 counts cannot overflow
        try:
            c8 = codes.to(torch.int8)
            return torch._int_mm(c8, c8.T.contiguous()).double()
        except RuntimeError:  # no int8 kernel for this build
            pass
    c = codes.float() if units < 2**24 else codes.double()
    return (c @ c.T).double()


def is_hooked(module: nn.Module, hook: str = "official") -> bool:
    """Whether NASWOT's ``hook`` rule counts the input codes of ``module``."""
    if hook == "official":
        return "ReLU" in type(module).__name__
    return isinstance(module, nn.ReLU)


@register_proxy
class Naswot(Proxy):
    """log|det K| of the input-code agreement kernel of the ReLU modules; higher is better."""

    name = "naswot"
    version = "2"
    data = DataRecipe(batch_size=128, normalization="nb201", augment=False)

    def __init__(self, *, hook: str = "official") -> None:
        if hook not in HOOK_RULES:
            raise ZeronasUserError(f"naswot hook must be one of {', '.join(HOOK_RULES)}, got {hook!r}")
        self.hook = hook

    def compute(self, model, inputs, targets):
        kernel = torch.zeros((len(inputs), len(inputs)), dtype=torch.float64)
        units = 0

        def accumulate(code: torch.Tensor) -> None:
            nonlocal kernel, units
            kernel += hamming_kernel(code)
            units += code.shape[1]

        functions = RELU_FAMILY_FUNCTIONS if self.hook == "official" else RELU_FUNCTIONS
        visit_input_codes(train_copy(model), inputs, lambda m: is_hooked(m, self.hook), accumulate, functions)
        if units == 0:
            raise UndefinedScore("the model applies no ReLU (module or function); NASWOT needs ReLU activation codes")
        sign, logdet = torch.linalg.slogdet(kernel)
        if sign == 0 or not math.isfinite(float(logdet)):
            raise UndefinedScore("the ReLU-code kernel is singular (two samples share every code)")
        return float(logdet)
