"""Shards: the append-only JSON-lines files a campaign writes, one per writing process.

A shard holds score records in the store's format (see :mod:`zeronas.runner.store`), one per
line. Its writer holds an exclusive ``flock`` on it for as long as it writes, so compaction
(:mod:`zeronas.campaign.tables`) takes only shards no live process is writing. Each batch of
records is one ``write`` of whole lines to an ``O_APPEND`` descriptor, so a kill leaves at
most one torn last line, which the reader reports and skips (its score is computed again).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from zeronas.errors import ZeronasUserError
from zeronas.runner.store import _line, _normalised, _problem

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so compaction must not run beside a writer there
    fcntl = None  # type: ignore[assignment]

SHARD_DIR = "shards"
SHARD_SUFFIX = ".jsonl"


def new_shard_path(directory: str | os.PathLike[str]) -> Path:
    """A fresh shard file name in ``directory/shards``: host, process and a random tag."""
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:40] or "host"
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return Path(directory) / SHARD_DIR / f"{stamp}-{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SHARD_SUFFIX}"


class ShardWriter:
    """Appends records to shards of ``directory``; ``fsync`` at most every ``sync_seconds``.

    A record is in the file (the OS's cache) as soon as :meth:`write` returns, so a killed
    process loses nothing it wrote; a power loss can lose the last ``sync_seconds``. Every
    ``rotate_seconds`` the writer closes its shard and starts a new one, so a long campaign's
    records become compactable (and committable) while it runs.
    """

    def __init__(self, directory: str | os.PathLike[str], *, sync_seconds: float = 10.0,
                 rotate_seconds: float = 1800.0) -> None:
        self.directory = Path(directory)
        self.sync_seconds = float(sync_seconds)
        self.rotate_seconds = float(rotate_seconds)
        self.records = 0  # written by this writer, over all its shards
        self.paths: list[Path] = []
        self._fd: int | None = None
        self._open()

    def _open(self) -> None:
        self.path = new_shard_path(self.directory)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._in_shard = 0
        # Created under a name compaction does not look at, locked, then renamed: a compaction
        # never sees this shard unlocked (and so never takes it for a finished one).
        hidden = self.path.with_name("." + self.path.name + ".new")
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.replace(hidden, self.path)
        except OSError as exc:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise ZeronasUserError(f"cannot lock a shard in {self.path.parent} ({exc.strerror}); the file system "
                                   "offers no locks: use a local directory, or one process per directory") from None
        self._fd = fd
        self.paths.append(self.path)
        self._synced_at = self._opened_at = time.monotonic()

    def write(self, records: Iterable[Mapping[str, Any]]) -> None:
        if self._fd is None:
            raise ValueError(f"shard {self.path} is closed")
        lines = []
        for record in records:
            problem = _problem(record)
            if problem:
                raise ValueError(f"not a zeronas score record ({problem}): {str(record)[:200]}")
            lines.append(_line(_normalised(record)))
        if not lines:
            return
        data = "".join(lines).encode("utf-8")
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
        self.records += len(lines)
        self._in_shard += len(lines)
        now = time.monotonic()
        if now - self._opened_at >= self.rotate_seconds:
            self._close_shard()
            self._open()
        elif now - self._synced_at >= self.sync_seconds:
            self.sync()

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            self._synced_at = time.monotonic()

    def _close_shard(self) -> None:
        if self._fd is None:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)  # releases the lock
            self._fd = None
            if self._in_shard == 0:
                self.path.unlink(missing_ok=True)
                self.paths.remove(self.path)

    def close(self) -> None:
        self._close_shard()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ShardProblems:
    """Lines of shards that were skipped: ``torn`` last lines (a kill), ``corrupt`` other lines.

    A shard read several times (once per dataset and seed) reports each line once.
    """

    torn: set[str] = field(default_factory=set)
    corrupt: dict[str, set[int]] = field(default_factory=dict)

    def messages(self) -> list[str]:
        out = [f"shard {p}: its last line was cut short (a kill while writing); that score will be computed again"
               for p in sorted(self.torn)]
        for path, numbers in sorted(self.corrupt.items()):
            lines = sorted(numbers)
            shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
            out.append(f"shard {path}: {len(lines)} corrupt line(s) skipped (line {shown}); "
                       "those scores will be computed again")
        return out


def shard_paths(directory: str | os.PathLike[str]) -> list[Path]:
    """Every shard of ``directory``, oldest name first."""
    folder = Path(directory) / SHARD_DIR
    return sorted(folder.glob(f"*{SHARD_SUFFIX}")) if folder.is_dir() else []


def read_shard(path: Path, problems: ShardProblems | None = None) -> Iterator[dict[str, Any]]:
    """The valid records of one shard, streamed; bad lines are noted in ``problems`` and skipped.

    A line that is JSON but not a score record is corrupt too: a shard is written by zeronas
    only, so anything else in it is damage, not the user's input.
    """
    problems = problems if problems is not None else ShardProblems()
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; a generator outlives a with block's intent
    except OSError as exc:
        raise ZeronasUserError(f"cannot read shard {path}: {exc.strerror}; check the campaign directory") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            complete = raw.endswith(b"\n")
            raw = raw.strip()
            if not raw:
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                record = None
            if record is None or _problem(record) or not _int_like(record["seed"]):
                if not complete:
                    problems.torn.add(str(path))
                else:
                    problems.corrupt.setdefault(str(path), set()).add(number)
                continue
            yield _normalised(record)


def _int_like(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def shard_in_use(path: Path) -> bool:
    """True while a live writer holds ``path`` (or when that cannot be known).

    Without locks (Windows) every shard counts as in use, so compaction leaves them all:
    compact there once every writer has finished, with ``compact(..., assume_finished=True)``.
    """
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDWR)  # NFS turns flock into a write lock, which needs write access
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by a writer (or locks unavailable: then assume so)
        return True
    finally:
        os.close(fd)
    return False
