"""Score tables in Parquet: compacting shards, and reading tables back (``load_scores``).

A campaign directory holds ``shards/*.jsonl`` (raw records, one file per writer) and, once
compacted, one Parquet file per benchmark, dataset and seed:
``scores-<space>-<dataset>-seed<seed>.parquet``, one row per record key (see
:func:`zeronas.runner.store.record_key`) with the record's provenance as columns
(:data:`SCHEMA`). Merging keeps the store's rule: the first ``ok``/``nan`` result of a key
wins; a key with only ``error`` records keeps its latest error (it is retried).

A de-duplicated campaign also writes ``classes-<space>.parquet``: every architecture it
covers, its isomorphism class and the representative whose scores stand for it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zeronas.campaign.shards import ShardProblems, read_shard, shard_in_use, shard_paths
from zeronas.errors import ZeronasUserError

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]

KEY_COLUMNS = ("space", "arch", "dataset", "proxy", "proxy_version", "seed", "batch")
SCHEMA = pa.schema([
    ("space", pa.string()), ("arch", pa.string()), ("arch_text", pa.string()), ("dataset", pa.string()),
    ("proxy", pa.string()), ("proxy_name", pa.string()), ("proxy_version", pa.string()),
    ("options", pa.string()),  # the proxy's options as JSON
    ("seed", pa.int64()), ("batch", pa.string()),
    ("value", pa.float64()), ("status", pa.string()), ("reason", pa.string()), ("seconds", pa.float64()),
    ("torch", pa.string()), ("zeronas", pa.string()), ("time", pa.float64()),
])
CLASS_SCHEMA = pa.schema([
    ("space", pa.string()), ("arch", pa.string()), ("arch_text", pa.string()),
    ("class", pa.string()), ("representative", pa.string()),
])
_BATCH_ROWS = 65_536
_COMPRESSION = "zstd"


def table_name(space: str, dataset: str, seed: int) -> str:
    return f"scores-{space}-{dataset}-seed{int(seed)}.parquet"


def class_map_name(space: str) -> str:
    return f"classes-{space}.parquet"


def _row(record: Mapping[str, Any]) -> dict[str, Any]:
    value = record.get("value")
    value = math.nan if value is None else float(value)
    seconds = record.get("seconds")
    return {
        "space": record["space"], "arch": record["arch"], "arch_text": record.get("arch_text", ""),
        "dataset": record["dataset"], "proxy": record["proxy"], "proxy_name": record.get("proxy_name", ""),
        "proxy_version": record["proxy_version"],
        "options": json.dumps(record.get("options", {}), sort_keys=True),
        "seed": int(record["seed"]), "batch": record["batch"],
        "value": value if math.isfinite(value) else math.nan, "status": record["status"],
        "reason": record.get("reason", "") or "", "seconds": math.nan if seconds is None else float(seconds),
        "torch": record.get("torch", ""), "zeronas": record.get("zeronas", ""),
        "time": float(record.get("time", math.nan)),
    }


def records_to_table(records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Format-2 records as a table of :data:`SCHEMA`, built in bounded batches."""
    batches, rows = [], []
    for record in records:
        if record.get("format", 1) != 2:
            continue  # format-1 records live in older results files, never in shards
        rows.append(_row(record))
        if len(rows) >= _BATCH_ROWS:
            batches.append(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))
            rows = []
    if rows:
        batches.append(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))
    return pa.Table.from_batches(batches, schema=SCHEMA)


def table_records(table: pa.Table) -> Iterator[dict[str, Any]]:
    """The rows of a score table as format-2 records (``options`` parsed back)."""
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        for row in batch.to_pylist():
            row["options"] = json.loads(row["options"] or "{}")
            row["seed"] = int(row["seed"])
            row["format"] = 2
            yield row


