"""REINFORCE (Williams, 1992) as NAS-Bench-201 runs it: one softmax policy per decision, logits
initialised to 1e-3 N(0, 1), Adam, and a bias-corrected exponential moving average of the
reward as baseline; the loss is ``-log p(a) (reward - baseline)`` after the baseline is updated.

The policy is a (decisions x options) array updated in numpy with the closed-form gradient of
the log-softmax and torch.optim.Adam's update rule (the tests check both against torch): a
torch step on a 6 x 5 tensor costs milliseconds of thread start-up, a numpy one microseconds,
and 500 runs of 100 steps are the unit of work here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zeronas.errors import ArchitectureError, ZeronasUserError
from zeronas.search._registry import register_searcher
from zeronas.search.base import Proposal, Searcher
from zeronas.spaces.base import Categorical

MAX_DRAWS = 1000  # invalid decision vectors redrawn before giving up (spaces with constraints)


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad) for one numpy array, in place."""

    def __init__(self, params: np.ndarray, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m, self.v, self.t = np.zeros_like(params), np.zeros_like(params), 0

    def step(self, grad: np.ndarray) -> None:
        beta1, beta2 = self.betas
        self.t += 1
        self.m = beta1 * self.m + (1 - beta1) * grad
        self.v = beta2 * self.v + (1 - beta2) * grad * grad
        bias1, bias2 = 1 - beta1 ** self.t, 1 - beta2 ** self.t
        denom = np.sqrt(self.v) / np.sqrt(bias2) + self.eps
        self.params -= (self.lr / bias1) * self.m / denom


@register_searcher
class Reinforce(Searcher):
    """A categorical policy per decision trained by REINFORCE on the fitness (in %).

    ``learning_rate``: Adam's (NAS-Bench-201's documented command: 0.5; NATS-Bench: 0.01).
    ``ema``: the baseline's momentum (0.9). With k candidates (G-REINFORCE) the evaluated
    architecture is the proxy's arg-max of k mutations of the policy's sample, and the policy
    is updated with the sample's log-probability.
    """

    name = "reinforce"
    description = "REINFORCE policy gradient"
    requires = (Categorical,)

    def __init__(self, space: Any, *, seed: int = 0, assist: Any = None, learning_rate: float = 0.5,
                 ema: float = 0.9) -> None:
        if learning_rate <= 0 or not 0 <= ema < 1:
            raise ZeronasUserError(f"REINFORCE needs learning_rate > 0 and 0 <= ema < 1, got {learning_rate}, {ema}")
        super().__init__(space, seed=seed, assist=assist)
        self.options = space.choices()
        width = max(len(c) for c in self.options)
        self.logits = 1e-3 * self.rng.standard_normal((len(self.options), width))
        # options beyond a decision's own count take no probability
        self.valid = np.array([[j < len(c) for j in range(width)] for c in self.options])
        self.optimizer = Adam(self.logits, lr=learning_rate)
        self.momentum = float(ema)
        self._numerator = self._denominator = 0.0
        self._action: tuple[int, ...] | None = None

    def probabilities(self) -> np.ndarray:
        """The policy: (decisions x options) softmax of the logits, 0 for absent options."""
        z = np.where(self.valid, self.logits, -np.inf)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def _sample(self) -> tuple[tuple[int, ...], Any]:
        cumulative = np.cumsum(self.probabilities(), axis=1)
        for _ in range(MAX_DRAWS):
            draws = self.rng.random(len(self.options))
            action = tuple(min(int(np.searchsorted(row, u, side="right")), len(c) - 1)
                           for row, u, c in zip(cumulative, draws, self.options, strict=True))
            try:
                return action, self.space.from_decisions([c[i] for c, i in zip(self.options, action, strict=True)])
            except ArchitectureError:
                continue
        raise ZeronasUserError(f"REINFORCE drew {MAX_DRAWS} invalid architectures in a row from space "
                               f"{self.space.name!r}; the policy has collapsed onto invalid decisions")

    def _propose(self) -> Proposal:
        action, arch = self._sample()
        self._action = action
        return Proposal(default=arch, parent=arch,
                        candidates=lambda k: [self.space.mutate(arch, self.rng) for _ in range(k)])

    def _adopt(self, arch: Any) -> None:
        if self._action is None:  # a warm-up architecture is the action itself
            decisions = self.space.decisions(arch)
            self._action = tuple(c.index(d) for c, d in zip(self.options, decisions, strict=True))

    def _observe(self, arch: Any, fitness: float) -> None:
        action, self._action = self._action, None
        if action is None or not np.isfinite(fitness):
            return  # a failed evaluation teaches the policy nothing
        self._numerator = self.momentum * self._numerator + (1 - self.momentum) * fitness
        self._denominator = self.momentum * self._denominator + (1 - self.momentum)
        advantage = fitness - self._numerator / self._denominator
        # d/dlogits of -log p(action) * advantage = (softmax - onehot(action)) * advantage
        grad = self.probabilities()
        grad[np.arange(len(action)), action] -= 1.0
        self.optimizer.step(grad * advantage)
