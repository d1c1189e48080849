from __future__ import annotations

import json
import math

from zeronas.runner import ResultStore
from zeronas.runner.store import record_key


def _record(arch: str, value: float) -> dict:
    return {"space": "nb201", "arch": arch, "dataset": "cifar10", "proxy": "gradsign", "proxy_version": "1",
            "options": {"reduction": "sum"}, "seed": 0, "batch": "abc", "value": value, "status": "ok"}


def test_store_resumes_after_a_cut_line_without_duplicates(tmp_path):
    path = tmp_path / "scores.jsonl"
    store = ResultStore(path)
    store.add(_record("a", 1.0))
    store.add(_record("b", math.nan))
    store.add(_record("a", 5.0))  # same key: kept once, first value wins
    with path.open("a") as handle:
        handle.write('{"space": "nb201", "arch": "c", "dat')  # a kill mid-write
    reopened = ResultStore(path)
    assert len(reopened) == 2
    reopened.add(_record("c", 3.0))
    lines = path.read_text().splitlines()
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    assert [r["arch"] for r in parsed] == ["a", "b", "c"]
    assert math.isnan(parsed[1]["value"])
    assert len(ResultStore(path)) == 3


def test_seconds_needed_counts_only_the_scores_looked_up(tmp_path):
    store = ResultStore(tmp_path / "scores.jsonl")
    for arch, seconds in [("a", 1.5), ("b", 2.0), ("c", 4.0)]:
        store.add({**_record(arch, 1.0), "seconds": seconds})
    reopened = ResultStore(tmp_path / "scores.jsonl")
    assert reopened.seconds_needed() == 0.0
    reopened.get(record_key(_record("a", 0.0)))
    reopened.get(record_key(_record("c", 0.0)))
    reopened.get(record_key(_record("z", 0.0)))  # not scored yet: adds nothing
    assert reopened.seconds_needed() == 5.5
