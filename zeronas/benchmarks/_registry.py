"""The benchmark registry: each benchmark module registers its class with ``@register_benchmark``."""

from __future__ import annotations

import os
from typing import TypeVar

from zeronas._registry import Registry
from zeronas.benchmarks.base import Benchmark

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")
B = TypeVar("B", bound=type[Benchmark])


def register_benchmark(cls: B) -> B:
    """Class decorator: make a :class:`Benchmark` subclass available under ``cls.name``."""
    return BENCHMARKS.add(cls.name, cls)


def list_benchmarks() -> list[str]:
    """Names of every registered benchmark, in registration order."""
    return BENCHMARKS.names()


def get_benchmark(name: str | Benchmark, data_dir: str | os.PathLike[str] | None = None) -> Benchmark:
    """The benchmark ``name`` reading its tables from ``data_dir`` (an instance passes through)."""
    return name if isinstance(name, Benchmark) else BENCHMARKS.get(name)(data_dir)
