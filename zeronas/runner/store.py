"""Stores of scores, so that an interrupted run resumes: in memory, or a JSON-lines file.

A record is one score with its provenance (format 2), one JSON object per line of the file::

    {"format": 2, "space": "nb201", "arch": "<identity>", "arch_text": "<formatted arch>",
     "dataset": "cifar10", "proxy": "linear_regions[crop=8]", "proxy_name": "linear_regions",
     "proxy_version": "2", "options": {...}, "seed": 0, "batch": "<16-hex digest>",
     "value": 412.0, "status": "ok", "reason": "", "seconds": 0.8,
     "torch": "2.13.0+cpu", "zeronas": "0.1.0", "time": 1767225600.0}

Its key is ``(space, arch, dataset, proxy, proxy_version, str(seed), batch)``
(:func:`record_key`). ``status`` is ``ok``, ``nan`` (score undefined, value NaN) or ``error``
(the proxy failed). ``ok`` and ``nan`` records are results: one per key, the first wins.
``error`` records are kept but never returned by :meth:`Store.get`, so a resumed run scores
them again; a later result for the key supersedes them. A non-finite value is written as
``null`` (the file is strict JSON) and read back as NaN.

Format-1 records (no ``format`` field; ``proxy`` is a bare name and ``options`` all its
options) are still read: their key uses the proxy key of that name and those options
(``get_proxy(name, **options).key``) and their ``batch`` as written.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from zeronas.errors import ZeronasUserError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so one writer per file there
    fcntl = None  # type: ignore[assignment]

FORMAT = 2
STATUSES = ("ok", "nan", "error")
Key = tuple[str, ...]

_NUMBER = (int, float)
_REQUIRED: dict[str, tuple[type, ...]] = {
    "space": (str,), "arch": (str,), "dataset": (str,), "proxy": (str,), "proxy_version": (str,),
    "seed": (int, str), "batch": (str,), "status": (str,), "value": (*_NUMBER, type(None)),
}
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "arch_text": (str,), "proxy_name": (str,), "options": (dict,), "reason": (str,),
    "seconds": (*_NUMBER, type(None)), "torch": (str,), "zeronas": (str,), "time": _NUMBER,
}
_FIX = "remove that line or pass another --results file"


def record_key(record: Mapping[str, Any]) -> Key:
    """``(space, arch, dataset, proxy key, proxy_version, str(seed), batch)`` of a record.

    For a format-1 record the proxy key is computed from its name and options; raises
    :class:`ZeronasUserError` when that proxy or those options no longer exist.
    """
    proxy = record["proxy"]
    if record.get("format", 1) == 1:
        proxy = _proxy_key(proxy, json.dumps(record["options"], sort_keys=True))
    return (record["space"], record["arch"], record["dataset"], proxy, record["proxy_version"],
            str(record["seed"]), record["batch"])


def _proxy_key(name: str, options_json: str) -> str:
    key, problem = _proxy_key_or_problem(name, options_json)
    if problem:
        raise ZeronasUserError(problem)
    return key


@lru_cache(maxsize=1024)
def _proxy_key_or_problem(name: str, options_json: str) -> tuple[str, str]:
    from zeronas.proxies import get_proxy  # lazily: torch is heavy

    try:
        return get_proxy(name, **json.loads(options_json)).key, ""
    except (ZeronasUserError, TypeError, ValueError) as exc:
        return "", f"format-1 record of proxy {name!r} with options {options_json}: {exc}"


def _problem(record: Any) -> str:
    """What keeps ``record`` from being a score record ("" when nothing does)."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    fmt = record.get("format", 1)
    if isinstance(fmt, bool) or fmt not in (1, FORMAT):
        return f"format {fmt!r}; this zeronas reads formats 1 and {FORMAT}"
    required = {*_REQUIRED, "options"} if fmt == 1 else set(_REQUIRED)
    for field, kinds in {**_REQUIRED, **_OPTIONAL}.items():
        if field not in record:
            if field in required:
                return f"no {field!r}"
            continue
        value = record[field]
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"{field!r} is a {type(value).__name__}"
    if record["status"] not in STATUSES:
        return f"status {record['status']!r} is none of {', '.join(STATUSES)}"
    return ""


