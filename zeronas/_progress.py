"""Progress bars through tqdm: rate, elapsed, ETA, done and remaining, on stderr."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

_FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} done, {left} left "
           "[{elapsed}<{remaining}, {rate_fmt}]")


class _Bar(tqdm):
    """tqdm with ``{left}``: items still to do."""

    @property
    def format_dict(self) -> dict[str, Any]:
        d = super().format_dict
        d["left"] = max(0, (d.get("total") or 0) - d.get("n", 0))
        return d


def progress_bar(total: int, label: str, *, initial: int = 0, enabled: bool = True,
                 stream: TextIO | None = None) -> tqdm:
    """A tqdm bar over ``total`` architectures, ``initial`` of them already done (resumed).

    Resumed items do not count towards the rate, so the ETA is that of the work left. Off a
    terminal (a log file) the bar is redrawn every 30 s instead of continuously.
    """
    stream = stream or sys.stderr
    tty = getattr(stream, "isatty", lambda: False)()
    return _Bar(total=total, initial=initial, desc=label, unit="arch", file=stream,
                disable=not enabled or total <= 0, mininterval=0.2 if tty else 30.0, dynamic_ncols=tty,
                smoothing=0.05, bar_format=_FORMAT)
