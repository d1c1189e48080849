"""Rank correlation of proxy scores with ground-truth accuracy."""

from zeronas.evaluate.correlation import Correlation, correlate_scores
from zeronas.evaluate.protocol import correlate, sample_indices

__all__ = ["Correlation", "correlate", "correlate_scores", "sample_indices"]
