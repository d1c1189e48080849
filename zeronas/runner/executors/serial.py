"""Scoring jobs one after another in this process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from zeronas.runner.executors.base import Executor
from zeronas.runner.task import Job, ScoringContext, run_job


class SerialExecutor(Executor):
    """Runs each job in the calling process, with its current torch thread settings.

    SIGINT and SIGTERM stop it within the job at hand (see :class:`~zeronas.runner.executors.base.Executor`).
    """

    name = "serial"

    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        for job in jobs:
            yield job, run_job(context, job)
