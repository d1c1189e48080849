"""An append-only JSON-lines store of scores, so that an interrupted run resumes.

Each line is one score with its provenance: proxy name, version and options, seed, the
identity of the data batch, torch version, status, reason and seconds. A line cut short by a
kill is ignored on reading, and a key already present is never written twice.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def record_key(record: dict[str, Any]) -> tuple[str, ...]:
    return (
        record["space"],
        record["arch"],
        record["dataset"],
        record["proxy"],
        record["proxy_version"],
        json.dumps(record["options"], sort_keys=True),
        str(record["seed"]),
        record["batch"],
    )


class ResultStore:
    """Scores kept in memory and, when ``path`` is given, appended to a JSON-lines file."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.records: dict[tuple[str, ...], dict[str, Any]] = {}
        self.looked_up: set[tuple[str, ...]] = set()  # every key asked for: what this run needed
        if self.path is not None and self.path.exists():
            with self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by a kill
                    self.records.setdefault(record_key(record), record)

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        self.looked_up.add(key)
        return self.records.get(key)

    def seconds_needed(self) -> float:
        """Sum of the recorded scoring times of the scores looked up so far, whichever run computed them."""
        # fsum: exact, so the total does not depend on the set's iteration order
        return math.fsum(self.records[k].get("seconds") or 0.0 for k in self.looked_up if k in self.records)

    def add(self, record: dict[str, Any]) -> None:
        key = record_key(record)
        if key in self.records:
            return
        self.records[key] = record
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                if handle.tell() > 0:
                    # Finish a line a kill may have left unterminated before appending.
                    with self.path.open("rb") as tail:
                        tail.seek(-1, os.SEEK_END)
                        if tail.read(1) != b"\n":
                            handle.write("\n")
                handle.write(json.dumps(record, sort_keys=True, allow_nan=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
