"""The executor interface: run scoring jobs of one context, yield their records as they finish."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from zeronas.runner.task import Job, ScoringContext


class Executor(ABC):
    """Runs :class:`~zeronas.runner.task.Job` s; the caller alone writes results to the store.

    ``run`` yields ``(job, records)`` pairs in completion order (not submission order). An
    executor may be long-lived and reused across contexts; ``close`` releases its workers.
    """

    name: str = ""

    @abstractmethod
    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        """Score every job; yield each job with its records as soon as it is done."""

    def close(self) -> None:
        """Release workers (a no-op for executors without any)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
