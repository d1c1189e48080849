"""Zero-cost proxies; each module registers its proxy on import."""

from zeronas.proxies import epsinas, gradalign, gradsign  # noqa: F401  (registration)
from zeronas.proxies._base import DataRecipe, PerSampleGradientProxy, Proxy, UndefinedScore
from zeronas.proxies._registry import get_proxy, get_proxy_class, list_proxies, register_proxy

__all__ = [
    "DataRecipe",
    "PerSampleGradientProxy",
    "Proxy",
    "UndefinedScore",
    "get_proxy",
    "get_proxy_class",
    "list_proxies",
    "register_proxy",
]
