"""Proxy assistance re-derived: the arg-max of the candidates (never a NaN), the warm-up's top of
its pool, the best neighbour of a move, and proxy seconds charged once per architecture."""

from __future__ import annotations

import numpy as np
import pytest

from tests.search.helpers import ParamsScorer
from zeronas.errors import ZeronasUserError
from zeronas.search import KCandidates, Move, Proposal, Warmup, get_searcher, make_assistance
from zeronas.spaces import NB201Space

SPACE = NB201Space()


def bound(helper, seed=0):
    get_searcher("rs")(SPACE, seed=seed, assist=helper)
    return helper


def test_k_candidates_picks_the_highest_score_and_never_a_nan():
    archs = [SPACE.sample(np.random.default_rng(i)) for i in range(10)]
    plain = ParamsScorer()
    best = max(archs, key=plain.value)
    helper = bound(KCandidates(ParamsScorer(nan_when=lambda a: a == best), k=10))
    chosen = helper.choose(Proposal(default=archs[0], candidates=lambda k: archs[:k]))
    expected = max((a for a in archs if a != best), key=plain.value)
    assert chosen == expected
    assert helper.proxy_seconds == len(set(archs))  # 1 s per distinct architecture scored


def test_all_nan_candidates_fall_back_to_the_algorithms_own_proposal():
    archs = [SPACE.sample(np.random.default_rng(i)) for i in range(4)]
    helper = bound(KCandidates(ParamsScorer(nan_when=lambda a: True), k=4))
    assert helper.choose(Proposal(default=archs[2], candidates=lambda k: archs)) == archs[2]


def test_rea_initial_population_is_not_assisted():
    helper = KCandidates(ParamsScorer(), k=10)
    rea = get_searcher("rea")(SPACE, seed=0, assist=helper, population=5)
    for _ in range(5):
        rea.tell(rea.ask(), 1.0)
    assert helper.scorer.calls == 0
    rea.ask()
    assert helper.scorer.calls == 1


def test_warmup_returns_the_top_of_its_pool_best_first_without_nans():
    scorer = ParamsScorer(nan_when=lambda a: a.ops[0] == "nor_conv_3x3")
    helper = Warmup(scorer, pool=200, top=7)
    searcher = get_searcher("rs")(SPACE, seed=9, assist=helper)
    first = [searcher.ask() for _ in range(7)]
    # the slow oracle: the same pool drawn again from the assistance's own seed stream
    rng = np.random.default_rng(np.random.SeedSequence(9).spawn(2)[1])
    pool = [SPACE.sample(rng) for _ in range(200)]
    ranked = sorted((a for a in pool if a.ops[0] != "nor_conv_3x3"), key=scorer.value, reverse=True)
    assert [scorer.value(a) for a in first] == [scorer.value(a) for a in ranked[:7]]
    assert all(a.ops[0] != "nor_conv_3x3" for a in first)


@pytest.mark.parametrize("seed", range(5))
def test_warmups_top_holds_distinct_architectures(seed):
    scorer = ParamsScorer()
    helper = Warmup(scorer, pool=3000, top=10)
    searcher = get_searcher("rs")(SPACE, seed=seed, assist=helper)
    first = [searcher.ask() for _ in range(10)]
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    pool = [SPACE.sample(rng) for _ in range(3000)]  # drawn with replacement: cells repeat
    distinct = {SPACE.identity(a): scorer.value(a) for a in pool}
    assert len({SPACE.identity(a) for a in first}) == 10
    assert [scorer.value(a) for a in first] == sorted(distinct.values(), reverse=True)[:10]


def test_warmup_fills_reas_population():
    helper = Warmup(ParamsScorer(), pool=100)
    rea = get_searcher("rea")(SPACE, seed=1, assist=helper, population=6)
    first = [rea.ask() for _ in range(6)]
    values = [helper.scorer.value(a) for a in first]
    assert values == sorted(values, reverse=True) and len(first) == 6


def test_move_takes_the_best_neighbour_or_with_epsilon_one_a_random_one():
    parent = SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    scorer = ParamsScorer()
    helper = bound(Move(scorer, epsilon=0.0))
    chosen = helper.choose(Proposal(default=parent, candidates=lambda k: [], parent=parent))
    assert scorer.value(chosen) == max(scorer.value(n) for n in SPACE.neighbours(parent))
    randomly = bound(Move(ParamsScorer(), epsilon=1.0), seed=1)
    picks = {randomly.choose(Proposal(default=parent, candidates=lambda k: [], parent=parent)) for _ in range(60)}
    assert picks <= set(SPACE.neighbours(parent)) and len(picks) > 5
    assert randomly.scorer.calls == 0


@pytest.mark.parametrize("spec,cls,attr,value", [("k10", KCandidates, "k", 10), ("k3", KCandidates, "k", 3),
                                                 ("warmup", Warmup, "pool", 3000), ("warmup500", Warmup, "pool", 500),
                                                 ("move", Move, "epsilon", 0.25), ("move0.5", Move, "epsilon", 0.5)])
def test_command_line_spellings(spec, cls, attr, value):
    helper = make_assistance(spec, ParamsScorer())
    assert isinstance(helper, cls) and getattr(helper, attr) == value


@pytest.mark.parametrize("spec", ["k", "kx", "k0", "warm", "moveit", "move2", "best"])
def test_bad_spellings_are_one_line_errors(spec):
    with pytest.raises(ZeronasUserError) as info:
        make_assistance(spec, ParamsScorer())
    assert "\n" not in str(info.value)


def test_move_with_every_neighbour_nan_keeps_the_algorithms_proposal():
    parent = SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    helper = bound(Move(ParamsScorer(nan_when=lambda a: True), epsilon=0.0))
    assert helper.choose(Proposal(default="own", candidates=lambda k: [], parent=parent)) == "own"


def test_rea_moves_to_the_best_neighbour_of_the_tournament_winner():
    scorer = ParamsScorer()
    rea = get_searcher("rea")(SPACE, seed=5, assist=Move(scorer, epsilon=0.0), population=3, sample=3)
    for value in (1.0, 3.0, 2.0):
        rea.tell(rea.ask(), value)
    state = rea.rng.bit_generator.state  # replay the tournament draws the next ask makes
    sampled = [rea.population[int(i)] for i in rea.rng.integers(3, size=3)]
    rea.rng.bit_generator.state = state
    winner = max(sampled, key=lambda m: m[1])[0]
    child = rea.ask()
    assert scorer.value(child) == max(scorer.value(n) for n in SPACE.neighbours(winner))
    assert child in SPACE.neighbours(winner)