def merge(tables: Iterable[pa.Table]) -> pa.Table:
    """One row per key: the first result (``ok``/``nan``) in order, else the key's last error."""
    parts = [t.select(SCHEMA.names).cast(SCHEMA) for t in tables if t.num_rows]
    if not parts:
        return SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    n = table.num_rows
    order = pa.array(range(n), type=pa.int64())
    is_error = pc.equal(table["status"], "error")
    # Results rank by position (first wins); errors after every result, the latest first.
    priority = pc.if_else(is_error, pc.subtract(pa.scalar(2 * n, pa.int64()), order), order)
    keyed = table.select(list(KEY_COLUMNS)).append_column("priority", priority)
    best = keyed.group_by(list(KEY_COLUMNS), use_threads=False).aggregate([("priority", "min")])
    chosen = pc.sort_indices(best["priority_min"])
    rows = pc.take(best["priority_min"], chosen)
    rows = pc.if_else(pc.greater_equal(rows, n), pc.subtract(pa.scalar(2 * n, pa.int64()), rows), rows)
    return table.take(rows)


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("proxy", "ascending"), ("arch", "ascending")])


def _write(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (a temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(table, tmp, compression=_COMPRESSION, row_group_size=_BATCH_ROWS)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _not_a_table(path: Path, exc: Exception) -> ZeronasUserError:
    return ZeronasUserError(f"{path} is not a readable Parquet score table ({str(exc).splitlines()[0]}); "
                            "delete it and rerun the campaign, or restore it from version control")


def _require_columns(path: Path, columns: Iterable[str], present: Iterable[str]) -> None:
    missing = [c for c in columns if c not in set(present)]
    if missing:
        raise ZeronasUserError(f"{path} is not a zeronas score table (no column {missing[0]!r}); "
                               "pass a campaign directory or a table it wrote")


def iter_columns(path: str | os.PathLike[str], columns: list[str], batch_size: int = _BATCH_ROWS) -> Iterator[list]:
    """The given columns of a score table, as Python lists, one bounded batch at a time."""
    path = Path(path)
    try:
        parquet = pq.ParquetFile(path)
        _require_columns(path, columns, parquet.schema_arrow.names)
        for batch in parquet.iter_batches(columns=columns, batch_size=batch_size):
            yield [batch.column(c).to_pylist() for c in columns]
    except (OSError, pa.ArrowException) as exc:
        raise _not_a_table(path, exc) from None


def read_table(path: str | os.PathLike[str]) -> pa.Table:
    """One score table file, checked; a file that is not one gets a one-line error."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise _not_a_table(path, exc) from None
    _require_columns(path, SCHEMA.names, table.column_names)
    return table.select(SCHEMA.names).cast(SCHEMA)


def score_table_paths(directory: str | os.PathLike[str]) -> list[Path]:
    return sorted(Path(directory).glob("scores-*.parquet"))


@contextmanager
def directory_lock(directory: Path, *, shared: bool = False) -> Iterator[None]:
    """Compaction holds it exclusively; readers of tables and shards share it, so that no read
    sees a shard's records neither in the shards nor yet in the table (writers of shards are
    never held up). Where the file system has no locks it is a no-op."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".compact.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            except OSError as exc:
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EBADF):
                    raise
        yield
    finally:
        os.close(fd)



def compact(directory: str | os.PathLike[str], *, assume_finished: bool = False) -> dict[str, Any]:
    """Merge the finished shards of ``directory`` into its Parquet tables, then delete them.

    Shards a live writer still holds are left for a later compaction. A crash at any point
    loses nothing: a table is replaced atomically, and shards are deleted only after every
    table that takes their records is written (a rerun merges them again, harmlessly).
    Returns what was done: shards merged and left, rows per table, skipped lines.
    ``assume_finished``: take every shard, locked or not (only where no writer can be live).
    """
    directory = Path(directory)
    problems = ShardProblems()
    with directory_lock(directory):
        shards = [p for p in shard_paths(directory) if assume_finished or not shard_in_use(p)]
        left = len(shard_paths(directory)) - len(shards)
        new = records_to_table(r for path in shards for r in read_shard(path, problems))
        groups = {}
        if new.num_rows:
            keys = new.select(["space", "dataset", "seed"]).group_by(["space", "dataset", "seed"]).aggregate([])
            groups = {(s, d, int(e)) for s, d, e in zip(*(keys[c].to_pylist() for c in ("space", "dataset", "seed")),
                                                         strict=True)}
        rows = {}
        for space, dataset, seed in sorted(groups):
            part = new.filter(pc.and_(pc.and_(pc.equal(new["space"], space), pc.equal(new["dataset"], dataset)),
                                      pc.equal(new["seed"], seed)))
            path = directory / table_name(space, dataset, seed)
            old = read_table(path) if path.exists() else SCHEMA.empty_table()
            merged = _sorted(merge([old, part]))
            _write(merged, path)
            rows[path.name] = merged.num_rows
        for path in shards:
            path.unlink(missing_ok=True)
    return {"shards_merged": len(shards), "shards_in_use": left, "tables": rows, "problems": problems.messages()}


