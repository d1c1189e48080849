"""One registry type for every layer: proxies, spaces, benchmarks and datasets register by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from zeronas.errors import ZeronasUserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind; an unknown name is a one-line error that lists the choices."""

    def __init__(self, kind: str, error: type[ZeronasUserError] = ZeronasUserError) -> None:
        self.kind = kind
        self.error = error
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if not name or name in self._entries:
            raise ValueError(f"{self.kind} name {name!r} is empty or already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise self.error(f"unknown {self.kind} {name!r}; choose from {', '.join(sorted(self._entries))}") from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
