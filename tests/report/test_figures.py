"""Figures render headless to real PNG files; the inter-proxy matrix matches scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from zeronas.report.figures import heatmap, proxy_correlation, scatter_grid

PNG = b"\x89PNG\r\n\x1a\n"


def test_figures_render_to_png_without_a_display(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    rng = np.random.default_rng(0)
    accuracy = rng.uniform(10, 94, size=200)
    scores = {"a": accuracy + rng.normal(size=200), "b": rng.normal(size=200)}
    scores["b"][:5] = np.nan
    paths = [
        scatter_grid(scores, accuracy, tmp_path / "scatter.png", title="t", rho={"a": 0.9}),
        heatmap(np.array([[0.8, np.nan], [0.1, -0.3]]), ["a", "b"], ["c10", "c100"], tmp_path / "heat.png", title="rho"),
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 2000


def test_proxy_correlation_matches_scipy_on_shared_finite_cells():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=50), rng.normal(size=50)
    y[:4] = np.nan
    m = proxy_correlation({"x": x, "y": y})
    assert m[0, 0] == pytest.approx(1.0)
    assert m[0, 1] == pytest.approx(stats.spearmanr(x[4:], y[4:]).statistic)
    assert m[0, 1] == pytest.approx(m[1, 0])