def read_group(directory: str | os.PathLike[str], space: str, dataset: str, seed: int) -> pa.Table:
    """The scores of one benchmark, dataset and seed in ``directory``: its table merged with the
    records of shards not compacted yet (read while no compaction runs)."""
    directory = Path(directory)
    path = directory / table_name(space, dataset, seed)
    parts = []
    with directory_lock(directory, shared=True):
        if path.is_file():
            parts.append(read_table(path))
        parts.append(records_to_table(
            r for p in shard_paths(directory) for r in read_shard(p)
            if r["space"] == space and r["dataset"] == dataset and str(r["seed"]) == str(seed)))
    return merge(parts)


def load_scores(path: str | os.PathLike[str] | None = None, *, include_shards: bool = True) -> pa.Table:
    """Every score of a campaign directory (or one Parquet table), one row per key.

    Without ``path``, the tables shipped with zeronas (see :func:`zeronas.campaign.shipped_dir`).
    Rows carry their provenance (:data:`SCHEMA`): benchmark space, architecture identity and
    text, dataset, proxy key, name, version and options, seed, batch digest, value (NaN when
    ``status`` is ``nan`` or ``error``, ``reason`` says why), seconds, torch and zeronas
    versions and the time scored. Records still in shards are merged in (``include_shards``).
    """
    from zeronas.campaign.shipped import shipped_dir

    path = Path(path) if path is not None else shipped_dir()
    if path.is_file():
        return read_table(path)
    if not path.is_dir():
        raise ZeronasUserError(f"no campaign directory or score table at {path}; pass the --out directory "
                               "of a campaign or a scores-*.parquet file")
    problems = ShardProblems()
    with directory_lock(path, shared=True):
        tables = [read_table(p) for p in score_table_paths(path)]
        if include_shards:
            tables.append(records_to_table(r for p in shard_paths(path) for r in read_shard(p, problems)))
    for message in problems.messages():
        warnings.warn(message, stacklevel=2)
    return _sorted(merge(tables))


def load_class_map(directory: str | os.PathLike[str], space: str) -> pa.Table | None:
    path = Path(directory) / class_map_name(space)
    if not path.exists():
        return None
    try:
        return pq.read_table(path).select(CLASS_SCHEMA.names).cast(CLASS_SCHEMA)
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise ZeronasUserError(f"{path} is not a readable class map ({str(exc).splitlines()[0]}); "
                               "delete it and rerun the campaign with --dedup") from None


def write_class_map(directory: str | os.PathLike[str], space: str, rows: list[dict[str, str]], *,
                    lock: bool = True) -> Path:
    """Record (merge into) the class map of ``space``: arch -> class -> representative.

    ``lock=False`` when the caller already holds :func:`directory_lock` (it chose the
    representatives from the map under the same lock).
    """
    directory = Path(directory)
    path = directory / class_map_name(space)
    new = pa.Table.from_pylist(rows, schema=CLASS_SCHEMA)
    with directory_lock(directory) if lock else contextlib.nullcontext():
        old = load_class_map(directory, space)
        if old is not None and old.num_rows:
            known = set(old["arch"].to_pylist())
            keep = pc.invert(pc.is_in(new["arch"], value_set=pa.array(sorted(known), pa.string())))
            new = pa.concat_tables([old, new.filter(keep)])
        _write(new.sort_by([("arch", "ascending")]), path)
    return path
