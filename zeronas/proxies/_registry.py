"""The proxy registry: each proxy module registers its class with ``@register_proxy``."""

from __future__ import annotations

import inspect
from typing import TypeVar

from zeronas._registry import Registry
from zeronas.errors import UnknownProxyError, ZeronasUserError, one_line
from zeronas.proxies._base import Proxy, option_defaults

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
    """An instance of the proxy ``name`` configured with keyword ``options``.

    An unknown option or a value the proxy refuses is a one-line ``ZeronasUserError`` that lists
    the proxy's options with their defaults.
    """
    cls = get_proxy_class(name)
    valid = option_defaults(cls)
    unknown = [key for key in options if key not in valid]
    if unknown:
        listing = f"its options are {describe_options(valid)}" if valid else "it takes no options"
        raise ZeronasUserError(f"{name} has no option {unknown[0]!r}; {listing}")
    try:
        return cls(**options)
    except ZeronasUserError:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
        raise ZeronasUserError(f"bad value for {name} ({shown}): {one_line(exc)}; "
                               f"its options are {describe_options(valid)}") from None


def describe_options(options: dict[str, object]) -> str:
    """``chunk_size=32, reduction='sum'``: options sorted by name, with their defaults."""
    return ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in sorted(options.items()))
