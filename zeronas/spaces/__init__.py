"""Search spaces: parse, validate and enumerate architectures, and build networks."""

from zeronas.spaces.base import SearchSpace
from zeronas.spaces.nb201 import NB201Arch, NB201Space

SPACES: dict[str, type[SearchSpace]] = {"nb201": NB201Space}

__all__ = ["SPACES", "NB201Arch", "NB201Space", "SearchSpace"]
