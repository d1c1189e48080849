from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import zeronas
from zeronas.proxies._per_sample import per_sample_gradients_loop
from zeronas.spaces import nb201
from tests.conftest import MIXED_CELL


def _oracle(grads, aggregation, ridge):
    """Explicit float64 cosines: per sample against the mean, and every pair."""
    rows = {k: v.flatten(1).double().numpy() for k, v in grads.items()}
    if aggregation == "global":
        rows = {"all": np.concatenate(list(rows.values()), axis=1)}
    align = gram = 0.0
    for g in rows.values():
        norms = np.linalg.norm(g, axis=1)
        if not norms.any():  # an unused layer: every cosine is 0
            gram += len(g) * np.log(ridge)
            continue
        mean = g.mean(0)  # a zero row has cosine 0 with everything
        align += np.mean([gi @ mean / (ni * np.linalg.norm(mean)) if ni else 0.0 for gi, ni in zip(g, norms)])
        outer = np.outer(norms, norms)
        cos = np.divide(g @ g.T, outer, out=np.zeros_like(outer), where=outer > 0)
        gram += np.linalg.slogdet(cos + ridge * np.eye(len(g)))[1]
    return align, gram


@pytest.mark.parametrize("aggregation", ["per_tensor", "global"])
def test_matches_explicit_cosines_from_the_loop(aggregation, cifar_batch):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    loop = per_sample_gradients_loop(model, cifar_batch.inputs, cifar_batch.targets)
    align, gram = _oracle(loop, aggregation, 1e-3)
    opts = {"aggregation": aggregation, "chunk_size": 6}
    got = zeronas.score(model, cifar_batch.inputs, cifar_batch.targets, ["gradalign", "gradalign_gram"],
                        gradalign=opts, gradalign_gram=opts)
    assert got["gradalign"] == pytest.approx(align, rel=1e-3)
    # The Gram matrix is accumulated in float32 (the oracle in float64): log det agrees to ~1e-3.
    assert got["gradalign_gram"] == pytest.approx(gram, rel=1e-3, abs=2e-3)


def test_identical_samples_align_perfectly():
    # Every sample has the same gradient: each cosine is 1, the Gram matrix is all ones.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    x = torch.randn(1, 5).repeat(6, 1)
    y = torch.full((6,), 2)
    ridge = 1e-3
    got = zeronas.score(model, x, y, ["gradalign", "gradalign_gram"], gradalign_gram={"ridge": ridge})
    assert got["gradalign"] == pytest.approx(2.0, abs=1e-6)  # two weight tensors
    # eigenvalues of ones(6,6) + ridge*I: 6 + ridge once, ridge five times.
    assert got["gradalign_gram"] == pytest.approx(2 * (np.log(6 + ridge) + 5 * np.log(ridge)), rel=1e-5)


def test_orthogonal_samples_maximise_the_gram_determinant():
    # One-hot inputs give per-sample weight gradients on disjoint columns: G = I.
    model = nn.Linear(4, 2, bias=False)
    x = torch.eye(4)
    y = torch.tensor([0, 1, 0, 1])
    got = zeronas.score(model, x, y, ["gradalign_gram"], gradalign_gram={"ridge": 0.01})
    assert got["gradalign_gram"] == pytest.approx(4 * np.log(1.01), abs=1e-5)  # float32 unit vectors


@pytest.mark.parametrize("scale", [1.0, 1e-20, 1e20])
def test_consumers_match_float64_cosines_at_any_gradient_scale(scale):
    # Cosines do not depend on each row's scale. Rows of 1e-20 (squares underflow float32) or
    # 1e20 (squares overflow) take the normalise-first path and must give the same scores; a
    # zero row has cosine 0 with everything. Three chunks of unequal size exercise the blocks.
    from zeronas.proxies.gradalign import _GramLogDet, _MeanDirectionAlignment

    gen = torch.Generator().manual_seed(0)
    grads = {"a": torch.randn(11, 3, 4, generator=gen), "b": torch.randn(11, 7, generator=gen)}
    grads["a"][4] = 0.0
    grads["b"][:, 2] += 3.0  # a common direction, so the alignment is far from 0
    align, gram = _oracle(grads, "per_tensor", 1e-3)
    scaled = {k: v * scale for k, v in grads.items()}
    consumers = [_MeanDirectionAlignment("per_tensor"), _GramLogDet("per_tensor", 1e-3)]
    for start, stop in ((0, 4), (4, 8), (8, 11)):
        for consumer in consumers:
            consumer.update({k: v[start:stop] for k, v in scaled.items()})
    assert consumers[0].result() == pytest.approx(align, rel=1e-5)
    assert consumers[1].result() == pytest.approx(gram, rel=1e-5)
