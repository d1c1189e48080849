"""Scoring many architectures: batches per proxy, a resumable result store, progress."""

from zeronas.runner.scoring import score_archs
from zeronas.runner.store import ResultStore

__all__ = ["ResultStore", "score_archs"]
