"""Every registered search algorithm: seeded reproducibility, valid proposals, assistance hooks;
and each algorithm's own rules re-derived (REA aging and tournaments, REINFORCE's update
against torch autograd + torch.optim.Adam, TPE's rejected candidates)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.search.helpers import ParamsScorer
from zeronas.errors import ZeronasUserError
from zeronas.search import KCandidates, Move, Warmup, get_searcher, list_searchers, run_search
from zeronas.spaces import NB201Space
from zeronas.spaces.nb201 import OPS, count_parameters

SPACE = NB201Space()


def fitness(arch) -> tuple[float, float]:
    """A deterministic fitness: parameters in units of 10k, plus a fixed per-op bonus."""
    bonus = sum(OPS.index(op) for op in arch.ops) / 10
    return count_parameters(arch) / 1e4 + bonus, 1.0


def trajectory(name, seed, assist=None, budget=30):
    searcher = get_searcher(name)(SPACE, seed=seed, assist=assist)
    run = run_search(searcher, fitness, budget=budget)
    run.searcher_assist = assist
    return run


@pytest.mark.parametrize("name", list_searchers())
def test_same_seed_same_trajectory_other_seed_another(name):
    first, again, other = trajectory(name, 5), trajectory(name, 5), trajectory(name, 6)
    assert [str(a) for a in first.archs] == [str(a) for a in again.archs]
    assert first.fitness == again.fitness
    assert [str(a) for a in first.archs] != [str(a) for a in other.archs]
    assert len(first) == 30 and all(a in set(SPACE.all_archs()) for a in first.archs)


@pytest.mark.parametrize("name", list_searchers())
@pytest.mark.parametrize("make", [lambda s: KCandidates(s, k=5), lambda s: Warmup(s, pool=50),
                                  lambda s: Move(s, epsilon=0.0)], ids=["k5", "warmup", "move"])
def test_assisted_runs_are_seeded_and_charge_each_scored_architecture_once(name, make):
    class Recording(ParamsScorer):
        def score(self, archs):
            self.seen.update(str(a) for a in archs)
            return super().score(archs)

    scorers = [Recording(), Recording()]
    for scorer in scorers:
        scorer.seen = set()
    runs = [trajectory(name, 2, make(scorer)) for scorer in scorers]
    assert [str(a) for a in runs[0].archs] == [str(a) for a in runs[1].archs]
    # 1 s per distinct architecture the proxy scored, however often it was scored
    assert runs[0].proxy_seconds[-1] <= len(scorers[0].seen)
    assert runs[0].searcher_assist.proxy_seconds == len(scorers[0].seen) > 0


@pytest.mark.parametrize("name", list_searchers())
def test_proxy_assistance_finds_higher_proxy_scores(name):
    """With the fitness equal to the proxy's direction, k candidates must not do worse on average."""
    plain = np.mean([max(trajectory(name, s, budget=20).fitness) for s in range(6)])
    helped = np.mean([max(trajectory(name, s, KCandidates(ParamsScorer(), k=10), budget=20).fitness)
                      for s in range(6)])
    assert helped > plain


def test_rea_keeps_the_youngest_population_and_mutates_a_tournament_winner():
    rea = get_searcher("rea")(SPACE, seed=0, population=4, sample=2)
    told = []
    for step in range(12):
        members = [a for a, _ in rea.population]
        arch = rea.ask()
        if step >= 4:  # past the random initial population: one decision away from a member
            assert any(sum(x != y for x, y in zip(arch.ops, m.ops, strict=True)) == 1 for m in members)
        value = float(step if step != 6 else math.nan)
        rea.tell(arch, value)
        told.append((str(arch), value))
        assert [str(a) for a, _ in rea.population] == [a for a, _ in told[-4:]]


def test_rea_tournament_winner_is_the_best_of_the_sampled_members():
    rea = get_searcher("rea")(SPACE, seed=3, population=5, sample=3)
    for value in [1.0, 5.0, math.nan, 3.0, 2.0]:
        rea.tell(rea.ask(), value)
    state = rea.rng.bit_generator.state  # replay REA's own draws: the sampled members come first
    proposal = rea._propose()
    rea.rng.bit_generator.state = state
    sampled = [rea.population[int(i)] for i in rea.rng.integers(5, size=3)]
    best = max(sampled, key=lambda m: m[1] if math.isfinite(m[1]) else -math.inf)[0]
    assert proposal.parent == best


class TorchReinforce:
    """The oracle: the same policy as torch autograd + torch.optim.Adam + the bias-corrected EMA."""

    def __init__(self, logits: np.ndarray, lr: float = 0.5) -> None:
        self.logits = torch.nn.Parameter(torch.tensor(logits.copy()))
        self.adam = torch.optim.Adam([self.logits], lr=lr)
        self.numerator = self.denominator = 0.0

    def step(self, action, reward: float) -> np.ndarray:
        self.numerator = 0.9 * self.numerator + 0.1 * reward
        self.denominator = 0.9 * self.denominator + 0.1
        log_p = torch.log_softmax(self.logits, dim=1)[torch.arange(6), torch.tensor(list(action))].sum()
        loss = -log_p * (reward - self.numerator / self.denominator)
        self.adam.zero_grad()
        loss.backward()
        self.adam.step()
        return self.logits.detach().numpy()


