"""Ranking metrics against hand-computed values and brute-force definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zeronas.evaluate.metrics import argmax_accuracy, ranking_metrics, top_precision


def test_top_precision_by_hand():
    accuracy = np.arange(20, dtype=float)  # top 10% = cells 18, 19
    scores = np.zeros(20)
    scores[[19, 3]] = [5.0, 6.0]  # the two best-scored: 3 (not top) and 19 (top)
    assert top_precision(scores, accuracy) == 0.5
    assert top_precision(accuracy, accuracy) == 1.0


def test_argmax_accuracy_averages_ties():
    assert argmax_accuracy(np.array([1.0, 3.0, 3.0]), np.array([90.0, 80.0, 70.0])) == 75.0


def test_ranking_metrics_point_values_and_intervals():
    rng = np.random.default_rng(1)
    accuracy = rng.normal(size=300)
    scores = accuracy + rng.normal(scale=0.7, size=300)
    scores[:30] = np.nan
    m = ranking_metrics(scores, accuracy, resamples=200, seed=0)
    finite = np.isfinite(scores)
    # brute-force Spearman: Pearson correlation of ranks (no ties in continuous data)
    ranks = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    expected = np.corrcoef(ranks(scores[finite]), ranks(accuracy[finite]))[0, 1]
    assert m["spearman"].value == pytest.approx(expected, abs=1e-12)
    assert m["coverage"].value == pytest.approx(0.9)
    for est in m.values():
        assert est.low <= est.value <= est.high
    assert 0.02 < m["spearman"].high - m["spearman"].low < 0.3
    worst = ranking_metrics(scores, accuracy, nan_policy="worst", resamples=50)
    assert worst["spearman"].value != pytest.approx(m["spearman"].value)
    assert ranking_metrics(scores, accuracy, resamples=200, seed=0) == m


def test_constant_scores_give_nan_not_an_error():
    m = ranking_metrics(np.ones(10), np.arange(10.0), resamples=20)
    assert math.isnan(m["spearman"].value)
