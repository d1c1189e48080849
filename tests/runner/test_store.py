from __future__ import annotations

import json
import math
import multiprocessing
import os
import stat

import pytest

from zeronas.errors import ZeronasUserError
from zeronas.runner import ResultStore
from zeronas.runner.store import JsonlStore, MemoryStore, Store, record_key


def _record(arch: str, value: float | None = 1.0, *, status: str = "ok", **extra) -> dict:
    return {"format": 2, "space": "nb201", "arch": arch, "arch_text": arch, "dataset": "cifar10",
            "proxy": "gradsign", "proxy_name": "gradsign", "proxy_version": "1", "options": {"reduction": "sum"},
            "seed": 0, "batch": "0123456789abcdef", "value": value, "status": status, "reason": "",
            "seconds": 0.5, "torch": "2.13.0+cpu", "zeronas": "0.1.0", "time": 1.0, **extra}


def _key(arch: str) -> tuple[str, ...]:
    return record_key(_record(arch))


def _strict_lines(path) -> list[dict]:
    """Every line of the file, parsed as strict JSON (NaN and Infinity rejected)."""
    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return [json.loads(line, parse_constant=reject) for line in text.splitlines()]


# --- two processes, one file ------------------------------------------------------------------

def _append_concurrently(path: str, worker: int, archs: list[str], barrier, out: str) -> None:
    store = JsonlStore(path, sync_every=8)
    records = [_record(arch, float(worker)) for arch in archs]
    barrier.wait()
    i = 0
    while i < len(records):  # single adds and batches, alternately
        if i % 2:
            store.add(records[i])
            i += 1
        else:
            store.add_many(records[i:i + 5])
            i += 5
    store.close()
    with open(out, "w") as handle:
        json.dump({arch: store.get(_key(arch))["value"] for arch in archs}, handle)


def test_two_processes_appending_to_one_file_keep_every_key_exactly_once(tmp_path):
    path = tmp_path / "scores.jsonl"
    # 400 keys of each worker's own and 100 shared ones, interleaved at the same positions.
    archs = [[f"both-{i // 5}" if i % 5 == 2 else f"w{w}-{i}" for i in range(500)] for w in range(2)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    outs = [tmp_path / f"seen{w}.json" for w in range(2)]
    workers = [context.Process(target=_append_concurrently, args=(str(path), w, archs[w], barrier, str(outs[w])))
               for w in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0]

    records = _strict_lines(path)
    arch_names = [r["arch"] for r in records]
    assert len(arch_names) == len(set(arch_names)) == 900
    assert set(arch_names) == set(archs[0]) | set(archs[1])
    on_disk = {r["arch"]: r["value"] for r in records}
    for out in outs:  # each worker's view of its keys is the record the file kept
        seen = json.loads(out.read_text())
        assert seen == {arch: on_disk[arch] for arch in seen}
    reopened = JsonlStore(path)
    assert len(reopened) == 900 and reopened.corrupt_lines == 0


def test_a_second_store_on_the_file_sees_the_first_ones_appends(tmp_path):
    path = tmp_path / "scores.jsonl"
    first, second = JsonlStore(path), JsonlStore(path)
    assert first.add(_record("a", 1.0))
    assert not second.add(_record("a", 2.0))  # read under the lock: "a" is scored already
    assert second.get(_key("a"))["value"] == 1.0
    assert second.add(_record("b", 2.0))
    assert first.add(_record("c", 3.0))
    assert [r["arch"] for r in _strict_lines(path)] == ["a", "b", "c"]
    assert first.get(_key("b"))["value"] == 2.0  # read while appending "c"


# --- validation of what is read -----------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "[1, 2]",
    '{"a": 1}',
    json.dumps({k: v for k, v in _record("x").items() if k != "batch"}),
    json.dumps(_record("x", "high")),
    json.dumps(_record("x", status="done")),
    json.dumps(_record("x", format=3)),
])
def test_a_json_line_that_is_not_a_record_is_a_one_line_error_naming_file_and_line(tmp_path, line):
    path = tmp_path / "scores.jsonl"
    good = json.dumps(_record("a"))
    path.write_text(f"{good}\n{good}\n{line}\n{good}\n")
    with pytest.raises(ZeronasUserError) as caught:
        JsonlStore(path)
    message = str(caught.value)
    assert str(path) in message and "line 3 " in message and "remove that line" in message
    assert "\n" not in message


