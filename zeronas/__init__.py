"""zeronas: training-free neural architecture search with zero-cost proxies."""

from zeronas.errors import ArchitectureError, DataNotFoundError, UnknownProxyError, ZeronasUserError
from zeronas.proxies import Proxy, get_proxy, get_proxy_class, list_proxies, register_proxy
from zeronas.scoring import ProxyScore, score, score_detailed

__version__ = "0.1.0"

__all__ = [
    "ArchitectureError",
    "DataNotFoundError",
    "Proxy",
    "ProxyScore",
    "UnknownProxyError",
    "ZeronasUserError",
    "get_proxy",
    "get_proxy_class",
    "list_proxies",
    "register_proxy",
    "score",
    "score_detailed",
]
