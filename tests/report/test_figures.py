"""Figures render headless to real PNG files; the inter-proxy matrix matches scipy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

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


# Run in a fresh interpreter: this test process may already have imported pyplot or chosen a
# backend elsewhere. Renders both figures with no backend chosen, then again after the user
# chose one, and prints matplotlib's global state around each.
_BACKEND_PROBE = """
import json, sys
from pathlib import Path
import matplotlib
import numpy as np

def backend():
    return dict.__getitem__(matplotlib.rcParams, "backend")  # without resolving it

def render(folder):
    from zeronas.report import figures
    figures.scatter_grid({"a": np.arange(5.0)}, np.arange(5.0), folder / "s.png", title="t", rho={"a": 1.0})
    figures.heatmap(np.eye(2), ["a", "b"], ["c", "d"], folder / "h.png", title="t")

states = []
for step, chosen in enumerate([None, "svg"]):
    if chosen:
        matplotlib.use(chosen)
    before = backend()
    render(Path(sys.argv[1]) / str(step))
    states.append({"before": str(before), "after": str(backend()), "same": backend() is before,
                   "pyplot": "matplotlib.pyplot" in sys.modules})
print(json.dumps(states))
"""


def test_figures_never_import_pyplot_nor_switch_the_backend(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_BACKEND_PROBE), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=repo, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    unchosen, chosen = json.loads(done.stdout.strip().splitlines()[-1])
    for state in (unchosen, chosen):
        assert not state["pyplot"], "zeronas.report.figures imported matplotlib.pyplot"
        assert state["after"] == state["before"] and state["same"], state
    assert chosen["after"] == "svg"  # the user's choice survives; it was Agg when figures forced it
    for step in ("0", "1"):
        for name in ("s.png", "h.png"):
            assert (tmp_path / step / name).read_bytes().startswith(PNG)
