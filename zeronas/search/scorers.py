"""Proxy scores for search: oriented so that higher predicts better, NaN where a proxy has none,
with the recorded seconds each score cost (for searches that charge proxy time).

:class:`EvaluatorScorer` scores through an :class:`~zeronas.runner.Evaluator` (its store and
score tables first, live scoring for the rest) and remembers every answer.
:func:`table_scorer` preloads a benchmark's whole population from the score tables, so a search
over a scored space only looks numbers up. :class:`EnsembleScorer` ranks its members among the
architectures asked together.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from zeronas.errors import ZeronasUserError
from zeronas.evaluate.ensemble import DEFAULT_MEMBERS, ENSEMBLE, ensemble_scores


class ProxyScorer(ABC):
    """Oriented proxy scores of architectures (higher predicts higher accuracy)."""

    name: str = ""
    #: True where a score depends on the other architectures asked with it (a rank ensemble)
    relative: bool = False

    @abstractmethod
    def score(self, archs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, seconds)`` of ``archs`` (float64 each): oriented scores, NaN where undefined,
        and the scoring seconds recorded for each (0 where unknown)."""


class EvaluatorScorer(ProxyScorer):
    """One proxy of an Evaluator, memoised by identity; a population preloaded from its store
    and tables (``preload``) is answered without scoring."""

    def __init__(self, evaluator: Any, proxy: str | None = None, *, preload: Sequence[Any] = ()) -> None:
        self.evaluator = evaluator
        self.key = evaluator.key_for(proxy) if proxy is not None else evaluator.keys[0]
        if self.key not in evaluator.keys:
            raise ZeronasUserError(f"the evaluator does not score {self.key!r}; it scores {', '.join(evaluator.keys)}")
        self.name = self.key
        self.sign = 1.0 if next(p for p in evaluator.proxies if p.key == self.key).higher_is_better else -1.0
        self._memo: dict[str, tuple[float, float]] = {}
        if preload:
            table = evaluator.score(list(preload), compute=False)
            self.remember(table)

    def knows(self, identity: str) -> bool:
        """Whether the architecture with this identity is answered without scoring."""
        return identity in self._memo

    def remember(self, table: Any) -> None:
        """Keep this proxy's answers from an Evaluator result (error records are not kept)."""
        values, status = table.values[self.key], table.status[self.key]
        seconds = table.arch_seconds.get(self.key, np.zeros(len(values)))
        for identity, value, state, spent in zip(table.identities, values, status, seconds, strict=True):
            if state in ("ok", "nan"):
                self._memo[identity] = (self.sign * float(value), 0.0 if np.isnan(spent) else float(spent))

    @property
    def known(self) -> int:
        """Architectures answered so far (preloaded or scored)."""
        return len(self._memo)

    def score(self, archs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        identities = [self.evaluator.space.identity(a) for a in archs]
        memo = self._memo
        unknown = {i: a for i, a in zip(identities, archs, strict=True) if i not in memo}
        if unknown:
            self.remember(self.evaluator.score(list(unknown.values())))
            lost = [i for i in unknown if i not in memo]
            for identity in lost:  # an error record: undefined here, retried by a later search
                memo[identity] = (np.nan, 0.0)
        pairs = [memo[i] for i in identities]
        return (np.fromiter((p[0] for p in pairs), np.float64, len(pairs)),
                np.fromiter((p[1] for p in pairs), np.float64, len(pairs)))


class EnsembleScorer(ProxyScorer):
    """The rank ensemble of ``members`` (log-rank by default) among the architectures scored
    together: each member's oriented scores are ranked within the set asked (a search's k
    candidates, the N drawn for an arg-max, a warm-up pool), as someone who scored only those
    would, so a choice never uses scores of architectures outside the set. Seconds: the
    members' recorded seconds summed."""

    name = ENSEMBLE
    relative = True

    def __init__(self, members: Sequence[EvaluatorScorer], *, aggregation: str = "log_rank") -> None:
        if not members:
            raise ZeronasUserError("an ensemble needs at least one member proxy")
        self.members = list(members)
        self.aggregation = aggregation

    def score(self, archs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        evaluator = self.members[0].evaluator
        if all(m.evaluator is evaluator for m in self.members):
            # one evaluator call scores every member, sharing their passes
            identities = {evaluator.space.identity(a): a for a in archs}
            unknown = [a for i, a in identities.items() if any(not m.knows(i) for m in self.members)]
            if unknown:
                table = evaluator.score(unknown)
                for member in self.members:
                    member.remember(table)
        raw, seconds = {}, np.zeros(len(archs))
        for member in self.members:
            values, spent = member.score(archs)
            raw[member.key] = values  # already oriented
            seconds += spent
        combined = ensemble_scores(raw, list(raw), aggregation=self.aggregation,
                                   higher_is_better=dict.fromkeys(raw, True))
        return combined, seconds


def table_scorer(benchmark: Any, dataset: str, proxy: Any, *, seed: int = 0, members: Sequence[str] = DEFAULT_MEMBERS,
                 tables: bool | str | os.PathLike[str] = True, data_dir: str | os.PathLike[str] | None = None,
                 require_complete: bool = True) -> ProxyScorer:
    """A scorer for ``proxy`` (a proxy name, key or instance, or ``"ensemble"`` of ``members``) over the
    whole population of ``benchmark`` on ``dataset``, read from score tables (isomorphic cells
    share their class's score). Unscored architectures raise an error naming the campaign to run
    (``require_complete``), else they are scored live when a search first asks."""
    from zeronas.benchmarks import get_benchmark
    from zeronas.runner import Evaluator

    benchmark = get_benchmark(benchmark, data_dir)
    population = list(benchmark.population(dataset))
    names = list(members) if proxy == ENSEMBLE else [proxy]
    evaluator = Evaluator(benchmark, dataset=dataset, proxies=names, seed=seed, tables=tables,
                          share_classes=True, data_dir=data_dir, progress=False)
    scorers = [EvaluatorScorer(evaluator, name, preload=population) for name in names]
    short = [s.key for s in scorers if s.known < len(population)]
    if short and require_complete:
        counts = ", ".join(f"{s.key} {len(population) - s.known}" for s in scorers if s.key in short)
        raise ZeronasUserError(
            f"the score tables lack {benchmark.name} {dataset} seed {seed} scores ({counts} architectures); "
            f"score them first: zeronas campaign --benchmark {benchmark.name} --datasets {dataset} "
            f"--proxies {','.join(short)} --seeds {seed} --dedup (or score live: tables=False, --no-tables)")
    return EnsembleScorer(scorers) if proxy == ENSEMBLE else scorers[0]


def live_scorer(space: Any, dataset: str, proxy: Any, *, seed: int = 0, store: Any = None,
                executor: Any = None, data_dir: str | os.PathLike[str] | None = None,
                members: Sequence[str] = DEFAULT_MEMBERS) -> ProxyScorer:
    """A scorer that scores each architecture live when a search first asks (``store``: keep the
    scores, e.g. a JSON-lines store, so a killed search resumes without rescoring); ``proxy``
    may be ``"ensemble"`` of ``members``, all scored in one pass per architecture."""
    from zeronas.runner import Evaluator

    names = list(members) if proxy == ENSEMBLE else [proxy]
    evaluator = Evaluator(space, dataset=dataset, proxies=names, seed=seed, store=store, executor=executor,
                          data_dir=data_dir, progress=False)
    scorers = [EvaluatorScorer(evaluator, name) for name in names]
    return EnsembleScorer(scorers) if proxy == ENSEMBLE else scorers[0]
