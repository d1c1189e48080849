"""Interrupted runs: SIGINT and SIGTERM stop every executor promptly and cleanly, results kept.

The first tests drive the signal handling of ``Executor.run`` in this process with a toy
executor. The others send real signals to a real ``zeronas correlate`` (real NB201 data), find
its worker processes through ``/proc`` before the signal, and check that all of them are gone
within seconds, that stderr holds one line and no leaked-semaphore warning, and that a rerun of
the same command scores only what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONV_CELL, DEAD_CELL, MIXED_CELL
from zeronas.runner import Evaluator, LocalPoolExecutor, MemoryStore
from zeronas.runner.executors import Executor, Interrupted, SerialExecutor
from zeronas.runner.store import record_key

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="reads processes from /proc")
REPO = Path(__file__).resolve().parents[2]


class _Counting(Executor):
    """Yields ``count`` items, taking ``seconds`` for each (in small steps, so a signal is handled soon)."""

    def __init__(self, count: int = 3, seconds: float = 0.0) -> None:
        self.count, self.seconds = count, seconds
        self.stopped_by: type[BaseException] | None = None  # what ended the inner generator early

    def run(self, context, jobs) -> Iterator[int]:  # type: ignore[override]
        try:
            for i in range(self.count):
                _sleep(self.seconds)
                yield i
        except BaseException as exc:
            self.stopped_by = type(exc)
            raise


def _sleep(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)


def _signal_main_thread_later(signum: int, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, signal.pthread_kill, args=(threading.main_thread().ident, signum))
    timer.start()
    return timer


# --- the signal handling of run(), in this process ---------------------------------------------------------


def test_every_executor_s_run_is_made_interruptible():
    assert getattr(SerialExecutor.run, "_zeronas_interruptible", False)
    assert getattr(_Counting.run, "_zeronas_interruptible", False)
    assert issubclass(Interrupted, KeyboardInterrupt)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_run_works_raises_interrupted_there_and_the_handlers_are_restored(signum):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    executor, got = _Counting(count=3, seconds=5.0), []
    timer = _signal_main_thread_later(signum, 0.3)
    start = time.monotonic()
    try:
        with pytest.raises(Interrupted) as caught:
            got.extend(executor.run(None, []))
    finally:
        timer.cancel()
    assert time.monotonic() - start < 3.0
    assert caught.value.signum == signum and got == []
    assert {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} == before


def test_a_handler_of_the_application_is_never_replaced():
    calls: list[int] = []

    def own(signum, frame):
        calls.append(signum)

    previous = signal.signal(signal.SIGTERM, own)
    try:
        got = []
        for item in _Counting(count=3).run(None, []):
            if item == 0:
                signal.raise_signal(signal.SIGTERM)
            got.append(item)
        assert got == [0, 1, 2] and calls == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_closing_the_iterator_early_restores_the_handlers_and_closes_the_inner_run():
    executor = _Counting(count=5)
    iterator = executor.run(None, [])
    assert next(iterator) == 0
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # installed while iterating
    iterator.close()
    assert executor.stopped_by is GeneratorExit
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_nested_and_interleaved_runs_share_the_handlers_and_restore_them_once_all_end():
    outer, seen = _Counting(count=2), []
    with pytest.raises(Interrupted):
        for a in outer.run(None, []):
            for b in _Counting(count=2).run(None, []):
                seen.append((a, b))
                if (a, b) == (1, 0):
                    signal.raise_signal(signal.SIGTERM)  # raised here, in the caller's loop
    assert seen == [(0, 0), (0, 1), (1, 0)] and outer.stopped_by is GeneratorExit
    assert list(zip(_Counting(count=3).run(None, []), _Counting(count=2).run(None, []), strict=False)) == [(0, 0), (1, 1)]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_run_in_another_thread_leaves_the_handlers_alone():
    got, handlers = [], []

    def iterate():
        for item in _Counting(count=2).run(None, []):
            handlers.append(signal.getsignal(signal.SIGTERM))
            got.append(item)

    thread = threading.Thread(target=iterate)
    thread.start()
    thread.join(10)
    assert got == [0, 1] and handlers == [signal.SIG_DFL] * 2


class _SignallingStore(MemoryStore):
    """Sends this process SIGTERM when it is given its second result, before writing it."""

    def __init__(self, pool: LocalPoolExecutor) -> None:
        self.pool, self.workers, self.writes = pool, {}, 0
        super().__init__()

    def add_many(self, records):
        records = list(records)
        if records and self.writes == 1:
            self.workers = {pid: _stat(pid)[2] for pid in self.pool.pids}
            signal.raise_signal(signal.SIGTERM)
        self.writes += bool(records)
        return super().add_many(records)


@linux_only
@pytest.mark.slow
def test_a_signal_while_the_evaluator_writes_stops_the_pool_and_keeps_what_was_written():
    cells = [MIXED_CELL, DEAD_CELL, CONV_CELL, CONV_CELL.replace("3x3", "1x1")]
    pool = LocalPoolExecutor(2)
    store = _SignallingStore(pool)
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=["naswot"], store=store, executor=pool, progress=False)
    with pool, pytest.raises(Interrupted) as caught:
        evaluator.score(cells)
    assert caught.value.signum == signal.SIGTERM
    assert len(store) == 1  # the first result, written whole; the second was interrupted before its write
    assert len(store.workers) == 2 and _wait_until_gone(store.workers, 5) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


# --- real signals to a real command line run ---------------------------------------------------------------

SAMPLE = 3
PROXIES = "gradsign,naswot"  # gradsign takes seconds a cell: the workers are mid-job when the signal comes


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of ``pid``, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0], int(fields[19])


def _descendants(pid: int) -> dict[int, int]:
    """Every process below ``pid``, by pid, with its start time (so a reused pid is not mistaken for it)."""
    parents: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents.setdefault(stat[0], []).append((int(entry.name), stat[2]))
    found, todo = {}, [pid]
    while todo:
        for child, start in parents.get(todo.pop(), []):
            found[child] = start
            todo.append(child)
    return found


def _alive(pid: int, start: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] == start and stat[1] not in "ZXx"  # a zombie has ended


def _mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            stat = _stat(int(entry.name))
            if text in cmdline and stat is not None and stat[1] not in "ZXx":
                pids.append(int(entry.name))
    return pids


def _wait_until_gone(processes: dict[int, int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        alive = [pid for pid, start in processes.items() if _alive(pid, start)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _correlate_argv(results: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "zeronas", "correlate", "--benchmark", "nb201", "--sample", str(SAMPLE),
            "--proxies", PROXIES, "--workers", str(workers), "--results", str(results), "--no-progress", "--no-tables"]


def _start_and_wait_for_a_record(tmp_path: Path, workers: int) -> tuple[subprocess.Popen, Path, Path]:
    results, stderr = tmp_path / "r.jsonl", tmp_path / "stderr.txt"
    with open(stderr, "wb") as err:
        # A session of its own, so that a signal can go to its process group as a terminal's Ctrl-C does.
        proc = subprocess.Popen(_correlate_argv(results, workers), cwd=REPO, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    deadline = time.monotonic() + 240
    while not (results.exists() and b"\n" in results.read_bytes()):
        if proc.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers
            proc.wait()
            pytest.fail(f"no record was written (exit code {proc.returncode}): {stderr.read_text()}")
        time.sleep(0.05)
    return proc, results, stderr


@contextlib.contextmanager
def _killing_leftovers(proc: subprocess.Popen, below: dict[int, int]) -> Iterator[None]:
    """On the way out, kill whatever of the run is still alive (when a check failed), so nothing outlives the test."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, start in below.items():
            if _alive(pid, start):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_a_signal_stops_correlate(proc, results, stderr, below, signum, workers, group) -> None:
    if workers > 1:
        assert len(below) >= workers  # the workers (and multiprocessing's resource tracker)
    start = time.monotonic()
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"{signal.Signals(signum).name} did not stop the run within 10 s")
    assert time.monotonic() - start < 10
    assert _wait_until_gone(below, 10) == []
    assert _mentioning(str(results)) == []
    assert code == 128 + signum, f"exit code {code}: killed by the signal, not stopped"
    # One line: no traceback (of the parent or of a worker), no leaked-semaphore warning.
    assert stderr.read_text().strip().splitlines() == ["zeronas: interrupted"]

    assert results.read_text().endswith("\n")
    records = _records(results)
    cells = {r["arch"] for r in records}
    assert len(records) == 2 * len(cells) and 1 <= len(cells) < SAMPLE  # whole jobs, and not all of them
    assert all(r["status"] in ("ok", "nan") for r in records)


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "workers", "group", "rerun"),
    [(signal.SIGTERM, 2, False, True), (signal.SIGINT, 2, True, False), (signal.SIGTERM, 1, False, False)],
    ids=["SIGTERM-pool", "SIGINT-to-the-group-pool", "SIGTERM-serial"],
)
def test_a_signal_stops_correlate_at_once_leaving_no_process_and_every_finished_result(
    tmp_path, signum, workers, group, rerun
):
    """SIGTERM as from ``kill`` or ``timeout``; SIGINT to the whole process group as from Ctrl-C."""
    proc, results, stderr = _start_and_wait_for_a_record(tmp_path, workers)
    below = _descendants(proc.pid)
    with _killing_leftovers(proc, below):
        _check_a_signal_stops_correlate(proc, results, stderr, below, signum, workers, group)
    if rerun:
        kept = results.read_text()
        again = subprocess.run(_correlate_argv(results, workers), cwd=REPO, capture_output=True, text=True,
                               timeout=600, check=False)
        assert again.returncode == 0, again.stderr
        assert "leaked" not in again.stderr and "Traceback" not in again.stderr
        assert results.read_text().startswith(kept)  # what the interrupted run kept stays, and is not scored again
        keys = [record_key(r) for r in _records(results)]
        assert len(keys) == SAMPLE * 2 and len(set(keys)) == len(keys)


@linux_only
@pytest.mark.slow
def test_workers_leave_by_themselves_when_the_parent_is_killed(tmp_path):
    proc, _, _ = _start_and_wait_for_a_record(tmp_path, workers=2)
    below = _descendants(proc.pid)
    with _killing_leftovers(proc, below):
        assert len(below) >= 2
        proc.kill()  # SIGKILL: nothing of the parent's runs
        proc.wait()
        assert _wait_until_gone(below, 5) == []
