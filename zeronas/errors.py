"""Exceptions raised by zeronas.

Every error a user can fix derives from :class:`ZeronasUserError`; its message is one line
that names the fix. The CLI turns these into one line on stderr and exit code 2.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (or ``Type``): an exception as one line of a status or error."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class ZeronasUserError(ValueError):
    """Bad input a user can correct (unknown name, malformed string, missing file...)."""


class DataNotFoundError(ZeronasUserError, FileNotFoundError):
    """A data file is missing from the data directory."""


class UnknownProxyError(ZeronasUserError, KeyError):
    """A proxy name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ArchitectureError(ZeronasUserError):
    """A malformed or invalid architecture description."""


class UndefinedScore(ArithmeticError):
    """Raised by a proxy when its score is mathematically undefined for this network.

    The runner records the score as NaN with ``status="nan"`` and this message as the reason.
    """
