"""Zero-cost proxies; each module registers its proxy on import."""

from zeronas.proxies import (  # noqa: F401  (registration)
    epe_nas,
    epsinas,
    fisher,
    flops,
    grad_norm,
    gradalign,
    gradsign,
    grasp,
    jacob_cov,
    l2_norm,
    linear_regions,
    meco,
    naswot,
    ntk,
    params,
    plain,
    snip,
    swap,
    synflow,
    zen,
    zico,
)
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
