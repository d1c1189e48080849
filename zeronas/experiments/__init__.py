"""Experiments: thin consumers of the Evaluator and a Benchmark, configured by frozen dataclasses."""

from zeronas.experiments.correlate import CorrelateConfig, CorrelateResult, correlate
from zeronas.experiments.linear_region_study import linear_region_study
from zeronas.experiments.published import PUBLISHED, Published, published
from zeronas.experiments.reproduction import DEFAULT_PROXIES, Measurements, ReproductionConfig, measure

__all__ = [
    "DEFAULT_PROXIES",
    "PUBLISHED",
    "CorrelateConfig",
    "CorrelateResult",
    "Measurements",
    "Published",
    "ReproductionConfig",
    "correlate",
    "linear_region_study",
    "measure",
    "published",
]
