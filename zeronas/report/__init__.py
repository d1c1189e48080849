"""Reproduction reports: measured ranking quality beside the published values."""

from zeronas.report.published import PUBLISHED, Published, published

__all__ = ["PUBLISHED", "Published", "published"]