def _normalised(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with ``value`` a float, NaN for None and for infinities."""
    out = dict(record)
    value = out["value"]
    try:
        value = math.nan if value is None else float(value)
    except OverflowError:  # an int beyond float range
        value = math.nan
    out["value"] = value if math.isfinite(value) else math.nan
    return out


def _prepared(records: Iterable[Mapping[str, Any]]) -> list[tuple[Key, dict[str, Any]]]:
    """``(key, normalised record)`` of each record; ValueError for a record that is not one."""
    out = []
    for record in records:
        problem = _problem(record)
        if problem:
            raise ValueError(f"not a zeronas score record ({problem}): {str(record)[:200]}")
        out.append((record_key(record), _normalised(record)))
    return out


def _is_result(record: Mapping[str, Any] | None) -> bool:
    return record is not None and record["status"] != "error"


class Store(ABC):
    """Where scores are kept; :meth:`get` answers whether a score must still be computed.

    ``get`` returns ``ok`` and ``nan`` records only; ``__len__``, ``__iter__`` and ``in`` see
    those same results. A store is a context manager that closes on exit.
    """

    path: Path | None = None

    @abstractmethod
    def get(self, key: Key) -> dict[str, Any] | None:
        """The result under ``key``, None when there is none (or only an ``error`` record)."""

    def add(self, record: Mapping[str, Any]) -> bool:
        """Keep ``record``; False when its key already has a result (which is kept)."""
        return self.add_many([record]) == 1

    @abstractmethod
    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Keep each record, as :meth:`add` does; returns how many were kept."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __iter__(self) -> Iterator[dict[str, Any]]: ...

    @abstractmethod
    def __contains__(self, key: object) -> bool: ...

    @abstractmethod
    def seconds_needed(self) -> float:
        """Sum of the ``seconds`` of the results of every key passed to :meth:`get`."""

    def flush(self) -> None:
        """Make what was added durable."""

    def close(self) -> None:
        """Flush and release what the store holds; it stays readable."""
        self.flush()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryStore(Store):
    """Records in a dict, gone when the process ends; ``records`` maps every key, errors included."""

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self._records: dict[Key, dict[str, Any]] = {}
        self._results = 0
        self._looked_up: set[Key] = set()  # every key asked for: what this run needed
        self.add_many(records)

    @property
    def records(self) -> Mapping[Key, dict[str, Any]]:
        return MappingProxyType(self._records)

    def get(self, key: Key) -> dict[str, Any] | None:
        self._looked_up.add(key)
        record = self._records.get(key)
        return record if _is_result(record) else None

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        return sum(self._merge(key, record) for key, record in _prepared(records))

    def _merge(self, key: Key, record: dict[str, Any]) -> bool:
        """Keep ``record`` unless ``key`` has a result; a result or a later error replaces an error."""
        old = self._records.get(key)
        if _is_result(old):
            return False
        self._records[key] = record
        self._results += _is_result(record)
        return True

    def __len__(self) -> int:
        return self._results

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter([r for r in self._records.values() if _is_result(r)])

    def __contains__(self, key: object) -> bool:
        return _is_result(self._records.get(key))  # type: ignore[arg-type]

    def seconds_needed(self) -> float:
        # fsum: exact, so the total does not depend on the set's iteration order
        found = (self._records.get(k) for k in self._looked_up)
        return math.fsum(r.get("seconds") or 0.0 for r in found if _is_result(r))


class JsonlStore(MemoryStore):
    """A :class:`MemoryStore` mirrored to an append-only JSON-lines file, shared safely.

    Opening reads every line and validates it: a line that is JSON but not a record, or a file
    that is not a results file at all (a directory, binary, other text), raises a one-line
    :class:`ZeronasUserError`; a line that is not JSON (cut short by a kill or a crash) is
    counted in ``corrupt_lines`` and warned about, its score recomputed. Format-1 records
    whose proxy or options no longer exist are counted in ``unusable_records`` and warned about.

    Each :meth:`add_many` takes an exclusive ``flock`` on the file, reads what other
    processes appended since this store last read, skips the records whose key has a result
    by now, and appends the rest as complete lines in one ``write`` (first finishing a line a
    kill left unterminated), so processes sharing one file keep each result exactly once.

    Durability trade-off: a record is in the file (the OS's cache) as soon as ``add``
    returns, so a killed process loses nothing; ``fsync``, which makes it survive a power loss
    or OS crash, runs only once ``sync_every`` records or ``sync_seconds`` seconds have gone
    unsynced (checked at each add), and on :meth:`flush`, :meth:`close` and context exit. Such
    a crash can lose that unsynced tail, or leave it as corrupt lines; earlier lines stay
    intact. Not for sharing between threads: one store per process.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync_every: int = 64, sync_seconds: float = 5.0) -> None:
        self.path = Path(path)
        self.sync_every = max(1, int(sync_every))
        self.sync_seconds = float(sync_seconds)
        self.corrupt_lines = 0
        self.unusable_records = 0
        self._offset = 0  # bytes of the file read so far
        self._lineno = 0  # lines of the file read so far
        self._tail_open = False  # the bytes read end in a line without its newline
        self._seen_record = False
        self._torn_before_record = False
        self._new_corrupt: list[int] = []
        self._new_unusable: dict[str, list[int]] = {}
        self._file: _AppendFile | None = None
        self._close_file: weakref.finalize | None = None
        super().__init__()
        self._load()

    # --- reading -------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise _unreadable(self.path, exc) from None
        if stat.S_ISDIR(info.st_mode):
            raise ZeronasUserError(f"results file {self.path} is a directory; "
                                   f"pass a file path such as {self.path / 'results.jsonl'}")
        if not stat.S_ISREG(info.st_mode):
            raise ZeronasUserError(f"results file {self.path} is not a regular file; pass another --results file")
        try:
            fd = os.open(self.path, os.O_RDONLY)  # not inherited by child processes (PEP 446)
        except OSError as exc:
            raise _unreadable(self.path, exc) from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)  # no writer is midway through a line
            data = _read(fd, 0, self.path)
        finally:
            os.close(fd)
        self._ingest(data)

    def _ingest(self, data: bytes) -> None:
        """Take in ``data``, the bytes of the file from ``self._offset`` on."""
        self._offset += len(data)
        if self._tail_open and data.startswith(b"\n"):  # someone finished the line a kill cut
            data = data[1:]
            self._tail_open = False
        if data:
            *lines, tail = data.split(b"\n")
            for line in lines:
                self._lineno += 1
                self._take_line(line)
            if tail:
                self._lineno += 1
                self._take_line(tail)
            self._tail_open = bool(tail)
        self._warn()

    def _take_line(self, raw: bytes) -> None:
        raw = raw.strip()
        if not raw:
            return
        where = f"results file {self.path} line {self._lineno}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            if not self._seen_record:
                raise ZeronasUserError(f"{self.path} is not a zeronas results file (line {self._lineno} is not UTF-8 "
                                       "text); pass another --results file") from None
            self._new_corrupt.append(self._lineno)
            return
        except (ValueError, RecursionError):
            if not self._seen_record:
                # Only a record cut short by a kill, once, may come before the first record.
                if self._torn_before_record or not raw.startswith(b'{"'):
                    raise ZeronasUserError(f"{self.path} is not a zeronas results file (line {self._lineno} is not a "
                                           "JSON record); pass another --results file") from None
                self._torn_before_record = True
            self._new_corrupt.append(self._lineno)
            return
        problem = _problem(record)
        if problem:
            raise ZeronasUserError(f"{where} is not a zeronas score record ({problem}); {_FIX}")
        self._seen_record = True
        try:
            key = record_key(record)
        except ZeronasUserError:
            self._new_unusable.setdefault(record["proxy"], []).append(self._lineno)
            return
        self._merge(key, _normalised(record))

    def _warn(self) -> None:
        if self._new_corrupt:
            lines = self._new_corrupt
            self.corrupt_lines += len(lines)
            warnings.warn(f"results file {self.path}: {len(lines)} corrupt line(s) ignored (line {_some(lines)}; "
                          "cut short by a kill or crash); their scores will be computed again", stacklevel=2)
            self._new_corrupt = []
        if self._new_unusable:
            lines = sorted(n for numbers in self._new_unusable.values() for n in numbers)
            self.unusable_records += len(lines)
            names = ", ".join(sorted(self._new_unusable))
            warnings.warn(f"results file {self.path}: {len(lines)} format-1 record(s) ignored (line {_some(lines)}): "
                          f"proxy {names} or its options no longer exist in zeronas", stacklevel=2)
            self._new_unusable = {}

    # --- writing -------------------------------------------------------------------------------

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        prepared = [(key, record, _line(record)) for key, record in _prepared(records)]
        if not prepared:
            return 0
        file = self._open()
        with file.locked():
            self._ingest(_read(file.fd, self._offset, self.path))  # what other processes appended
            kept: dict[Key, dict[str, Any]] = {}
            lines = []
            for key, record, line in prepared:
                if not _is_result(kept.get(key, self._records.get(key))):
                    kept[key] = record
                    lines.append(line)
            if lines:
                data = ("\n" if self._tail_open else "") + "".join(lines)
                file.append(data.encode("ascii"), self._offset)
                self._offset += len(data)
                self._lineno += len(lines)
                self._tail_open = False
        for key, record in kept.items():
            self._merge(key, record)
        file.unsynced += len(lines)
        if file.unsynced >= self.sync_every or time.monotonic() - file.synced_at >= self.sync_seconds:
            file.sync()
        return len(lines)

    def _open(self) -> _AppendFile:
        if self._file is None:
            self._file = _AppendFile(self.path)
            self._close_file = weakref.finalize(self, self._file.close)  # syncs if never closed
        return self._file

    def flush(self) -> None:
        if self._file is not None:
            self._file.sync()

    def close(self) -> None:
        """Sync and close the file; the store stays readable, and a later add reopens it."""
        if self._close_file is not None:
            self._close_file()
        self._file = self._close_file = None


