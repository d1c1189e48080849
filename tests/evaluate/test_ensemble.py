"""Rank aggregation and member selection against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.errors import ZeronasUserError
from zeronas.evaluate.ensemble import normalised_ranks, rank_aggregate, select_members


def test_normalised_ranks_put_nan_worst_and_average_ties():
    assert normalised_ranks(np.array([3.0, np.nan, 1.0, 3.0])).tolist() == [0.875, 0.25, 0.5, 0.875]


def test_log_and_mean_rank_by_hand():
    scores = {"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([4.0, 3.0, 2.0, 1.0])}
    # ranks/4: a = .25 .5 .75 1, b = 1 .75 .5 .25
    assert rank_aggregate(scores, ["a", "b"], aggregation="mean_rank").tolist() == [0.625] * 4
    expected = np.log([0.25 * 1, 0.5 * 0.75, 0.75 * 0.5, 1 * 0.25])
    assert rank_aggregate(scores, ["a", "b"]) == pytest.approx(expected)


def test_selection_picks_complementary_members_and_ignores_noise():
    rng = np.random.default_rng(0)
    n = 2000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    accuracy = x1 + x2
    scores = {"first": x1 + 0.3 * rng.normal(size=n), "second": x2 + 0.3 * rng.normal(size=n), "noise": rng.normal(size=n)}
    assert sorted(select_members(scores, accuracy, aggregation="mean_rank")) == ["first", "second"]


def test_unknown_members_and_aggregations_are_user_errors():
    with pytest.raises(ZeronasUserError, match="score them first"):
        rank_aggregate({"a": np.ones(3)}, ["a", "b"])
    with pytest.raises(ZeronasUserError, match="aggregation"):
        rank_aggregate({"a": np.ones(3)}, ["a"], aggregation="median")
