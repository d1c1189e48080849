"""Rank-aggregation ensembles of proxies: no trained predictor, no labels at scoring time.

An ensemble scores a *population* of architectures: each member's scores are ranked within
the population (oriented so that higher predicts better, NaN ranked worst), ranks are
normalised to (0, 1], and combined per architecture. ``log_rank`` sums log normalised ranks,
so a cell ranked near the bottom by any member is pulled down hard; ``mean_rank`` averages.
Labels are used only to *choose* the members (:func:`select_members`), on a sample of cells
disjoint from the one the ensemble is reported on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from zeronas.errors import ZeronasUserError

AGGREGATIONS = ("log_rank", "mean_rank")
ENSEMBLE = "ensemble"  # the name an ensemble's scores go by in results and reports
# The members the reproduction report's greedy selection chose on NAS-Bench-201 (log-rank);
# searches and all-cell tables use them as the fixed ensemble.
DEFAULT_MEMBERS = ("meco", "gradalign", "jacob_cov", "gradsign")


def normalised_ranks(oriented_scores: np.ndarray) -> np.ndarray:
    """Average ranks / n in (0, 1]; 1 is the best; non-finite scores share the worst ranks."""
    values = np.asarray(oriented_scores, dtype=np.float64)
    values = np.where(np.isfinite(values), values, -np.inf)
    return stats.rankdata(values) / len(values)


def rank_aggregate(
    oriented_scores: Mapping[str, np.ndarray], members: Sequence[str], *, aggregation: str = "log_rank"
) -> np.ndarray:
    """Ensemble score of each architecture (higher is better) from its members' oriented scores."""
    if aggregation not in AGGREGATIONS:
        raise ZeronasUserError(f"unknown aggregation {aggregation!r}; choose from {', '.join(AGGREGATIONS)}")
    if not members:
        raise ZeronasUserError("an ensemble needs at least one member proxy")
    missing = [m for m in members if m not in oriented_scores]
    if missing:
        raise ZeronasUserError(f"ensemble members without scores: {', '.join(missing)}; score them first")
    ranks = np.stack([normalised_ranks(oriented_scores[m]) for m in members])
    return np.log(ranks).sum(0) if aggregation == "log_rank" else ranks.mean(0)


def orientation(proxy: str, higher_is_better: Mapping[str, bool] | None = None) -> float:
    """+1 where a higher score predicts higher accuracy (the ensemble too), -1 where lower does.

    ``higher_is_better`` gives the orientation of proxy instances by key (e.g.
    ``ScoreTable.higher_is_better``); a key not in it is looked up in the proxy registry by
    its name (the part before ``[``).
    """
    if proxy == ENSEMBLE:
        return 1.0
    if higher_is_better is not None and proxy in higher_is_better:
        return 1.0 if higher_is_better[proxy] else -1.0
    from zeronas.proxies import get_proxy_class  # the registry imports torch; only load it when asked

    return 1.0 if get_proxy_class(proxy.split("[", 1)[0]).higher_is_better else -1.0


def ensemble_scores(
    scores: Mapping[str, np.ndarray],
    members: Sequence[str],
    *,
    aggregation: str = "log_rank",
    higher_is_better: Mapping[str, bool] | None = None,
) -> np.ndarray:
    """Ensemble score (higher is better) from the members' raw scores over one population.

    Each member is oriented before ranking (by ``higher_is_better[key]``, else by its
    registered direction), so raw output of :class:`zeronas.runner.Evaluator` or
    :func:`zeronas.score` can be passed as is.
    """
    oriented = {m: orientation(m, higher_is_better) * np.asarray(scores[m], dtype=np.float64)
                for m in members if m in scores}
    return rank_aggregate(oriented, members, aggregation=aggregation)


def select_members(
    oriented_scores: Mapping[str, np.ndarray],
    accuracy: np.ndarray,
    *,
    aggregation: str = "log_rank",
    max_members: int = 6,
    min_gain: float = 1e-3,
) -> list[str]:
    """Greedy forward selection: add the proxy that raises the ensemble's Spearman rho most.

    Stops at ``max_members`` or when no candidate adds ``min_gain``. Use on a selection sample
    only; report the chosen ensemble on disjoint cells.
    """
    accuracy = np.asarray(accuracy, dtype=np.float64)
    chosen: list[str] = []
    best = -np.inf
    while len(chosen) < max_members:
        trials = {
            name: stats.spearmanr(rank_aggregate(oriented_scores, [*chosen, name], aggregation=aggregation), accuracy).statistic
            for name in sorted(oriented_scores)
            if name not in chosen
        }
        trials = {k: v for k, v in trials.items() if np.isfinite(v)}
        if not trials:
            break
        name = max(trials, key=trials.__getitem__)
        if trials[name] < best + min_gain:
            break
        chosen.append(name)
        best = trials[name]
    return chosen
