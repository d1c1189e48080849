"""zeronas: training-free neural architecture search with zero-cost proxies.

Public names are imported lazily, so that numpy-only layers (``zeronas.evaluate``) load
without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from zeronas._version import __version__

_PUBLIC = {
    "ArchitectureError": "zeronas.errors",
    "DataNotFoundError": "zeronas.errors",
    "UnknownProxyError": "zeronas.errors",
    "ZeronasUserError": "zeronas.errors",
    "Proxy": "zeronas.proxies",
    "get_proxy": "zeronas.proxies",
    "get_proxy_class": "zeronas.proxies",
    "list_proxies": "zeronas.proxies",
    "register_proxy": "zeronas.proxies",
    "ProxyScore": "zeronas.scoring",
    "score": "zeronas.scoring",
    "score_detailed": "zeronas.scoring",
    "Benchmark": "zeronas.benchmarks",
    "get_benchmark": "zeronas.benchmarks",
    "list_benchmarks": "zeronas.benchmarks",
    "SearchSpace": "zeronas.spaces",
    "get_space": "zeronas.spaces",
    "list_spaces": "zeronas.spaces",
    "get_dataset": "zeronas.data",
    "list_datasets": "zeronas.data",
    "Evaluator": "zeronas.runner",
    "check_proxy": "zeronas.checks",
    "load_model": "zeronas.model_factory",
    "ProxyCheckError": "zeronas.checks",
    "run_campaign": "zeronas.campaign",
    "load_scores": "zeronas.campaign",
    "Searcher": "zeronas.search",
    "get_searcher": "zeronas.search",
    "list_searchers": "zeronas.search",
    "search_live": "zeronas.search",
    "SearchConfig": "zeronas.experiments.search",
    "run_search_experiment": "zeronas.experiments.search",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'zeronas' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
