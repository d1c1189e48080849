"""The searcher registry: each algorithm module registers its class with ``@register_searcher``."""

from __future__ import annotations

from typing import TypeVar

from zeronas._registry import Registry
from zeronas.search.base import Searcher

SEARCHERS: Registry[type[Searcher]] = Registry("search algorithm")
S = TypeVar("S", bound=type[Searcher])


def register_searcher(cls: S) -> S:
    """Class decorator: make a :class:`Searcher` subclass available under ``cls.name``."""
    return SEARCHERS.add(cls.name, cls)


def list_searchers() -> list[str]:
    """Names of every registered search algorithm, in registration order."""
    return SEARCHERS.names()


def get_searcher(name: str) -> type[Searcher]:
    """The searcher class registered as ``name`` (one-line error listing the choices otherwise)."""
    return SEARCHERS.get(name)