class _AppendFile:
    """The results file open for appending, its lock, and the count of unsynced records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd: int | None = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ZeronasUserError(f"cannot write results file {path}: {exc.strerror}; "
                                   "pass another --results file") from None
        self.unsynced = 0
        self.synced_at = time.monotonic()
        self.new_entry = True  # the directory entry may be new: sync the directory too, once

    @contextmanager
    def locked(self) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def append(self, data: bytes, size: int) -> None:
        """Write ``data`` at the end, which is at ``size``; undo a partial write (disk full)."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, size)
            except OSError:
                pass
            raise ZeronasUserError(f"cannot write results file {self.path}: {exc.strerror}") from None

    def sync(self) -> None:
        if self.fd is None or (not self.unsynced and not self.new_entry):
            return
        os.fsync(self.fd)
        if self.new_entry:
            self.new_entry = False
            try:
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
            except OSError:  # some file systems cannot sync a directory
                pass
        self.unsynced = 0
        self.synced_at = time.monotonic()

    def close(self) -> None:
        if self.fd is not None:
            try:
                self.sync()
            finally:
                os.close(self.fd)
                self.fd = None


def _read(fd: int, offset: int, path: Path) -> bytes:
    size = os.fstat(fd).st_size
    if size < offset:
        raise ZeronasUserError(f"results file {path} shrank while this run used it (another program rewrote it); "
                               "rerun to read it afresh")
    chunks = []
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _line(record: Mapping[str, Any]) -> str:
    """The record as one line of strict JSON (NaN value as null), with its newline."""
    value = record["value"]
    out = {**record, "value": None if math.isnan(value) else value}
    try:
        return json.dumps(out, sort_keys=True, allow_nan=False) + "\n"
    except ValueError as exc:  # a non-finite number outside "value"
        raise ValueError(f"not a zeronas score record ({exc}): {str(record)[:200]}") from None


def _unreadable(path: Path, exc: OSError) -> ZeronasUserError:
    return ZeronasUserError(f"cannot read results file {path}: {exc.strerror}; pass another --results file")


def _some(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    return shown + (", ..." if len(numbers) > 5 else "")


class ResultStore(ABC):
    """The older name: ``ResultStore(path)`` is a :class:`JsonlStore`, ``ResultStore()`` a
    :class:`MemoryStore`, and every :class:`Store` is an instance of it."""

    def __new__(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> Store:  # type: ignore[misc]
        return JsonlStore(path, **options) if path is not None else MemoryStore()


ResultStore.register(Store)
