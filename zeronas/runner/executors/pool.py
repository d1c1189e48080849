"""A long-lived pool of local worker processes, each receiving a context's data once.

Each worker has its own inbox, so the parent sends a :class:`ScoringContext` (the data
batches, by value) to a worker the first time it gives it a job of that context, and
afterwards sends only architectures. Jobs go to whichever worker is free, one or two at a
time, so slow networks do not hold up a queue. Workers run one torch thread each: for
networks this small that is the fastest use of a multi-core machine.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator, Sequence
from typing import Any

from zeronas.errors import ZeronasUserError
from zeronas.runner.executors.base import Executor
from zeronas.runner.task import Job, ScoringContext, run_job

_IN_FLIGHT_PER_WORKER = 2  # one running, one waiting: no idle gap between jobs
_POLL_SECONDS = 1.0


def _worker_main(inbox: Any, outbox: Any) -> None:
    import torch

    torch.set_num_threads(1)
    contexts: dict[str, ScoringContext] = {}
    while True:
        message = inbox.get()
        if message is None:
            return
        kind, payload = message
        if kind == "context":
            contexts = {payload.token: payload}  # a new context supersedes the old one
            continue
        token, ticket, job = payload
        try:
            outbox.put((ticket, run_job(contexts[token], job), None))
        except ZeronasUserError as exc:  # the user's to fix: the parent raises it as it is
            outbox.put((ticket, None, exc))
        except BaseException as exc:  # reported to the parent, which decides
            outbox.put((ticket, None, f"{type(exc).__name__}: {exc}"))


class LocalPoolExecutor(Executor):
    """``workers`` spawned processes, started on first use and kept until :meth:`close`."""

    name = "pool"

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")  # fork after torch's thread pool can hang
        self._processes: list[Any] = []
        self._inboxes: list[Any] = []
        self._outbox: Any = None
        self._seen: list[str | None] = []
        self._ticket = 0
        self.contexts_sent = 0  # how many times a context's data went to a worker

    def _start(self) -> None:
        if self._processes:
            return
        self._outbox = self._context.Queue()
        for _ in range(self.workers):
            inbox = self._context.Queue()
            process = self._context.Process(target=_worker_main, args=(inbox, self._outbox), daemon=True)
            process.start()
            self._processes.append(process)
            self._inboxes.append(inbox)
            self._seen.append(None)

    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        if not jobs:
            return
        self._start()
        pending = list(reversed(jobs))
        in_flight: dict[int, tuple[int, Job]] = {}  # ticket -> (worker, job)
        load = [0] * self.workers
        try:
            while pending or in_flight:
                while pending and min(load) < _IN_FLIGHT_PER_WORKER:
                    w = load.index(min(load))  # the least busy worker: spread jobs before queueing them
                    job = pending.pop()
                    if self._seen[w] != context.token:
                        self._inboxes[w].put(("context", context))
                        self._seen[w] = context.token
                        self.contexts_sent += 1
                    self._ticket += 1
                    self._inboxes[w].put(("job", (context.token, self._ticket, job)))
                    in_flight[self._ticket] = (w, job)
                    load[w] += 1
                try:
                    ticket, records, failure = self._outbox.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    self._check_alive()
                    continue
                if ticket not in in_flight:
                    continue  # a job of an earlier run that was abandoned
                w, job = in_flight.pop(ticket)
                load[w] -= 1
                if isinstance(failure, ZeronasUserError):
                    raise failure
                if failure is not None:
                    raise RuntimeError(f"a scoring worker failed on {job.arch}: {failure}")
                yield job, records
        except BaseException:
            self.close()  # a half-finished pool cannot be trusted with the next context
            raise

    def _check_alive(self) -> None:
        dead = [p for p in self._processes if not p.is_alive()]
        if dead:
            codes = ", ".join(str(p.exitcode) for p in dead)
            self.close()
            raise RuntimeError(f"{len(dead)} scoring worker(s) died (exit codes {codes}); rerun to resume")

    def close(self) -> None:
        for inbox, process in zip(self._inboxes, self._processes, strict=True):
            if process.is_alive():
                try:
                    inbox.put(None)
                except (OSError, ValueError):
                    pass
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        # A dead worker leaves its inbox unread: waiting for the feeder thread to flush it would
        # block forever, and nothing in it is needed any more.
        for q in [*self._inboxes, *([self._outbox] if self._outbox is not None else [])]:
            q.cancel_join_thread()
            q.close()
        self._processes, self._inboxes, self._seen, self._outbox = [], [], [], None
