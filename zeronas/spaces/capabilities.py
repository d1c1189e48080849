"""Capabilities a network may declare so that proxies can take a faster or official path.

Proxies test for these protocols with ``isinstance``; a network that does not declare one is
scored the general way.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import nn


@runtime_checkable
class ConstantWeightCollapsible(Protocol):
    """Under one constant weight in every Conv/Linear layer, every channel carries the same values.

    True when channels mix only through Conv/Linear sums (no channel-wise ops that break the
    symmetry), so epsinas may evaluate the network at width one. A space declares it only for
    networks its tests have checked.
    """

    def collapses_under_constant_weights(self) -> bool: ...


@runtime_checkable
class ConstantWeightTwin(Protocol):
    """A network whose channels fall into groups of equal values under one constant weight.

    For networks that concatenate groups of different widths (NAS-Bench-101's cell output), so
    that one channel cannot stand for all. The twin holds one channel per group and reads the
    channel mean of the input; its parameters are ``weight`` tensors only (the constant: epsinas
    sets every one of them to it, and every ``bias`` to 0); it returns what the full network's
    first logit would be. epsinas checks it against the full network on a few samples and falls
    back to full width if they differ.
    """

    def constant_weight_twin(self) -> nn.Module: ...


@runtime_checkable
class LinearRegionNetwork(Protocol):
    """A network with the thin variant TE-NAS counts linear regions on."""

    def linear_region_network(self) -> nn.Module:
        """A freshly initialised thin network that reads one-channel crops."""
        ...


@runtime_checkable
class BatchNormFreeCopy(Protocol):
    """A network with its own ``bn=False`` copy, the one zero-cost-nas scores SynFlow on.

    zero-cost-nas builds it with the network's ``get_prunable_copy(bn=False)``; for its
    NAS-Bench-201 model that drops the BatchNorms of the stem, the cells and the head but keeps
    the two of each stride-2 residual block. A network that does not declare this capability
    gets zero-cost-nas's generic ``copynet(bn=False)``: every BatchNorm removed.
    """

    def batchnorm_free_copy(self) -> nn.Module:
        """A deep copy of the network (same weights) with the BatchNorms zero-cost-nas removes
        replaced by identities; the kept ones are unchanged. Never modifies the network."""
        ...
