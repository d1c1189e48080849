"""The proxy registry: each proxy module registers its class with ``@register_proxy``."""

from __future__ import annotations

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
    try:
        return cls(**options)
    except TypeError as exc:
        raise ZeronasUserError(f"bad option for proxy {name!r}: {exc}") from None
