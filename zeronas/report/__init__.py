"""Reproduction reports: measured ranking quality beside the published values."""

from zeronas.report.build import DEFAULT_PROXIES, Measurements, measure
from zeronas.report.make import make_report
from zeronas.report.published import PUBLISHED, Published, published
from zeronas.report.render import write_report

__all__ = ["DEFAULT_PROXIES", "PUBLISHED", "Measurements", "Published", "make_report", "measure", "published",
           "write_report"]
