"""The search-space registry: each space module registers its class with ``@register_space``."""

from __future__ import annotations

import os
from typing import TypeVar

from zeronas._registry import Registry
from zeronas.spaces.base import SearchSpace

SPACES: Registry[type[SearchSpace]] = Registry("search space")
S = TypeVar("S", bound=type[SearchSpace])


def register_space(cls: S) -> S:
    """Class decorator: make a :class:`SearchSpace` subclass available under ``cls.name``."""
    return SPACES.add(cls.name, cls)


def list_spaces() -> list[str]:
    return SPACES.names()


def get_space(name: str | SearchSpace, data_dir: str | os.PathLike[str] | None = None) -> SearchSpace:
    """The space ``name`` (an instance passes through)."""
    return name if isinstance(name, SearchSpace) else SPACES.get(name)(data_dir)
