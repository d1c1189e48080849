"""The proxy registry: each proxy module registers its class with ``@register_proxy``."""

from __future__ import annotations

import inspect
from typing import TypeVar

from zeronas._registry import Registry
from zeronas.errors import UnknownProxyError, ZeronasUserError
from zeronas.proxies._base import Proxy

_PROXIES: Registry[type[Proxy]] = Registry("proxy", UnknownProxyError)
P = TypeVar("P", bound=type[Proxy])


def register_proxy(cls: P) -> P:
    """Class decorator: make a :class:`Proxy` subclass available under ``cls.name``."""
    return _PROXIES.add(cls.name, cls)


def list_proxies() -> list[str]:
    """Names of every registered proxy, sorted."""
    return sorted(_PROXIES)


def get_proxy_class(name: str) -> type[Proxy]:
    return _PROXIES.get(name)


def get_proxy(name: str, **options: object) -> Proxy:
    """An instance of the proxy ``name`` configured with keyword ``options``."""
    cls = get_proxy_class(name)
    valid = option_defaults(cls)
    unknown = [key for key in options if key not in valid]
    if unknown:
        listed = ", ".join(f"{k}={v!r}" for k, v in valid.items()) or "none"
        raise ZeronasUserError(f"{name} has no option {', '.join(map(repr, unknown))}; its options are {listed}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ZeronasUserError(f"bad option for proxy {name!r}: {exc}") from None


def option_defaults(cls: type[Proxy]) -> dict[str, object]:
    """The keyword options of a proxy class with their defaults (``inspect.Parameter.empty`` if none)."""
    params = inspect.signature(cls.__init__).parameters.values()
    keyword = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name: p.default for p in params if p.name != "self" and p.kind in keyword}
