"""Scoring many architectures: the Evaluator, executors and resumable result stores."""

from zeronas.runner.evaluator import Evaluator, ScoreTable, resolve_proxy_instances
from zeronas.runner.executors import EXECUTORS, Executor, Interrupted, LocalPoolExecutor, SerialExecutor, make_executor
from zeronas.runner.scoring import score_archs
from zeronas.runner.store import JsonlStore, MemoryStore, ResultStore, Store
from zeronas.runner.table_store import LayeredStore, TableStore

__all__ = [
    "EXECUTORS",
    "Evaluator",
    "Executor",
    "Interrupted",
    "JsonlStore",
    "LayeredStore",
    "LocalPoolExecutor",
    "MemoryStore",
    "ResultStore",
    "ScoreTable",
    "SerialExecutor",
    "Store",
    "TableStore",
    "make_executor",
    "resolve_proxy_instances",
    "score_archs",
]
