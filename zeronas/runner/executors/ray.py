"""Scoring jobs as Ray tasks: on a local Ray instance or on an existing cluster (the ``ray`` extra).

Each task scores a chunk of jobs, so a task's overhead (a few milliseconds) is spread over
several networks. A context's data goes to the object store once (``ray.put`` per context
token); each worker process fetches it on its first task of that context and keeps it, as a
worker of the local pool does. Workers run one torch thread each, keep freed memory as pool
workers do, and import zeronas from
their own environment: no ``runtime_env`` is shipped.

Failures. A task lost with its worker or node is retried by Ray (``max_retries``); one that
still fails with a Ray system error is resubmitted here ``max_retries`` more times, then the
run raises ``RuntimeError`` (a rerun resumes: the caller has written what was yielded). A
``ZeronasUserError`` in a job reaches the caller as itself. When ``run`` ends by an exception
or is closed early, the tasks in flight are cancelled (their workers killed); on an
interruption the results already finished are handed out first.

``ray`` is imported only when a :class:`RayExecutor` is made, so this module imports without it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

from zeronas.errors import ZeronasUserError, one_line
from zeronas.runner.executors.base import Executor
from zeronas.runner.executors.worker_process import prepare_scoring_process
from zeronas.runner.task import Job, ScoringContext, run_job

_WAIT_SECONDS = 1.0  # ray.wait returns this often, so a signal is handled promptly
# Ray's errors for a task lost with its worker, node or owner (in ray.exceptions)
_SYSTEM_ERRORS = ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OutOfMemoryError",
                  "LocalRayletDiedError", "OwnerDiedError")

# A worker process's context, by token: a new context supersedes the old one.
_worker_contexts: dict[str, ScoringContext] = {}

Outcome = tuple[list[tuple[int, list[dict[str, Any]]]], tuple[str, int, Any] | None]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ZeronasUserError("the ray executor needs Ray: pip install 'zeronas[ray]'") from None
    return ray


def _score_chunk(token: str, context_box: list[Any], jobs: list[Job]) -> Outcome:
    """Score ``jobs`` in a Ray worker; returns ``(done, failure)``.

    ``done`` holds ``(index in chunk, records)`` of the jobs scored; ``failure`` is ``None`` or
    ``("user", index, error)`` for a ``ZeronasUserError`` (the error itself when it survives
    pickling, else its message) or ``("error", index, message)`` for anything else, which ends
    the chunk. The context's reference comes boxed in a list, so that Ray does not fetch and unpickle the
    data for every task: a worker does it once per context.
    """
    import ray

    context = _worker_contexts.get(token)
    if context is None:
        prepare_scoring_process()
        context = ray.get(context_box[0])
        _worker_contexts.clear()
        _worker_contexts[token] = context
    done: list[tuple[int, list[dict[str, Any]]]] = []
    for i, job in enumerate(jobs):
        try:
            done.append((i, run_job(context, job)))
        except ZeronasUserError as exc:  # the user's to fix: the driver raises it as it is
            try:
                payload: Any = pickle.loads(pickle.dumps(exc))  # it must unpickle on the driver too
            except Exception:  # noqa: BLE001 - such an error travels as its message
                payload = str(exc)
            return done, ("user", i, payload)
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which decides
            return done, ("error", i, one_line(exc))
    return done, None


@functools.cache
def _remote_score_chunk() -> Any:
    """``_score_chunk`` as a Ray remote function, built on first use (``ray`` is optional)."""
    ray = _import_ray()
    return ray.remote(num_cpus=1, retry_exceptions=False)(_score_chunk)


class RayExecutor(Executor):
    """Chunks of ``chunk_size`` jobs as Ray tasks, at most ``workers`` in flight.

    ``address``: ``None`` for a local instance (Ray's ``ray.init`` rules), or the address of an
    existing cluster. A Ray connection already made in this process is used as it is and left
    open by :meth:`close`; one this executor makes is shut down by :meth:`close`.
    ``init_options`` go to ``ray.init`` (over this executor's defaults).
    """

    name = "ray"

    def __init__(self, workers: int = 2, *, address: str | None = None, chunk_size: int = 8, max_retries: int = 3,
                 init_options: dict[str, Any] | None = None) -> None:
        if workers < 1:
            raise ZeronasUserError(f"workers must be at least 1, got {workers}; pass --workers 1 or more")
        if chunk_size < 1:
            raise ZeronasUserError(f"chunk_size must be at least 1, got {chunk_size}")
        if max_retries < 0:
            raise ZeronasUserError(f"max_retries must be 0 or more, got {max_retries}")
        self._ray = _import_ray()  # fail here, at the start of a command, not after its data is loaded
        self.workers, self.address, self.chunk_size, self.max_retries = workers, address, chunk_size, max_retries
        self.init_options = dict(init_options or {})
        self._owns_ray = False
        self._context_ref: tuple[str, Any] | None = None  # (token, ObjectRef) of the last context put
        self.contexts_sent = 0  # how many times a context's data went to the object store

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        options = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True,
                   "logging_level": logging.WARNING, **self.init_options}
        ray.init(address=self.address, **options)
        self._owns_ray = True
        self._context_ref = None  # a reference from an earlier connection is no use now

    def _put(self, context: ScoringContext) -> Any:
        if self._context_ref is None or self._context_ref[0] != context.token:
            self._context_ref = None  # drop the old context's data before putting the new one
            self._context_ref = (context.token, self._ray.put(context))
            self.contexts_sent += 1
        return self._context_ref[1]

    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        if not jobs:
            return
        ray = self._ray
        self._connect()
        ref = self._put(context)
        remote = _remote_score_chunk().options(max_retries=self.max_retries)
        # Smaller chunks when there are few jobs, so that every worker gets some.
        size = max(1, min(self.chunk_size, math.ceil(len(jobs) / self.workers)))
        chunks = [list(jobs[i:i + size]) for i in range(0, len(jobs), size)]
        pending = list(reversed(range(len(chunks))))
        in_flight: dict[Any, tuple[int, int]] = {}  # task ref -> (chunk, resubmissions so far)

        def submit(chunk: int, resubmitted: int) -> None:
            in_flight[remote.remote(context.token, [ref], chunks[chunk])] = (chunk, resubmitted)

        try:
            while pending or in_flight:
                while pending and len(in_flight) < self.workers:
                    submit(pending.pop(), 0)
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=_WAIT_SECONDS)
                if not ready:
                    continue
                task = ready[0]
                chunk, resubmitted = in_flight.pop(task)
                try:
                    done, failure = ray.get(task)
                except Exception as exc:  # Ray's errors; see _is_system_error
                    if _is_system_error(ray, exc) and resubmitted < self.max_retries:
                        submit(chunk, resubmitted + 1)
                        continue
                    raise _task_failure(ray, exc, chunks[chunk], resubmitted) from exc
                for i, records in done:
                    yield chunks[chunk][i], records
                if failure is not None:
                    kind, i, payload = failure
                    if kind == "user":
                        raise payload if isinstance(payload, ZeronasUserError) else ZeronasUserError(payload)
                    raise RuntimeError(f"a Ray scoring task failed on {chunks[chunk][i].arch}: {payload}")
        except KeyboardInterrupt:  # Interrupted, or a SIGINT under a handler of the caller's
            # Hand out what had finished before the tasks go, so that the caller keeps it.
            try:
                finished = self._finished(in_flight, chunks)
            finally:
                self._cancel(in_flight)
            yield from finished
            raise
        except BaseException:
            self._cancel(in_flight)
            raise

    def _finished(self, in_flight: dict[Any, tuple[int, int]],
                  chunks: list[list[Job]]) -> list[tuple[Job, list[dict[str, Any]]]]:
        """The jobs of ``in_flight`` tasks that have already finished (without waiting for others)."""
        ray = self._ray
        finished: list[tuple[Job, list[dict[str, Any]]]] = []
        with contextlib.suppress(Exception):  # a failed task or a broken connection: keep what was read
            ready, _ = ray.wait(list(in_flight), num_returns=len(in_flight), timeout=0)
            for task in ready:
                chunk, _ = in_flight.pop(task)
                done, _failure = ray.get(task, timeout=0)
                finished.extend((chunks[chunk][i], records) for i, records in done)
        return finished

    def _cancel(self, in_flight: dict[Any, tuple[int, int]]) -> None:
        for task in in_flight:
            with contextlib.suppress(Exception):  # finished meanwhile, or the connection is gone
                self._ray.cancel(task, force=True)
        in_flight.clear()

    def close(self) -> None:
        """Drop the context's data; shut Ray down if this executor started it."""
        self._context_ref = None
        if self._owns_ray:
            self._owns_ray = False
            if self._ray.is_initialized():
                self._ray.shutdown()


def _is_system_error(ray: Any, exc: BaseException) -> bool:
    """A task lost with its worker, node or data (also as the cause of a ``RayTaskError``)."""
    kinds = tuple(k for k in (getattr(ray.exceptions, n, None) for n in _SYSTEM_ERRORS) if k is not None)
    cause = getattr(exc, "cause", None) if isinstance(exc, ray.exceptions.RayTaskError) else None
    return isinstance(exc, kinds) or isinstance(cause, kinds)


def _task_failure(ray: Any, exc: BaseException, jobs: list[Job], resubmitted: int) -> RuntimeError:
    """The driver's error for a task that failed outside ``run_job``: it names the chunk's networks."""
    what = f"{jobs[0].arch}" + (f" and {len(jobs) - 1} more" if len(jobs) > 1 else "")
    cause = getattr(exc, "cause", None) if isinstance(exc, ray.exceptions.RayTaskError) else None
    text = one_line(cause if isinstance(cause, BaseException) else exc)
    if _is_system_error(ray, exc):
        return RuntimeError(f"a Ray scoring task on {what} was lost, also after {resubmitted} resubmission(s) "
                            f"({text}); rerun to resume")
    return RuntimeError(f"a Ray scoring task on {what} failed: {text}")
