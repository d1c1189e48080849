"""Reproduction reports: rendering measured ranking quality beside the published values."""

from zeronas.report.make import make_report
from zeronas.report.render import write_report

__all__ = ["make_report", "write_report"]
