"""Executors run scoring jobs: serially, in a long-lived pool of local processes, or as Ray tasks.

:class:`RayExecutor` is registered like the others: its module imports ``ray`` only when one is made.
"""

from __future__ import annotations

from zeronas.errors import ZeronasUserError
from zeronas.runner.executors.base import Executor, Interrupted
from zeronas.runner.executors.pool import LocalPoolExecutor
from zeronas.runner.executors.ray import RayExecutor
from zeronas.runner.executors.serial import SerialExecutor

EXECUTORS: dict[str, type[Executor]] = {"serial": SerialExecutor, "pool": LocalPoolExecutor, "ray": RayExecutor}


def make_executor(workers: int = 1, *, kind: str = "local", address: str | None = None) -> Executor:
    """``kind="local"``: serial for one worker, a local process pool for more;
    ``kind="ray"``: a :class:`~zeronas.runner.executors.ray.RayExecutor` (the ``ray`` extra)."""
    if workers < 1:
        raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
    if kind == "ray":
        return RayExecutor(workers=workers, address=address)
    if kind != "local":
        raise ZeronasUserError(f"unknown executor {kind!r}; choose local or ray")
    return SerialExecutor() if workers == 1 else LocalPoolExecutor(workers)


__all__ = ["EXECUTORS", "Executor", "Interrupted", "LocalPoolExecutor", "RayExecutor", "SerialExecutor",
           "make_executor"]
