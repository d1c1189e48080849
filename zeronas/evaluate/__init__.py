"""Rank correlation of proxy scores with ground-truth accuracy."""

from zeronas.evaluate.correlation import NAN_POLICIES, Correlation, correlate_scores
from zeronas.evaluate.protocol import correlate, sample_indices

__all__ = ["NAN_POLICIES", "Correlation", "correlate", "correlate_scores", "sample_indices"]
