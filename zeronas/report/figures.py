"""Report figures as PNG files, rendered without a display.

Figures are built through matplotlib's object API (:class:`~matplotlib.figure.Figure` on an
Agg canvas), never through ``pyplot``: importing or using this module neither selects nor
switches matplotlib's global backend, and keeps no global figure state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from zeronas.evaluate.metrics import paired_spearman

DPI = 110


def _figure(**kwargs) -> Figure:
    """A new figure on its own Agg canvas (no display, no pyplot figure manager)."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def scatter_grid(
    scores: Mapping[str, np.ndarray], accuracy: np.ndarray, path: Path, *, title: str, rho: Mapping[str, float],
    published: Mapping[str, float | None] | None = None,
) -> Path:
    """One panel per proxy: score rank (x, higher = predicted better) against accuracy (%).

    Ranks rather than raw scores, so that proxies on log, count and ratio scales read alike;
    NaN scores are drawn at rank 0 in red. A published rho, where given, is shown in the title.
    """
    names = list(scores)
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig = _figure(figsize=(3.2 * cols, 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        values = np.asarray(scores[name], dtype=np.float64)
        finite = np.isfinite(values)
        ranks = np.zeros_like(values)
        ranks[finite] = stats.rankdata(values[finite]) / max(1, finite.sum())
        ax.scatter(ranks[finite], accuracy[finite], s=3, alpha=0.4, color="tab:blue", linewidths=0)
        ax.scatter(ranks[~finite], accuracy[~finite], s=5, alpha=0.6, color="tab:red", linewidths=0)
        reference = (published or {}).get(name)
        suffix = f" (pub. {reference:.2f})" if reference is not None else ""
        ax.set_title(f"{name}  ρ={rho.get(name, float('nan')):.3f}{suffix}", fontsize=9)
        ax.set_xlabel("score rank (oriented)", fontsize=8)
        ax.set_ylabel("accuracy %", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def heatmap(
    matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], path: Path, *, title: str, vmin: float = -1.0
) -> Path:
    """A labelled heat map with the value printed in each cell (NaN cells left blank)."""
    fig = _figure(figsize=(1.0 + 0.75 * len(cols), 0.8 + 0.38 * len(rows)))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis", vmin=vmin, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value < (vmin + 1.0) / 2 + 0.25 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def proxy_correlation(scores: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pairwise Spearman rho between proxies' oriented scores, over cells where both are finite."""
    names = list(scores)
    out = np.full((len(names), len(names)), np.nan)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            out[i, j] = paired_spearman(scores[a], scores[b])
    return out


def search_curves(panels: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]], path: Path, *, xlabel: str,
                  ylabel: str) -> Path:
    """Best-so-far curves, one panel per algorithm (its vanilla and assisted searches side by
    side), one line per search: the median over runs and the inter-quartile band.

    ``panels[title][label] = (x, values)`` with ``values`` of shape (runs, len(x)), NaN before a
    run's first evaluation. The y axis starts at the lowest quartile after the first tenth of the
    x range, so the differences near the top stay visible.
    """
    columns = min(len(panels), 3)
    rows = -(-len(panels) // columns)
    fig = _figure(figsize=(4.2 * columns, 3.4 * rows + 0.4), layout="constrained")
    for position, (title, curves) in enumerate(panels.items(), start=1):
        ax = fig.add_subplot(rows, columns, position)
        floor = []
        for label, (x, values) in curves.items():
            x = np.asarray(x)
            enough = np.isfinite(values).mean(axis=0) >= 0.5  # a median needs most runs to have a value
            if not enough.any():
                continue
            q25, q50, q75 = np.nanpercentile(values[:, enough], [25, 50, 75], axis=0)
            (line,) = ax.plot(x[enough], q50, label=label, lw=1.5)
            ax.fill_between(x[enough], q25, q75, color=line.get_color(), alpha=0.2, lw=0)
            later = x[enough] >= x[0] + 0.1 * (x[-1] - x[0])
            if later.any():
                floor.append(np.min(q25[later]))
        if floor:
            ax.set_ylim(bottom=min(floor) - 0.1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        if (position - 1) % columns == 0:
            ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)
