"""Read-only stores over Parquet score tables, and a store layered over them.

:class:`TableStore` answers :meth:`~zeronas.runner.store.Store.get` from the tables (and the
not yet compacted shards) of a campaign directory (by default the tables shipped with
zeronas), so an Evaluator reuses a
score whose key matches exactly (same architecture, dataset, proxy key and version, seed and
batch digest) instead of recomputing it. A table file is read only when a key of its
benchmark, dataset and seed is first asked for, and indexed per proxy.

With ``share_classes=True`` a key whose architecture has no row of its own is answered by the
representative of its isomorphism class, when the directory has a class map (a campaign run
with ``--dedup``). That is a protocol choice: isomorphic cells then share one score instead of
each being initialised and scored on its own.

:class:`LayeredStore` puts a writable store (memory or JSON lines) over read-only ones: reads
try the writable store first, writes go to it alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from zeronas.runner.store import Key, MemoryStore, Store


class TableStore(Store):
    """Scores in the Parquet tables of ``directory`` (default: the shipped tables); read-only."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, share_classes: bool = False) -> None:
        from zeronas.campaign.shipped import shipped_dir

        self.directory = Path(directory) if directory is not None else shipped_dir()
        if directory is not None and not self.directory.is_dir():
            from zeronas.errors import ZeronasUserError

            raise ZeronasUserError(f"no campaign directory at {self.directory}; pass the --out directory of a campaign")
        self.share_classes = share_classes
        self.path = None
        self._tables: dict[tuple[str, str, int], Any] = {}  # pyarrow tables, None where no file
        self._groups: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
        self._classes: dict[str, dict[str, str] | None] = {}
        self._looked_up: dict[Key, float] = {}
        self.shared_lookups = 0  # answers that came from a class representative

    def _records(self, space: str, dataset: str, seed: int, proxy: str, version: str,
                 batch: str) -> dict[str, dict[str, Any]] | None:
        """``{arch: record}`` of one proxy instance in one table; tables and groups are read on first use."""
        import pyarrow.compute as pc

        from zeronas.campaign.tables import read_group, table_records

        file_key = (space, dataset, seed)
        if file_key not in self._tables:
            table = read_group(self.directory, space, dataset, seed)
            self._tables[file_key] = table.filter(pc.not_equal(table["status"], "error")) if table.num_rows else None
        table = self._tables[file_key]
        if table is None:
            return None
        group_key = (*file_key, proxy, version, batch)
        if group_key not in self._groups:
            mask = pc.and_(pc.and_(pc.equal(table["proxy"], proxy), pc.equal(table["proxy_version"], version)),
                           pc.equal(table["batch"], batch))
            group: dict[str, dict[str, Any]] = {}
            for record in table_records(table.filter(mask)):
                group.setdefault(record["arch"], record)
            self._groups[group_key] = group
        return self._groups[group_key]

    def _representative(self, space: str, arch: str) -> str | None:
        if space not in self._classes:
            from zeronas.campaign.tables import load_class_map

            table = load_class_map(self.directory, space) if self.directory.is_dir() else None
            self._classes[space] = None if table is None else dict(
                zip(table["arch"].to_pylist(), table["representative"].to_pylist(), strict=True))
        classes = self._classes[space]
        return None if classes is None else classes.get(arch)

    def get(self, key: Key) -> dict[str, Any] | None:
        space, arch, dataset, proxy, version, seed, batch = key
        try:
            records = self._records(space, dataset, int(seed), proxy, version, batch)
        except ValueError:
            return None
        if not records:
            return None
        record = records.get(arch)
        if record is None and self.share_classes:
            rep = self._representative(space, arch)
            if rep is not None and rep in records:
                record = {**records[rep], "arch": arch, "scored_as": rep}
                self.shared_lookups += 1
        if record is not None:
            seconds = float(record.get("seconds") or 0.0)
            self._looked_up[key] = 0.0 if math.isnan(seconds) else seconds
        return record

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        raise TypeError("a TableStore is read-only; layer a writable store over it (LayeredStore)")

    def __len__(self) -> int:
        """Rows of the groups read so far (a TableStore reads lazily)."""
        return sum(len(g) for g in self._groups.values())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for group in self._groups.values():
            yield from group.values()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 7 and self.get(key) is not None  # type: ignore[arg-type]

    def seconds_needed(self) -> float:
        return math.fsum(self._looked_up.values())


def with_tables(store: Store, tables: bool | str | os.PathLike[str] | None, *, share_classes: bool = False) -> Store:
    """``store`` over the score tables ``tables`` names (True: the shipped ones; a campaign
    directory; False or None: none, ``store`` as it is)."""
    if tables is False or tables is None:
        return store
    return LayeredStore(store, [TableStore(None if tables is True else tables, share_classes=share_classes)])


class LayeredStore(Store):
    """``top`` (writable) over ``below`` (read-only stores, searched in order)."""

    def __init__(self, top: Store | None = None, below: Sequence[Store] = ()) -> None:
        self.top = top if top is not None else MemoryStore()
        self.below = list(below)
        self.path = getattr(self.top, "path", None)
        self._from_below: dict[Key, float] = {}

    def get(self, key: Key) -> dict[str, Any] | None:
        found = self.top.get(key)
        if found is not None:
            return found
        for store in self.below:
            found = store.get(key)
            if found is not None:
                self._from_below[key] = float(found.get("seconds") or 0.0)
                return found
        return None

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        return self.top.add_many(records)

    def __len__(self) -> int:
        return len(self.top)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.top)

    def __contains__(self, key: object) -> bool:
        return key in self.top or any(key in s for s in self.below)

    def seconds_needed(self) -> float:
        # the top store counts the keys it answered; keys answered below are counted here
        return self.top.seconds_needed() + math.fsum(v for v in self._from_below.values() if not math.isnan(v))

    def flush(self) -> None:
        self.top.flush()

    def close(self) -> None:
        self.top.close()
