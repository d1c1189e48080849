"""The proxy registry: each proxy module registers its class with ``@register_proxy``."""

from __future__ import annotations

from typing import TypeVar

from zeronas.errors import UnknownProxyError, ZeronasUserError
from zeronas.proxies._base import Proxy

_PROXIES: dict[str, type[Proxy]] = {}
P = TypeVar("P", bound=type[Proxy])


def register_proxy(cls: P) -> P:
    """Class decorator: make a :class:`Proxy` subclass available under ``cls.name``."""
    if not cls.name or cls.name in _PROXIES:
        raise ValueError(f"proxy name {cls.name!r} is empty or already registered")
    _PROXIES[cls.name] = cls
    return cls


def list_proxies() -> list[str]:
    """Names of every registered proxy, sorted."""
    return sorted(_PROXIES)


def get_proxy_class(name: str) -> type[Proxy]:
    try:
        return _PROXIES[name]
    except KeyError:
        raise UnknownProxyError(
            f"unknown proxy {name!r}; choose from {', '.join(list_proxies())}"
        ) from None


def get_proxy(name: str, **options: object) -> Proxy:
    """An instance of the proxy ``name`` configured with keyword ``options``."""
    cls = get_proxy_class(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ZeronasUserError(f"bad option for proxy {name!r}: {exc}") from None
