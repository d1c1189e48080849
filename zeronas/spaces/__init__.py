"""Search spaces: parse, format, identify, sample, mutate and build architectures."""

from zeronas.spaces import nb101, nb201  # noqa: F401  (registration)
from zeronas.spaces._registry import SPACES, get_space, list_spaces, register_space
from zeronas.spaces.base import Canonical, Categorical, Enumerable, SearchSpace
from zeronas.spaces.capabilities import (
    BatchNormFreeCopy,
    ConstantWeightCollapsible,
    ConstantWeightTwin,
    LinearRegionNetwork,
)
from zeronas.spaces.nb201 import NB201Arch, NB201Space

__all__ = [
    "SPACES",
    "BatchNormFreeCopy",
    "Canonical",
    "Categorical",
    "ConstantWeightCollapsible",
    "ConstantWeightTwin",
    "Enumerable",
    "LinearRegionNetwork",
    "NB201Arch",
    "NB201Space",
    "SearchSpace",
    "get_space",
    "list_spaces",
    "register_space",
]
