"""Executors run scoring jobs: serially, or in a long-lived pool of local processes."""

from __future__ import annotations

from zeronas.errors import ZeronasUserError
from zeronas.runner.executors.base import Executor, Interrupted
from zeronas.runner.executors.pool import LocalPoolExecutor
from zeronas.runner.executors.serial import SerialExecutor

EXECUTORS: dict[str, type[Executor]] = {"serial": SerialExecutor, "pool": LocalPoolExecutor}


def make_executor(workers: int = 1) -> Executor:
    """Serial for one worker, a local process pool for more."""
    if workers < 1:
        raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
    return SerialExecutor() if workers == 1 else LocalPoolExecutor(workers)


__all__ = ["EXECUTORS", "Executor", "Interrupted", "LocalPoolExecutor", "SerialExecutor", "make_executor"]
