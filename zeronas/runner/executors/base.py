"""The executor interface: run scoring jobs of one context, yield their records as they finish.

Interruption. While an executor's ``run`` is iterated in the main thread, SIGINT and SIGTERM
raise :class:`Interrupted` (a ``KeyboardInterrupt``) instead of killing the process, so the
caller's ``with`` blocks close the store and the executor, and the executor stops its workers
(:meth:`Executor.close`). Results already written stay: a store appends whole records, and a
rerun scores only what is missing. The handlers are installed only where the current one is
the default (``SIG_DFL``; for SIGINT also Python's ``default_int_handler``) and restored when
the last iteration ends: a handler of the application's own is never replaced.
"""

from __future__ import annotations

import functools
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from zeronas.runner.task import Job, ScoringContext

_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM (``signum``) arrived while an executor ran jobs."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        super().__init__(f"interrupted by {name}")


def raise_interrupted(signum: int, _frame: Any) -> None:
    """A signal handler: raise :class:`Interrupted` where the main thread is."""
    raise Interrupted(signum)


def _is_default(signum: int, handler: Any) -> bool:
    if handler is signal.SIG_DFL:
        return True
    return signum == getattr(signal, "SIGINT", None) and handler is signal.default_int_handler


class _Handlers:
    """Our handlers, installed by the first ``run`` being iterated and restored by the last."""

    def __init__(self) -> None:
        self.depth = 0
        self.previous: dict[int, Any] = {}

    def enter(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False  # handlers can only be set (and only run) in the main thread
        if self.depth == 0:
            self.previous = {}
            for signum in _SIGNALS:
                try:
                    current = signal.getsignal(signum)
                    if _is_default(signum, current):
                        signal.signal(signum, raise_interrupted)
                        self.previous[signum] = current
                except (OSError, ValueError):  # e.g. an embedding that owns the signals
                    continue
        self.depth += 1
        return True

    def exit(self) -> None:
        self.depth -= 1
        if self.depth:
            return
        for signum, previous in self.previous.items():
            try:
                if signal.getsignal(signum) is raise_interrupted:  # not if someone set a handler over ours
                    signal.signal(signum, previous)
            except (OSError, ValueError):
                pass
        self.previous = {}


_HANDLERS = _Handlers()


def interruptible(items: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Iterate ``items()`` with SIGINT and SIGTERM raising :class:`Interrupted` (see the module)."""
    entered = _HANDLERS.enter()
    try:
        yield from items()
    finally:
        if entered:
            _HANDLERS.exit()


def _interruptible_run(run: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    if getattr(run, "_zeronas_interruptible", False):
        return run

    @functools.wraps(run)
    def wrapped(self: Executor, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[Any]:
        return interruptible(lambda: run(self, context, jobs))

    wrapped._zeronas_interruptible = True  # type: ignore[attr-defined]
    return wrapped


class Executor(ABC):
    """Runs :class:`~zeronas.runner.task.Job` s; the caller alone writes results to the store.

    ``run`` yields ``(job, records)`` pairs in completion order (not submission order). An
    executor may be long-lived and reused across contexts; ``close`` releases its workers.

    The ``run`` of every subclass is wrapped so that, while it is iterated in the main thread,
    SIGINT and SIGTERM raise :class:`Interrupted` (see :mod:`zeronas.runner.executors.base`).
    An executor with workers stops them promptly when ``run`` ends by an exception or is
    closed early; the pairs it yielded before are the caller's to keep.
    """

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and callable(run) and not getattr(run, "__isabstractmethod__", False):
            cls.run = _interruptible_run(run)  # type: ignore[method-assign]

    @abstractmethod
    def run(self, context: ScoringContext, jobs: Sequence[Job]) -> Iterator[tuple[Job, list[dict[str, Any]]]]:
        """Score every job; yield each job with its records as soon as it is done."""

    def close(self) -> None:
        """Release workers (a no-op for executors without any)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
