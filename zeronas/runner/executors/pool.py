"""A long-lived pool of local worker processes, each receiving a context's data once.

Each worker has its own inbox, so the parent sends a :class:`ScoringContext` (the data
batches, by value) to a worker the first time it gives it a job of that context, and
afterwards sends only architectures. Jobs go to whichever worker is free, one or two at a
time, so slow networks do not hold up a queue. Workers run one torch thread each (for
networks this small that is the fastest use of a multi-core machine) and keep freed memory
(see :mod:`~zeronas.runner.executors.worker_process`).

Failures. Each worker sends its results through a pipe of its own, so a worker that dies (killed
for memory, say) cannot cut or lock another's messages. It is replaced by a fresh worker and
the jobs it held are resubmitted, with a warning; a job that was running when its worker died
more than ``max_retries`` times raises ``RuntimeError`` (a rerun resumes: the caller has written what
was yielded). A ``ZeronasUserError`` in a job reaches the caller as itself; any other exception
in a job raises ``RuntimeError``.

Stopping. Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the
parent decides, see :mod:`zeronas.runner.executors.base`) and leave by themselves within a
second of the parent's death, even in the middle of a job. When ``run`` ends by an exception
(an interruption, a failed job) or is closed early, the results already finished and waiting in
the pipes are handed out first (on an interruption), then the workers are terminated at once;
:meth:`LocalPoolExecutor.close` after a complete run stops idle workers with a message. Every
wait is bounded, and the queues and pipes are closed, so no semaphore is left behind.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import warnings
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
_SIGKILL = getattr(signal, "SIGKILL", None)


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker as soon as the parent is gone (killed, say), whatever it is doing."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(1)  # nothing to clean up: the parent owns the queues and their semaphores

    threading.Thread(target=watch, name="zeronas-parent-watch", daemon=True).start()


def _worker_main(inbox: Any, results: Any, parent_pid: int | None = None) -> None:
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
            results.send((ticket, run_job(contexts[token], job), None))
        except ZeronasUserError as exc:  # the user's to fix: the parent raises it as it is
            results.send((ticket, None, exc))
        except BaseException as exc:  # reported to the parent, which decides
            results.send((ticket, None, f"{type(exc).__name__}: {exc}"))


class _Worker:
    """One worker process, its inbox (a queue) and the reading end of its results pipe."""

    def __init__(self, context: Any) -> None:
        self.inbox = context.Queue()
        self.results, sending = context.Pipe(duplex=False)
        self.process = context.Process(target=_worker_main, args=(self.inbox, sending, os.getpid()), daemon=True)
        self.process.start()
        sending.close()  # the worker holds the only sending end: its death ends the pipe
        self.token: str | None = None  # the context it holds
        self.in_flight: dict[int, int] = {}  # ticket -> index of the job

    def receive(self) -> list[tuple[int, Any, Any]]:
        """The messages waiting in the pipe, without blocking; [] also once the pipe has ended."""
        messages = []
        try:
            while self.results.poll():
                messages.append(self.results.recv())
        except (EOFError, OSError):
            pass  # the worker is gone; a message it was cutting short is lost with it
        return messages

    def close_pipes(self) -> None:
        # A dead worker leaves its inbox unread: waiting for the feeder thread to flush it would
        # block forever, and nothing in it is needed any more.
        self.inbox.cancel_join_thread()
        self.inbox.close()
        self.results.close()


def _death(exitcode: int | None) -> str:
    if _SIGKILL is not None and exitcode == -_SIGKILL:
        return "killed by SIGKILL, as the kernel does when memory runs out"
    return f"exit code {exitcode}"


class LocalPoolExecutor(Executor):
    """``workers`` spawned processes, started on first use and kept until :meth:`close`.

    ``max_retries``: how many times a job whose worker died while running it is resubmitted
    before the run raises (the jobs waiting behind it are resubmitted freely).
    """

    name = "pool"

    def __init__(self, workers: int = 2, *, max_retries: int = 3) -> None:
        if workers < 1:
            raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ZeronasUserError(f"max_retries must be an integer of 0 or more, got {max_retries!r}")
        self.workers = workers
        self.max_retries = max_retries
        self._context = multiprocessing.get_context("spawn")  # fork after torch's thread pool can hang
        self._pool: list[_Worker] = []
        self._ticket = 0
        self.contexts_sent = 0  # how many times a context's data went to a worker
        self.workers_replaced = 0  # workers that died and were started afresh

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers (none before the first run or after :meth:`close`)."""
        return [w.process.pid for w in self._pool]

    def _spawn(self) -> _Worker:
        # Workers start with SIGINT blocked (a mask survives fork and exec) and ignore it before
        # unblocking it, so a Ctrl-C during their seconds of start-up gives no traceback; here a
        # SIGINT is only held back until the worker is started.
        blocked = _SIGINT is not None and hasattr(signal, "pthread_sigmask")
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {_SIGINT}) if blocked else None
        try:
            return _Worker(self._context)
        finally:
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _start(self) -> None:
        while len(self._pool) < self.workers:
            self._pool.append(self._spawn())

    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        if not jobs:
            return
        pending = list(reversed(range(len(jobs))))  # indices, the next at the end
        lost = [0] * len(jobs)  # how many times each job lost its worker
        try:
            self._start()
            while pending or any(w.in_flight for w in self._pool):
                self._submit(context, jobs, pending)
                handles = [w.results for w in self._pool] + [w.process.sentinel for w in self._pool]
                multiprocessing.connection.wait(handles, timeout=_POLL_SECONDS)
                for i, worker in enumerate(self._pool):
                    alive = worker.process.is_alive()  # before reading: a dead worker's results are all in its pipe
                    for ticket, records, failure in worker.receive():
                        index = worker.in_flight.pop(ticket, None)
                        if index is None:
                            continue  # a job of an earlier run that was abandoned
                        if isinstance(failure, ZeronasUserError):
                            raise failure
                        if failure is not None:
                            raise RuntimeError(f"a scoring worker failed on {jobs[index].arch}: {failure}")
                        yield jobs[index], records
                    if not alive:
                        self._replace(i, jobs, pending, lost)
        except KeyboardInterrupt:  # Interrupted, or a SIGINT under a handler of the caller's
            # Hand out what had finished before the workers go, so that the caller keeps it.
            try:
                finished = self._finished(jobs)
            finally:
                self._stop(now=True)
            yield from finished
            raise
        except BaseException:
            self._stop(now=True)  # a half-finished pool cannot be trusted with the next context
            raise

    def _submit(self, context: ScoringContext, jobs: Sequence[Job], pending: list[int]) -> None:
        """Give pending jobs to the least busy workers, up to two in flight each."""
        while pending:
            worker = min(self._pool, key=lambda w: len(w.in_flight))  # spread jobs before queueing them
            if len(worker.in_flight) >= _IN_FLIGHT_PER_WORKER:
                return
            index = pending.pop()
            if worker.token != context.token:
                worker.inbox.put(("context", context))
                worker.token = context.token
                self.contexts_sent += 1
            self._ticket += 1
            worker.inbox.put(("job", (context.token, self._ticket, jobs[index])))
            worker.in_flight[self._ticket] = index

    def _replace(self, i: int, jobs: Sequence[Job], pending: list[int], lost: list[int]) -> None:
        """Start a fresh worker in place of the dead ``self._pool[i]``; resubmit its jobs, or raise."""
        dead = self._pool[i]
        dead.process.join(timeout=_TERMINATE_SECONDS)
        held = [dead.in_flight[t] for t in sorted(dead.in_flight)]  # a worker runs its jobs in ticket order
        how = _death(dead.process.exitcode)
        dead.close_pipes()
        dead.process.close()
        self._pool[i] = self._spawn()  # before raising, so that _stop finds a consistent pool
        self.workers_replaced += 1
        if not held:
            return
        running = held[0]  # the job it was running; the others only waited behind it
        lost[running] += 1
        if lost[running] > self.max_retries:
            raise RuntimeError(f"a scoring worker died ({how}) on {jobs[running].arch}, which has now lost "
                               f"{lost[running]} workers; rerun to resume, with fewer --workers if memory ran out")
        pending.extend(reversed(held))  # next in line, in their order
        # Naming the network also keeps Python from showing only the first of equal warnings.
        warnings.warn(f"a scoring worker died ({how}) on {jobs[running].arch}; started a new one and "
                      f"resubmitted {len(held)} job(s)", RuntimeWarning, stacklevel=2)

    def _finished(self, jobs: Sequence[Job]) -> list[tuple[Job, list[dict[str, Any]]]]:
        """The results of in-flight jobs already waiting in the pipes."""
        finished: list[tuple[Job, list[dict[str, Any]]]] = []
        for worker in self._pool:
            try:
                messages = worker.receive()
            except Exception:  # noqa: BLE001 - a message cut by the interruption: keep what was read
                continue
            for ticket, records, failure in messages:
                index = worker.in_flight.pop(ticket, None)
                if index is not None and failure is None:
                    finished.append((jobs[index], records))
        return finished

    def close(self) -> None:
        """Stop the workers: idle ones leave at once; any still busy after a few seconds are terminated."""
        self._stop(now=False)

    def _stop(self, *, now: bool) -> None:
        """Stop every worker and close the queues and pipes; ``now``: terminate at once (results abandoned)."""
        pool, processes = self._pool, [w.process for w in self._pool]
        if not now:
            for worker in pool:
                if worker.process.is_alive():
                    try:
                        worker.inbox.put(None)
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
        for worker in pool:
            worker.close_pipes()
            if not worker.process.is_alive():
                try:
                    worker.process.close()  # its sentinel's file descriptor
                except ValueError:
                    pass
        self._pool = []


def _join_all(processes: list[Any], seconds: float) -> None:
    """Join ``processes`` within ``seconds`` in all."""
    deadline = time.monotonic() + seconds
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
