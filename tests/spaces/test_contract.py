"""The search-space contract, run on every registered space."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zeronas.data import get_dataset
from zeronas.spaces import SPACES, Enumerable, get_space


@pytest.fixture(scope="module", params=sorted(SPACES))
def space(request):
    return get_space(request.param)


def _sampled(space, n: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(n)]


def test_sampled_archs_build_and_run(space):
    for arch in _sampled(space, n=2):
        torch.manual_seed(0)
        net = space.build(arch, get_dataset("cifar10")).eval()
        with torch.no_grad():
            out = net(torch.randn(2, 3, 32, 32))
        assert out.shape == (2, 10) and torch.isfinite(out).all()


def test_format_round_trips_and_identity_is_stable(space):
    for arch in _sampled(space):
        text = space.format(arch)
        assert space.parse(text) == arch and "\n" not in text
        assert space.identity(space.parse(text)) == space.identity(arch)
        assert isinstance(space.identity(arch), str) and space.identity(arch)
    # The same seed draws the same architectures.
    assert _sampled(space, seed=3) == _sampled(space, seed=3)


def test_mutation_changes_exactly_one_decision_to_a_new_identity(space):
    rng = np.random.default_rng(1)
    for arch in _sampled(space, n=10):
        child = space.mutate(arch, rng)
        assert space.parse(space.format(child)) == child  # stays in the space
        before, after = space.decisions(arch), space.decisions(child)
        assert len(before) == len(after)
        assert sum(a != b for a, b in zip(before, after, strict=True)) == 1
        assert space.identity(child) != space.identity(arch)


def test_neighbours_are_one_decision_away_and_distinct(space):
    arch = _sampled(space, n=1)[0]
    neighbours = space.neighbours(arch)
    identities = [space.identity(n) for n in neighbours]
    assert neighbours and len(set(identities)) == len(identities)
    assert space.identity(arch) not in identities
    for other in neighbours:
        changed = sum(a != b for a, b in zip(space.decisions(arch), space.decisions(other), strict=True))
        assert changed == 1


def test_enumerable_spaces_index_their_archs(space):
    if not isinstance(space, Enumerable):
        assert not hasattr(space, "all_archs")  # enumeration is declared, not implied
        return
    archs = space.all_archs()
    assert len(space) == len(archs)
    for i in (0, len(archs) // 2, len(archs) - 1):
        assert space.index_of(archs[i]) == i


def test_categorical_spaces_rebuild_archs_from_their_decisions(space):
    from zeronas.errors import ArchitectureError
    from zeronas.spaces import Categorical

    if not isinstance(space, Categorical):
        return
    choices = space.choices()
    for arch in _sampled(space, n=20):
        decisions = space.decisions(arch)
        assert len(decisions) == len(choices) and all(d in c for d, c in zip(decisions, choices, strict=True))
        assert space.identity(space.from_decisions(decisions)) == space.identity(arch)
    with pytest.raises(ArchitectureError):
        space.from_decisions(space.decisions(_sampled(space, n=1)[0])[:-1])