def test_reinforce_update_matches_torch_autograd_and_adam():
    policy = get_searcher("reinforce")(SPACE, seed=1, learning_rate=0.5, ema=0.9)
    oracle = TorchReinforce(policy.logits)
    for reward in [70.0, 91.5, 80.0, 93.0, 60.0]:
        arch = policy.ask()
        policy.tell(arch, reward)
        expected = oracle.step([OPS.index(op) for op in arch.ops], reward)
        np.testing.assert_allclose(policy.logits, expected, rtol=1e-10, atol=1e-12)
    probabilities = torch.softmax(oracle.logits.detach(), dim=1).numpy()
    np.testing.assert_allclose(policy.probabilities(), probabilities, rtol=1e-12)


def test_reinforce_learns_a_peaked_reward():
    target = ("nor_conv_3x3",) * 6
    policy = get_searcher("reinforce")(SPACE, seed=0, learning_rate=0.1)
    for _ in range(300):
        arch = policy.ask()
        policy.tell(arch, 100.0 * sum(a == b for a, b in zip(arch.ops, target)) / 6)
    assert policy.probabilities()[:, OPS.index("nor_conv_3x3")].min() > 0.8


def test_g_reinforce_updates_with_the_samples_log_probability():
    """The evaluated architecture is a mutation of the policy's sample; the update is the torch
    oracle's with the sample's action, not the evaluated architecture's."""
    policy = get_searcher("reinforce")(SPACE, seed=4, assist=KCandidates(ParamsScorer(), k=10))
    oracle = TorchReinforce(policy.logits)
    for reward in [70.0, 90.0, 60.0]:
        arch = policy.ask()
        sample = policy._action
        assert tuple(OPS.index(op) for op in arch.ops) != sample  # a mutation was evaluated
        policy.tell(arch, reward)
        np.testing.assert_allclose(policy.logits, oracle.step(sample, reward), rtol=1e-10, atol=1e-12)
    assert np.abs(policy.logits - get_searcher("reinforce")(SPACE, seed=4).logits).max() > 0.1  # it moved


def test_reinforce_takes_a_warm_up_architecture_as_its_action():
    policy = get_searcher("reinforce")(SPACE, seed=2, assist=Warmup(ParamsScorer(), pool=30, top=2))
    oracle = TorchReinforce(policy.logits)
    for reward in [80.0, 50.0]:
        arch = policy.ask()
        policy.tell(arch, reward)
        expected = oracle.step([OPS.index(op) for op in arch.ops], reward)
    np.testing.assert_allclose(policy.logits, expected, rtol=1e-10, atol=1e-12)


def test_a_nan_fitness_teaches_nothing():
    import optuna

    policy = get_searcher("reinforce")(SPACE, seed=0)
    before = policy.logits.copy()
    policy.tell(policy.ask(), math.nan)
    np.testing.assert_array_equal(policy.logits, before)
    tpe = get_searcher("tpe")(SPACE, seed=0)
    tpe.tell(tpe.ask(), math.nan)
    assert [t.state for t in tpe.study.trials] == [optuna.trial.TrialState.FAIL]


def test_g_tpe_leaves_no_trial_running_even_with_duplicate_candidates():
    import optuna

    tpe = get_searcher("tpe")(SPACE, seed=0, assist=KCandidates(ParamsScorer(), k=10))
    run_search(tpe, fitness, budget=40)
    states = [t.state for t in tpe.study.trials]
    assert optuna.trial.TrialState.RUNNING not in states
    assert states.count(optuna.trial.TrialState.COMPLETE) == 40 and len(states) == 400


def test_tpe_tells_the_candidates_the_proxy_passed_over_as_failed():
    import optuna

    tpe = get_searcher("tpe")(SPACE, seed=0, assist=KCandidates(ParamsScorer(), k=4))
    run_search(tpe, fitness, budget=5)
    states = [t.state for t in tpe.study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 5
    assert states.count(optuna.trial.TrialState.FAIL) == 5 * 3


def test_warm_up_archs_join_tpe_and_reinforce_as_their_own_actions():
    tpe = get_searcher("tpe")(SPACE, seed=0, assist=Warmup(ParamsScorer(), pool=40, top=3))
    run = run_search(tpe, fitness, budget=5)
    assert [t.params for t in tpe.study.trials[:3]] == [
        {f"d{i}": OPS.index(op) for i, op in enumerate(a.ops)} for a in run.archs[:3]]


def test_spaces_without_the_needed_capability_are_refused():
    class Plain(NB201Space.__mro__[1]):  # a SearchSpace that declares no Categorical capability
        name = "plain"
        parse = format = identity = decisions = sample = mutate = neighbours = build = NB201Space.parse

    with pytest.raises(ZeronasUserError, match="Categorical"):
        get_searcher("reinforce")(Plain(), seed=0)


@pytest.mark.parametrize("name", list_searchers())
def test_every_searcher_runs_on_nb101(name):
    from zeronas.spaces import get_space

    space = get_space("nb101")
    run = run_search(get_searcher(name)(space, seed=0), lambda a: (float(a.num_edges), 1.0), budget=12)
    assert len({space.identity(a) for a in run.archs}) > 3


def test_assistance_is_bound_to_one_run():
    helper = KCandidates(ParamsScorer(), k=3)
    get_searcher("rs")(SPACE, seed=0, assist=helper)
    with pytest.raises(ZeronasUserError, match="one search run"):
        get_searcher("rs")(SPACE, seed=1, assist=helper)

