"""Search: ask/tell algorithms, proxy assistance, simulated training and one-run loops.

Algorithms register by name (``list_searchers()``): ``rs``, ``rea``, ``reinforce``, ``tpe``.
"""

# registration, in the order the algorithms are listed
from zeronas.search import random_search, evolution, reinforce, tpe  # noqa: F401, I001
from zeronas.search._registry import get_searcher, list_searchers, register_searcher
from zeronas.search.assist import Assistance, KCandidates, Move, Warmup, make_assistance
from zeronas.search.base import Proposal, Searcher
from zeronas.search.live import LiveSearchResult, search_live
from zeronas.search.loop import Trajectory, run_search
from zeronas.search.multifidelity import MultiFidelityRun, hyperband_experiment, hyperband_search
from zeronas.search.scorers import EnsembleScorer, EvaluatorScorer, ProxyScorer, live_scorer, table_scorer
from zeronas.search.simulate import NB201_SEARCH_COST_SCALE, SimulatedTrainer, training_records

__all__ = [
    "NB201_SEARCH_COST_SCALE",
    "Assistance",
    "EnsembleScorer",
    "EvaluatorScorer",
    "KCandidates",
    "LiveSearchResult",
    "MultiFidelityRun",
    "Move",
    "Proposal",
    "ProxyScorer",
    "Searcher",
    "SimulatedTrainer",
    "Trajectory",
    "Warmup",
    "get_searcher",
    "hyperband_experiment",
    "hyperband_search",
    "list_searchers",
    "live_scorer",
    "make_assistance",
    "register_searcher",
    "run_search",
    "search_live",
    "table_scorer",
    "training_records",
]
