"""A long-lived pool of local worker processes, each receiving a context's data once.

Each worker has its own inbox, so the parent sends a :class:`ScoringContext` (the data
batches, by value) to a worker the first time it gives it a job of that context, and
afterwards sends only architectures. Jobs go to whichever worker is free, one or two at a
time, so slow networks do not hold up a queue. Workers run one torch thread each (for
networks this small that is the fastest use of a multi-core machine) and keep freed memory
(see :mod:`~zeronas.runner.executors.worker_process`).

Stopping. Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the
parent decides, see :mod:`zeronas.runner.executors.base`) and leave by themselves within a
second of the parent's death, even in the middle of a job. When ``run`` ends by an exception
(an interruption, a failed job) or is closed early, the results already finished and waiting in
the outbox are handed out first (on an interruption), then the workers are terminated at once;
:meth:`LocalPoolExecutor.close` after a complete run stops idle workers with a message. Every
wait is bounded, and the queues are closed, so no semaphore is left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from zeronas.errors import ZeronasUserError
from zeronas.runner.executors.base import Executor
from zeronas.runner.executors.worker_process import prepare_scoring_process
from zeronas.runner.task import Job, ScoringContext, run_job

_IN_FLIGHT_PER_WORKER = 2  # one running, one waiting: no idle gap between jobs
_POLL_SECONDS = 1.0
_PARENT_CHECK_SECONDS = 0.5  # how often a worker checks that its parent is alive
_STOP_SECONDS = 5.0  # for idle workers to leave after the stop message, all together
_TERMINATE_SECONDS = 2.0  # for terminated (then killed) workers to be gone, all together
_SIGINT = getattr(signal, "SIGINT", None)


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as the parent is gone (killed, say), whatever it is doing."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(1)  # nothing to clean up: the parent owns the queues and their semaphores

    threading.Thread(target=watch, name="zeronas-parent-watch", daemon=True).start()


def _worker_main(inbox: Any, outbox: Any, parent_pid: int | None = None) -> None:
    if _SIGINT is not None:
        signal.signal(_SIGINT, signal.SIG_IGN)  # also discards a Ctrl-C that came during start-up
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {_SIGINT})  # blocked by the parent for the start
    if parent_pid is not None:
        _watch_parent(parent_pid)

    prepare_scoring_process()
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
        # Workers start with SIGINT blocked (a mask survives fork and exec) and ignore it before
        # unblocking it, so a Ctrl-C during their seconds of start-up gives no traceback; here a
        # SIGINT is only held back until the workers are started.
        blocked = _SIGINT is not None and hasattr(signal, "pthread_sigmask")
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {_SIGINT}) if blocked else None
        try:
            for _ in range(self.workers):
                inbox = self._context.Queue()
                process = self._context.Process(target=_worker_main, args=(inbox, self._outbox, os.getpid()),
                                                daemon=True)
                self._inboxes.append(inbox)
                self._seen.append(None)
                process.start()
                self._processes.append(process)
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        if not jobs:
            return
        pending = list(reversed(jobs))
        in_flight: dict[int, tuple[int, Job]] = {}  # ticket -> (worker, job)
        load = [0] * self.workers
        try:
            self._start()
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
        except KeyboardInterrupt:  # Interrupted, or a SIGINT under a handler of the caller's
            # Hand out what had finished before the workers go, so that the caller keeps it.
            try:
                finished = self._finished(in_flight)
            finally:
                self._stop(now=True)
            yield from finished
            raise
        except BaseException:
            self._stop(now=True)  # a half-finished pool cannot be trusted with the next context
            raise

    def _finished(self, in_flight: dict[int, tuple[int, Job]]) -> list[tuple[Job, list[dict[str, Any]]]]:
        """The results of ``in_flight`` jobs already waiting in the outbox (none once a worker died)."""
        finished: list[tuple[Job, list[dict[str, Any]]]] = []
        if self._outbox is None or not all(p.is_alive() for p in self._processes):
            return finished  # a dead worker may have left half a message: reading could block
        while in_flight:
            try:
                ticket, records, failure = self._outbox.get_nowait()
            except Exception:  # noqa: BLE001 - Empty, or a message cut by the interruption: stop reading
                break
            entry = in_flight.pop(ticket, None)
            if entry is not None and failure is None:
                finished.append((entry[1], records))
        return finished

    def _check_alive(self) -> None:
        dead = [p for p in self._processes if not p.is_alive()]
        if dead:
            codes = ", ".join(str(p.exitcode) for p in dead)
            self._stop(now=True)
            raise RuntimeError(f"{len(dead)} scoring worker(s) died (exit codes {codes}); rerun to resume")

    def close(self) -> None:
        """Stop the workers: idle ones leave at once; any still busy after a few seconds are terminated."""
        self._stop(now=False)

    def _stop(self, *, now: bool) -> None:
        """Stop every worker and close the queues; ``now``: terminate at once (results abandoned)."""
        processes = self._processes
        if not now:
            for inbox, process in zip(self._inboxes, processes, strict=False):
                if process.is_alive():
                    try:
                        inbox.put(None)
                    except (OSError, ValueError):
                        pass
            _join_all(processes, _STOP_SECONDS)
        for process in processes:
            if process.is_alive():
                process.terminate()
        _join_all(processes, _TERMINATE_SECONDS)
        for process in processes:
            if process.is_alive():
                process.kill()
        _join_all(processes, _TERMINATE_SECONDS)
        # A dead worker leaves its inbox unread: waiting for the feeder thread to flush it would
        # block forever, and nothing in it is needed any more.
        for q in [*self._inboxes, *([self._outbox] if self._outbox is not None else [])]:
            q.cancel_join_thread()
            q.close()
        for process in processes:
            if not process.is_alive():
                try:
                    process.close()  # its sentinel's file descriptor
                except ValueError:
                    pass
        self._processes, self._inboxes, self._seen, self._outbox = [], [], [], None


def _join_all(processes: list[Any], seconds: float) -> None:
    """Join ``processes`` within ``seconds`` in all."""
    deadline = time.monotonic() + seconds
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
