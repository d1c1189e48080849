from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from zeronas.evaluate import correlate_scores, sample_indices
from zeronas.errors import ZeronasUserError


def _slow_spearman(x, y):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    return cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))


def _slow_kendall_no_ties(x, y):
    pairs = list(itertools.combinations(range(len(x)), 2))
    s = sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]) for i, j in pairs)
    return s / len(pairs)


def test_against_slow_loops_with_nan_scores_left_out():
    rng = np.random.default_rng(0)
    accuracy = rng.normal(size=40)
    scores = accuracy + rng.normal(scale=0.7, size=40)
    scores[[3, 17, 21]] = [np.nan, np.inf, np.nan]
    result = correlate_scores(scores, accuracy)
    keep = np.isfinite(scores)
    assert result.n == 37 and result.nan == 3
    assert result.spearman == pytest.approx(_slow_spearman(list(scores[keep]), list(accuracy[keep])), abs=1e-12)
    assert result.kendall == pytest.approx(_slow_kendall_no_ties(scores[keep], accuracy[keep]), abs=1e-12)


def test_signs_and_degenerate_cases():
    acc = np.arange(10.0)
    assert correlate_scores(acc * 2, acc).spearman == pytest.approx(1.0)
    assert correlate_scores(-acc, acc).kendall == pytest.approx(-1.0)
    constant = correlate_scores(np.ones(10), acc)
    assert math.isnan(constant.spearman) and constant.n == 10


def test_sample_indices_are_seeded_and_distinct():
    a, b = sample_indices(15625, 100, 0), sample_indices(15625, 100, 0)
    assert np.array_equal(a, b) and len(set(a)) == 100 and np.all(np.diff(a) > 0)
    assert not np.array_equal(a, sample_indices(15625, 100, 1))
    assert len(sample_indices(50, 80, 0)) == 50
    with pytest.raises(ZeronasUserError, match="positive"):
        sample_indices(100, 0, 0)


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_nan_scores_ranked_worst_match_explicit_extreme_values(higher_is_better):
    rng = np.random.default_rng(1)
    accuracy = rng.normal(size=30)
    scores = (1 if higher_is_better else -1) * accuracy + rng.normal(scale=0.5, size=30)
    scores[[2, 9]] = np.nan
    result = correlate_scores(scores, accuracy, nan_policy="worst", higher_is_better=higher_is_better)
    worst = scores.copy()
    worst[[2, 9]] = scores[np.isfinite(scores)].min() - 1 if higher_is_better else scores[np.isfinite(scores)].max() + 1
    assert result.n == 30 and result.nan == 2
    raw = _slow_spearman(list(worst), list(accuracy))
    assert result.raw_spearman == pytest.approx(raw, abs=1e-12)
    # Oriented: a lower-is-better proxy that ranks well shows a positive rho.
    assert result.spearman == pytest.approx(raw if higher_is_better else -raw, abs=1e-12) and result.spearman > 0
    with pytest.raises(ZeronasUserError, match="unknown NaN policy"):
        correlate_scores(scores, accuracy, nan_policy="ignore")