def test_a_line_cut_by_a_kill_is_counted_warned_and_the_next_append_starts_a_new_line(tmp_path):
    path = tmp_path / "scores.jsonl"
    with JsonlStore(path) as store:
        store.add(_record("a", 1.0))
        store.add(_record("b", 2.0))
    with path.open("a") as handle:
        handle.write('{"arch": "c", "batch": "01')  # a kill mid-write
    with pytest.warns(UserWarning, match=r"1 corrupt line.*line 3"):
        reopened = JsonlStore(path)
    assert reopened.corrupt_lines == 1 and len(reopened) == 2
    assert reopened.add(_record("d", 4.0))
    reopened.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[2] == '{"arch": "c", "batch": "01'
    assert json.loads(lines[3])["arch"] == "d"
    with pytest.warns(UserWarning, match="1 corrupt line"):
        again = JsonlStore(path)
    assert sorted(r["arch"] for r in again) == ["a", "b", "d"] and again.corrupt_lines == 1


def test_a_file_holding_only_a_line_cut_by_a_kill_is_resumed(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps(_record("a"))[:40])
    with pytest.warns(UserWarning, match="1 corrupt line"):
        store = JsonlStore(path)
    store.add(_record("b"))
    with pytest.warns(UserWarning, match="1 corrupt line"):
        assert [r["arch"] for r in JsonlStore(path)] == ["b"]


