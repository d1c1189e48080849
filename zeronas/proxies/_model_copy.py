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


def train_copy(model: nn.Module) -> nn.Module:
    """A deep copy in training mode (BatchNorm on batch statistics), as ``get_prunable_copy(bn=True)``.

    Running statistics are kept (they may be updated on the copy, never on the caller's model).
    """
    work = copy.deepcopy(model).train()
    for param in work.parameters():
        param.grad = None
        param.requires_grad_(True)
    return work


def without_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer of ``model`` (in place) by an identity, as ``bn=False`` does."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, _BatchNorm):
                setattr(parent, child_name, nn.Identity())
    return model


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """Every Conv and Linear layer that has a weight, in module order."""
    return [m for m in model.modules() if isinstance(m, WEIGHT_LAYERS) and m.weight is not None]


def _reinit(model: nn.Module, init_weight) -> nn.Module:
    """Conv/Linear weights by ``init_weight``, biases 0, BatchNorm/GroupNorm scale 1, shift 0; in place."""
    import torch

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, WEIGHT_LAYERS):
                init_weight(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (_BatchNorm, nn.GroupNorm)) and module.weight is not None:
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
    return model


def gaussian_init(model: nn.Module) -> nn.Module:
    """Zen-NAS / SWAP initialisation, in place: Conv/Linear weights N(0, 1), biases 0, BN scale 1, shift 0."""
    return _reinit(model, nn.init.normal_)


# The initialisations the TE-NAS proxies offer: TE-NAS's own re-initialisation, or the model as built.
TE_NAS_INITS = ("kaiming", "model")


def kaiming_fanin_init(model: nn.Module) -> nn.Module:
    """TE-NAS initialisation (``init_model(..., 'kaiming_norm_fanin')``), in place.

    Conv/Linear weights ``kaiming_normal_(mode='fan_in', nonlinearity='relu')``, i.e.
    N(0, 2/fan_in); biases 0; BatchNorm/GroupNorm scale 1, shift 0.
    """
    return _reinit(model, lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"))
