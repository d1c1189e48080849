"""Bayesian optimisation with Optuna's TPE sampler (the ``search`` extra), one categorical
parameter per decision, driven through Optuna's ask/tell interface."""

from __future__ import annotations

import math
from typing import Any

from zeronas.errors import ArchitectureError, ZeronasUserError
from zeronas.search._registry import register_searcher
from zeronas.search.base import Proposal, Searcher
from zeronas.spaces.base import Categorical

MAX_DRAWS = 1000


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ZeronasUserError("the TPE search needs Optuna: pip install 'zeronas[search]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@register_searcher
class TPE(Searcher):
    """Optuna's ``TPESampler`` (``n_startup_trials`` random trials first, then TPE).

    ``multivariate=True`` (the default here; Optuna's own default is False): one joint density
    over all decisions rather than one per decision, which models interacting edges and, on
    NAS-Bench-201, asks 2.2x faster (0.079 against 0.173 s per 100-evaluation run).

    With k candidates (G-TPE) k trials are asked and the proxy's arg-max is evaluated; the
    others are told as failed, which TPE ignores. Architectures that did not come from a trial
    (warm-up, moves) are added to the study as finished trials. A proposal that names no valid
    architecture (NB101: more than 9 edges) is told as pruned and asked again.
    """

    name = "tpe"
    description = "Bayesian optimisation (Optuna TPE)"
    requires = (Categorical,)

    def __init__(self, space: Any, *, seed: int = 0, assist: Any = None, n_startup_trials: int = 10,
                 multivariate: bool = True) -> None:
        optuna = _optuna()
        super().__init__(space, seed=seed, assist=assist)
        self.options = space.choices()
        self.distributions = {f"d{i}": optuna.distributions.CategoricalDistribution(list(range(len(c))))
                              for i, c in enumerate(self.options)}
        sampler = optuna.samplers.TPESampler(seed=int(self.rng.integers(2**31)), n_startup_trials=n_startup_trials,
                                             multivariate=multivariate)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pending: list[tuple[str, Any]] = []  # (identity, trial) of every trial asked since the last tell

    def _arch(self, trial: Any) -> Any:
        params = trial.params  # a deep copy per access
        return self.space.from_decisions([c[params[f"d{i}"]] for i, c in enumerate(self.options)])

    def _ask(self) -> Any:
        optuna = _optuna()
        for _ in range(MAX_DRAWS):
            trial = self.study.ask(self.distributions)
            try:
                arch = self._arch(trial)
            except ArchitectureError:
                # pruned, not failed: TPE counts pruned trials among the bad ones, so it learns to
                # avoid invalid regions instead of proposing them again
                self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                continue
            self._pending.append((self.space.identity(arch), trial))
            return arch
        raise ZeronasUserError(f"TPE proposed {MAX_DRAWS} invalid architectures in a row in space {self.space.name!r}")

    def _propose(self) -> Proposal:
        first = self._ask()
        return Proposal(default=first, candidates=lambda k: [first, *(self._ask() for _ in range(k - 1))])

    def _observe(self, arch: Any, fitness: float) -> None:
        optuna = _optuna()
        identity = self.space.identity(arch)
        trial = next((t for i, t in self._pending if i == identity), None)
        failed = optuna.trial.TrialState.FAIL
        if trial is None:
            params = {f"d{i}": c.index(d) for i, (c, d) in enumerate(zip(self.options, self.space.decisions(arch),
                                                                          strict=True))}
            finished = math.isfinite(fitness)
            self.study.add_trial(optuna.trial.create_trial(
                params=params, distributions=self.distributions, value=fitness if finished else None,
                state=optuna.trial.TrialState.COMPLETE if finished else failed))
        elif math.isfinite(fitness):
            self.study.tell(trial, fitness)
        else:
            self.study.tell(trial, state=failed)
        for _, other in self._pending:  # the candidates the proxy passed over, duplicates included
            if other is not trial:
                self.study.tell(other, state=failed)
        self._pending.clear()
