"""Benchmarks: a search space plus trained ground truth, looked up by architecture identity."""

from zeronas.benchmarks import nb101, nb201  # noqa: F401  (registration)
from zeronas.benchmarks._registry import get_benchmark, list_benchmarks, register_benchmark
from zeronas.benchmarks.base import (Benchmark, FidelityRecords, Metric, MissingGroundTruth, MultiFidelityTraining,
                                     SimulatedTraining, TrainingRecords)

__all__ = ["Benchmark", "FidelityRecords", "Metric", "MissingGroundTruth", "MultiFidelityTraining", "SimulatedTraining",
           "TrainingRecords", "get_benchmark", "list_benchmarks", "register_benchmark"]
