"""Rank aggregation and member selection against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.errors import ZeronasUserError
from zeronas.evaluate.ensemble import ensemble_scores, normalised_ranks, rank_aggregate, select_members


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


def test_ensemble_scores_orient_members_by_the_registry():
    # ntk is lower-is-better: its raw scores are flipped before ranking, params' are not.
    raw = {"params": np.array([1.0, 2.0, 3.0]), "ntk": np.array([30.0, 20.0, 10.0])}
    assert ensemble_scores(raw, ["params", "ntk"]) == pytest.approx(np.log([1 / 9, 4 / 9, 1.0]))


def test_correlate_reports_the_ensemble_of_its_members(table):
    from scipy import stats

    from zeronas.evaluate import sample_indices
    from zeronas.experiments import CorrelateConfig, correlate

    out = correlate(CorrelateConfig(dataset="cifar10", sample=25, seed=0, proxies=("params",),
                                    ensemble=("params", "flops")), progress=False).correlations
    assert set(out) == {"params", "flops", "ensemble"}  # members are scored even if not asked for
    index = sample_indices(15625, 25, 0)
    params, flops = table.column("params_M_cifar10")[index], table.column("flops_M_cifar10")[index]
    combined = np.log(stats.rankdata(params) / 25) + np.log(stats.rankdata(flops) / 25)
    expected = stats.spearmanr(combined, table.column("cifar10_test_acc")[index]).statistic
    assert out["ensemble"].spearman == pytest.approx(expected)
