"""Working copies of a caller's model, so that no proxy ever modifies it."""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def batch_statistics_copy(model: nn.Module) -> nn.Module:
    """A deep copy whose BatchNorm layers always normalise with the current batch's statistics.

    Running statistics are dropped (``track_running_stats=False``) so that nothing is updated
    in place; this is what lets ``torch.func.vmap`` run BatchNorm per sample.
    """
    work = copy.deepcopy(model)
    for module in work.modules():
        if isinstance(module, _BatchNorm):
            module.track_running_stats = False
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
    return work


def weight_layer_names(model: nn.Module) -> list[str]:
    """Parameter names of the weights of every Conv and Linear layer, in module order."""
    return [
        f"{name}.weight" if name else "weight"
        for name, module in model.named_modules()
        if isinstance(module, WEIGHT_LAYERS) and module.weight is not None
    ]
