"""MeCo (Jiang et al., NeurIPS 2023), as HamsterMimi ``measures/meco.py`` computes it.

One N(0, 1) input of one sample at 64 x 64 pixels (the official code uses that size for every
dataset); a training-mode copy; for the output of *every* module (containers included, as the
official forward hook on ``named_modules()``), the first sample's feature map reshaped to
(channels, positions) gives the Pearson correlation matrix between channels (NaN and inf set to
0); the module contributes that matrix's smallest eigenvalue; the score is the sum over
modules. Labels and data unused (the batch only fixes the channel count). Higher is better.

Stable equivalent: the correlation matrix is symmetric, so ``eigvalsh`` replaces the official
general ``torch.linalg.eig`` (whose real parts it equals up to rounding). A model that cannot
run at 64 x 64 (a fixed-size MLP) is measured at the batch's own size. A BatchNorm that sees one
value per channel (BatchNorm1d) cannot normalise one sample: it takes the statistics of a batch
of N(0, 1) inputs of the batch's size (see ``_adapter``; the score's reason says so).
"""

from __future__ import annotations

import torch
from torch import nn

from zeronas.proxies._activations import RELU_FAMILY_FUNCTIONS, functional_activations
from zeronas.proxies._adapter import use_batch_statistics_where_single_valued
from zeronas.proxies._base import DataRecipe, Proxy
from zeronas.proxies._model_copy import train_copy
from zeronas.proxies._registry import register_proxy


def smallest_correlation_eigenvalue(feature: torch.Tensor) -> torch.Tensor:
    """Smallest eigenvalue of the channel correlation matrix of one (C, ...) feature map."""
    rows = feature.reshape(feature.shape[0], -1).double()
    if rows.shape[0] < 2 or rows.shape[1] < 2:
        return rows.new_zeros(())  # one channel or one position: the official matrix is all NaN, i.e. 0
    corr = torch.corrcoef(rows)
    corr = torch.nan_to_num(corr.reshape(rows.shape[0], rows.shape[0]), nan=0.0, posinf=0.0, neginf=0.0)
    return torch.linalg.eigvalsh(corr)[0]


@register_proxy
class MeCo(Proxy):
    """Sum over modules of the smallest eigenvalue of the channel correlation; higher is better."""

    name = "meco"
    data = DataRecipe(batch_size=2)
    needs_data = False

    def __init__(self, *, resolution: int = 64) -> None:
        self.resolution = int(resolution)

    def compute(self, model, inputs, targets):
        work = train_copy(model)
        features: list[torch.Tensor] = []

        def hook(_module: nn.Module | None, _args: object, output: object) -> None:
            # The official hook reads ``data_output[0]``: the first sample of a tensor output.
            first = output[0] if isinstance(output, (torch.Tensor, tuple, list)) and len(output) else None
            if isinstance(first, torch.Tensor) and first.ndim >= 1:
                features.append(first.detach())

        shapes = [tuple(inputs.shape[1:])]
        if inputs.ndim == 4:
            shapes.insert(0, (inputs.shape[1], self.resolution, self.resolution))
        hooks = [module.register_forward_hook(hook) for module in work.modules()]
        try:
            # A functional ReLU contributes its output as the nn.ReLU module in its place would.
            with torch.no_grad(), functional_activations(work, hook, RELU_FAMILY_FUNCTIONS):
                for attempt, shape in enumerate(shapes, start=1):
                    features.clear()
                    try:
                        x = torch.randn((1, *shape))
                        try:
                            work(x)
                        except ValueError:  # a BatchNorm with one value per channel cannot run on one sample
                            if not use_batch_statistics_where_single_valued(work, torch.randn((len(inputs), *shape))):
                                raise
                            features.clear()  # the hooks also saw the adapter's own forward passes
                            work(x)
                        break
                    except (RuntimeError, ValueError):
                        if attempt == len(shapes):
                            raise
        finally:
            for h in hooks:
                h.remove()
        values = [smallest_correlation_eigenvalue(f) for f in features]
        return float(sum(v for v in values if not torch.isnan(v)))
