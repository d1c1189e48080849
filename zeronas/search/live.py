"""Live search: your space, your ``evaluate(arch) -> (accuracy %, seconds)`` (a short training run,
say), proxies scored live through the Evaluator, every evaluation kept on disk.

With ``directory``, each evaluation is appended to ``evaluations.jsonl`` as it finishes (also
one a seconds budget then refuses) and proxy scores go to ``scores.jsonl``. Rerunning the same
call after a kill replays the recorded evaluations through the seeded searcher (nothing is
retrained, no proxy is rescored) and goes on from there; a record that the replay does not reproduce (other settings or seed) is a
one-line error. One process at a time may use a directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zeronas.errors import ZeronasUserError
from zeronas.search._registry import get_searcher
from zeronas.search.assist import make_assistance
from zeronas.search.loop import Trajectory, run_search
from zeronas.search.scorers import live_scorer

EVALUATIONS = "evaluations.jsonl"
SCORES = "scores.jsonl"
FORMAT = 1


@dataclass
class LiveSearchResult:
    """The run's evaluations, its best architecture (by the fitness ``evaluate`` returned), how many
    evaluations came from the directory rather than ``evaluate``, and the proxy seconds spent."""

    trajectory: Trajectory
    best: Any
    best_fitness: float
    replayed: int
    proxy_seconds: float


def _settings(**settings: Any) -> dict[str, Any]:
    """What a resumed search must share with the recorded one, as its JSON reads back."""
    try:
        return json.loads(json.dumps({"format": FORMAT, **settings}, default=_plain))
    except (TypeError, ValueError) as exc:
        raise ZeronasUserError(f"search settings must be JSON values (numbers, text, lists): {exc}") from None


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _read(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]], int]:
    """(settings, evaluations, byte length of the complete lines) of an evaluations file."""
    if not path.exists():
        return None, [], 0
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) < len(data):
        warnings.warn(f"{path}: the last line was cut short (a kill mid-write); that evaluation runs again",
                      stacklevel=3)
    lines = complete.decode("utf-8", errors="replace").splitlines()
    try:
        records = [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise ZeronasUserError(f"{path} has a damaged line ({exc.msg}); move the file away to start over") from None
    if not records:
        return None, [], len(complete)
    header, rows = records[0], records[1:]
    if not isinstance(header, dict) or header.get("format") != FORMAT or any(
            not isinstance(r, dict) or not {"arch", "accuracy", "seconds"} <= r.keys() for r in rows):
        raise ZeronasUserError(f"{path} is not a zeronas live-search record; use another directory")
    return header, rows, len(complete)


def _append(directory: Path | None, arch: str, accuracy: float, seconds: float) -> None:
    if directory is None:
        return
    line = json.dumps({"arch": arch, "accuracy": accuracy, "seconds": seconds}) + "\n"
    with open(directory / EVALUATIONS, "ab") as handle:
        handle.write(line.encode())
        handle.flush()
        os.fsync(handle.fileno())


def search_live(space: Any, evaluate: Callable[[Any], tuple[float, float]], *, algorithm: str = "rea",
                budget: float = 100, budget_unit: str = "evals", seed: int = 0, proxy: str | None = None,
                assist: str | None = None, dataset: str = "cifar10", directory: str | os.PathLike[str] | None = None,
                algorithm_options: Mapping[str, Any] | None = None, charge_proxy: bool = False,
                proxy_seed: int = 0, data_dir: str | os.PathLike[str] | None = None) -> LiveSearchResult:
    """Search ``space`` (a space or its registered name) with ``evaluate``; see the module doc.

    ``proxy``/``assist`` as in :class:`zeronas.experiments.search.SearchConfig`; the proxy is
    scored on ``dataset``'s batch with ``proxy_seed``.
    """
    from zeronas.spaces import get_space

    space = get_space(space, data_dir)
    options = dict(algorithm_options or {})
    if (proxy is None) != (assist is None):
        raise ZeronasUserError("a proxy-assisted search needs both proxy and assist (k10, warmup or move)")
    settings = _settings(space=space.name, algorithm=algorithm, seed=seed, proxy=proxy, assist=assist,
                         dataset=dataset, proxy_seed=proxy_seed, budget_unit=budget_unit,
                         charge_proxy=charge_proxy, options=options)
    directory = Path(directory) if directory is not None else None
    store = None
    lock = None
    try:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            lock = open(directory / ".lock", "a")  # noqa: SIM115  (held for the whole search)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ZeronasUserError(f"another process is searching in {directory}; wait for it or use another "
                                       "directory") from None
            header, stored, length = _read(directory / EVALUATIONS)
            if header is not None and header != settings:
                changed = ", ".join(k for k in settings if header.get(k) != settings[k])
                raise ZeronasUserError(f"{directory} holds a search with other settings ({changed}); "
                                       "use another directory or the same settings")
            with open(directory / EVALUATIONS, "ab") as handle:
                handle.truncate(length)
                if header is None:
                    handle.write((json.dumps(settings) + "\n").encode())
            if proxy is not None:
                from zeronas.runner.store import JsonlStore

                store = JsonlStore(directory / SCORES)
        else:
            stored = []
        scorer = live_scorer(space, dataset, proxy, seed=proxy_seed, store=store, data_dir=data_dir) \
            if proxy is not None else None
        helper = make_assistance(assist, scorer) if scorer is not None else None
        searcher = get_searcher(algorithm)(space, seed=seed, assist=helper, **options)
        replay = iter(stored)
        replayed = 0

        def evaluate_or_replay(arch: Any) -> tuple[float, float]:
            nonlocal replayed
            record = next(replay, None)
            if record is None:
                accuracy, seconds = evaluate(arch)
                # kept even when the budget then refuses it: a resume with a larger budget reuses it
                _append(directory, space.format(arch), float(accuracy), float(seconds))
                return accuracy, seconds
            if record["arch"] != space.format(arch):
                raise ZeronasUserError(
                    f"evaluation {replayed + 1} in {directory / EVALUATIONS} is {record['arch']!r} but this search "
                    f"proposes {space.format(arch)!r}: the record comes from another search; use another directory")
            replayed += 1
            return float(record["accuracy"]), float(record["seconds"])

        trajectory = run_search(searcher, evaluate_or_replay, budget=budget, budget_unit=budget_unit,
                                charge_proxy=charge_proxy)
        best = trajectory.best_index()
        return LiveSearchResult(trajectory=trajectory, best=trajectory.archs[best],
                                best_fitness=trajectory.fitness[best], replayed=replayed,
                                proxy_seconds=helper.proxy_seconds if helper is not None else 0.0)
    finally:
        if store is not None:
            store.close()
        if lock is not None:
            lock.close()
