"""Ranking quality of proxy scores against ground truth (numpy only: no torch import)."""

from zeronas.evaluate.correlation import NAN_POLICIES, Correlation, correlate_scores
from zeronas.evaluate.ensemble import AGGREGATIONS, ENSEMBLE, ensemble_scores, rank_aggregate, select_members
from zeronas.evaluate.metrics import Estimate, ranking_metrics, sample_indices

__all__ = [
    "AGGREGATIONS",
    "ENSEMBLE",
    "NAN_POLICIES",
    "Correlation",
    "Estimate",
    "correlate_scores",
    "ensemble_scores",
    "rank_aggregate",
    "ranking_metrics",
    "sample_indices",
    "select_members",
]
