"""A dependency-free progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``with Progress(total, "scoring") as bar: bar.advance()``; silent when disabled."""

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total, self.label, self.enabled = total, label, enabled and total > 0
        self.stream = stream or sys.stderr
        self.done = 0
        self._skipped = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self._tty = getattr(self.stream, "isatty", lambda: False)()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._draw(final=True)

    def skip(self, steps: int) -> None:
        """Count ``steps`` items already done elsewhere (resumed), without letting them speed up the estimate."""
        self.done += steps
        self._skipped += steps

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        now = time.perf_counter()
        # A terminal redraws often; a log file gets a line every 30 s.
        if self.enabled and now - self._last >= (0.2 if self._tty else 30.0):
            self._last = now
            self._draw(final=False)

    def _draw(self, *, final: bool) -> None:
        elapsed = time.perf_counter() - self.start
        rate = (self.done - self._skipped) / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = left / rate if rate > 0 else (0.0 if left == 0 else float("nan"))
        filled = int(30 * self.done / self.total)
        text = (
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
            f"{elapsed:.0f}s elapsed, {eta:.0f}s left"
        )
        if self._tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