@pytest.mark.parametrize("kind", ["directory", "binary", "notes", "pretty json"])
def test_a_path_that_is_not_a_results_file_is_a_one_line_error_and_left_unchanged(tmp_path, kind):
    path = tmp_path / "thing"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes({
            "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
            "notes": b"# Notes\n\nscores go in scores.jsonl\n",
            "pretty json": b'{\n  "a": 1\n}\n',
        }[kind])
    before = None if kind == "directory" else path.read_bytes()
    for make in (JsonlStore, ResultStore):
        with pytest.raises(ZeronasUserError) as caught:
            make(path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    if before is not None:
        assert path.read_bytes() == before
    else:
        assert os.listdir(path) == []


# --- statuses, NaN, legacy records ------------------------------------------------------------

def test_an_error_record_is_not_a_result_and_a_later_result_supersedes_it(tmp_path):
    path = tmp_path / "scores.jsonl"
    store = JsonlStore(path)
    assert store.add(_record("a", None, status="error", reason="RuntimeError: out of memory"))
    assert store.get(_key("a")) is None and _key("a") not in store and len(store) == 0
    assert store.add(_record("a", None, status="error", reason="RuntimeError: again"))  # retried, failed again
    store.close()
    reopened = JsonlStore(path)
    assert reopened.get(_key("a")) is None  # so a resumed run scores it again
    assert reopened.records[_key("a")]["reason"] == "RuntimeError: again"
    assert reopened.add(_record("a", 7.0))
    assert reopened.get(_key("a"))["value"] == 7.0 and _key("a") in reopened
    assert not reopened.add(_record("a", 8.0))  # never a second result
    assert not reopened.add(_record("a", None, status="error"))
    reopened.close()
    assert [r["status"] for r in _strict_lines(path)] == ["error", "error", "ok"]
    final = JsonlStore(path)
    assert final.get(_key("a"))["value"] == 7.0 and len(final) == 1


def test_in_memory_too_an_error_is_superseded_and_the_first_result_wins():
    store = MemoryStore([_record("a", None, status="error"), _record("a", 2.0), _record("a", 3.0)])
    assert store.get(_key("a"))["value"] == 2.0 and len(store) == 1 and list(store)[0]["value"] == 2.0


def test_nan_and_infinity_are_written_as_null_and_read_as_nan(tmp_path):
    path = tmp_path / "scores.jsonl"
    with JsonlStore(path) as store:
        store.add(_record("a", math.nan, status="nan", reason="UndefinedScore: singular"))
        store.add(_record("b", math.inf))
        store.add(_record("c", 3))
        assert math.isnan(store.get(_key("b"))["value"])
    assert [r["value"] for r in _strict_lines(path)] == [None, None, 3.0]
    reopened = JsonlStore(path)
    values = [reopened.get(_key(arch))["value"] for arch in "abc"]
    assert all(isinstance(v, float) for v in values)
    assert math.isnan(values[0]) and math.isnan(values[1]) and values[2] == 3.0


def test_format_1_records_are_keyed_by_their_proxy_key(tmp_path):
    path = tmp_path / "scores.jsonl"

    def legacy(arch, proxy, options, value):
        return {"space": "nb201", "arch": arch, "dataset": "cifar10", "proxy": proxy, "proxy_version": "2",
                "options": options, "seed": 0, "batch": "old-digest", "value": value, "status": "ok",
                "reason": "", "seconds": 1.0, "torch": "2.0.0", "time": 1.0}

    lines = [
        json.dumps(legacy("a", "linear_regions", {"samples": 3000, "crop": 8, "init": "kaiming"}, 412)),
        json.dumps(legacy("b", "linear_regions", {"samples": 3000, "crop": 3, "init": "kaiming"}, math.nan)),
        json.dumps(legacy("c", "no_such_proxy", {}, 1.0)),
        json.dumps(legacy("d", "linear_regions", {"samples": 1}, 1.0)),  # options it no longer accepts
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match=r"2 format-1 record.*line 3, 4"):
        store = JsonlStore(path)
    assert store.unusable_records == 2 and len(store) == 2
    found = store.get(("nb201", "a", "cifar10", "linear_regions[crop=8]", "2", "0", "old-digest"))
    assert found["value"] == 412.0 and found["batch"] == "old-digest"
    assert math.isnan(store.get(("nb201", "b", "cifar10", "linear_regions", "2", "0", "old-digest"))["value"])
    assert store.get(("nb201", "a", "cifar10", "linear_regions", "2", "0", "old-digest")) is None


def test_adding_what_is_not_a_record_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "scores.jsonl"
    store = JsonlStore(path)
    with pytest.raises(ValueError, match="'seed'"):
        store.add_many([_record("a"), _record("b", seed=1.5)])
    with pytest.raises(ValueError):
        store.add(_record("c", seconds=math.nan))
    assert not path.exists() and len(store) == 0


# --- durability and bookkeeping -----------------------------------------------------------------

def test_fsync_is_batched(tmp_path, monkeypatch):
    calls = {"file": 0, "directory": 0}
    real_fsync = os.fsync

    def counting_fsync(fd):
        calls["directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"] += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    path = tmp_path / "scores.jsonl"
    store = JsonlStore(path, sync_every=64, sync_seconds=3600)
    for i in range(100):
        store.add(_record(f"a{i}"))
    assert calls == {"file": 1, "directory": 1}  # at the 64th record, with the new file's directory entry
    assert len(path.read_text().splitlines()) == 100  # all written already: a kill loses nothing
    store.close()
    assert calls == {"file": 2, "directory": 1}
    store.close()
    assert calls["file"] == 2

    with JsonlStore(path, sync_every=64, sync_seconds=0) as timed:  # every add is past sync_seconds
        for i in range(3):
            timed.add(_record(f"b{i}"))
    assert calls["file"] == 5


def test_seconds_needed_counts_only_the_results_looked_up(tmp_path):
    path = tmp_path / "scores.jsonl"
    with JsonlStore(path) as store:
        for arch, seconds in [("a", 1.5), ("b", 2.0), ("c", 4.0)]:
            store.add(_record(arch, seconds=seconds))
        store.add(_record("e", None, status="error", seconds=8.0))
    reopened = JsonlStore(path)
    assert reopened.seconds_needed() == 0.0
    for arch in ["a", "c", "z", "e"]:  # z not scored yet, e failed: they add nothing
        reopened.get(_key(arch))
    assert reopened.seconds_needed() == 5.5
    reopened.add(_record("z", seconds=0.25))  # looked up before it was scored: needed
    assert reopened.seconds_needed() == 5.75


def test_result_store_is_the_older_name_of_both_stores(tmp_path):
    path = tmp_path / "sub" / "scores.jsonl"
    on_disk, in_memory = ResultStore(path), ResultStore()
    assert type(on_disk) is JsonlStore and on_disk.path == path
    assert type(in_memory) is MemoryStore and in_memory.path is None
    assert all(isinstance(s, (ResultStore, Store)) for s in (on_disk, in_memory))
    on_disk.add(_record("a"))
    assert list(on_disk.records) == [_key("a")] and path.exists()
