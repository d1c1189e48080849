"""Campaigns: every record exactly once, resumed from shards or tables, after kills and damage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from zeronas import Evaluator
from zeronas.campaign import compact, load_class_map, load_scores, merge, run_campaign
from zeronas.campaign.shards import ShardWriter, shard_paths
from zeronas.campaign.tables import SCHEMA
from zeronas.cli import main
from zeronas.errors import ZeronasUserError
from zeronas.runner import TableStore
from zeronas.runner.executors import SerialExecutor
from zeronas.spaces import get_space

CHEAP = ["params", "synflow"]
REPO = Path(__file__).resolve().parents[2]


class CountingExecutor(SerialExecutor):
    """A serial executor that counts the networks it scores."""

    def __init__(self) -> None:
        self.jobs = 0

    def run(self, context, jobs):
        for job in jobs:
            self.jobs += 1
            yield from super().run(context, [job])


def _cells(n: int, start: int = 0) -> list[str]:
    return [str(a) for a in get_space("nb201").all_archs()[start:start + n]]


def _values(table: pa.Table) -> dict[tuple[str, str, str], float]:
    rows = table.select(["arch", "dataset", "proxy", "value"]).to_pylist()
    return {(r["arch"], r["dataset"], r["proxy"]): r["value"] for r in rows}


def test_campaign_scores_each_key_once_as_the_evaluator_does(tmp_path):
    cells = _cells(6)
    executor = CountingExecutor()
    result = run_campaign("nb201", datasets=["cifar10", "cifar100"], proxies=CHEAP, archs=cells, out=tmp_path,
                          executor=executor, progress=False)
    assert (executor.jobs, result.records_written) == (12, 24)
    table = load_scores(tmp_path)
    assert table.num_rows == 24 and len(_values(table)) == 24
    assert not shard_paths(tmp_path) and sorted(p.name for p in tmp_path.glob("scores-*.parquet")) == [
        "scores-nb201-cifar10-seed0.parquet", "scores-nb201-cifar100-seed0.parquet"]
    for dataset in ("cifar10", "cifar100"):
        direct = Evaluator("nb201", dataset=dataset, proxies=CHEAP, progress=False).score(cells)
        for key in CHEAP:
            got = [_values(table)[(c, dataset, key)] for c in cells]
            np.testing.assert_array_equal(got, direct[key])
    # Provenance travels with each row.
    row = table.filter(pa.compute.equal(table["proxy"], "synflow")).slice(0, 1).to_pylist()[0]
    assert row["status"] == "ok" and row["torch"] and row["zeronas"] and len(row["batch"]) == 16
    # A rerun scores nothing, from the compacted tables alone.
    executor = CountingExecutor()
    run_campaign("nb201", datasets=["cifar10", "cifar100"], proxies=CHEAP, archs=cells, out=tmp_path,
                 executor=executor, progress=False)
    assert executor.jobs == 0


def test_a_campaign_continues_from_tables_copied_elsewhere_and_adds_only_what_is_new(tmp_path):
    first, moved = tmp_path / "first", tmp_path / "moved"
    run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=_cells(4), out=first, progress=False)
    moved.mkdir()
    for path in first.glob("scores-*.parquet"):  # what a commit carries: the tables, no shards
        (moved / path.name).write_bytes(path.read_bytes())
    executor = CountingExecutor()
    run_campaign("nb201", datasets=["cifar10"], proxies=[*CHEAP, "l2_norm"], archs=_cells(6), out=moved,
                 executor=executor, progress=False)
    assert executor.jobs == 6  # every cell lacks l2_norm; 2 cells lack everything
    table = load_scores(moved)
    assert table.num_rows == 6 * 3 and len(_values(table)) == 18


def test_two_parts_sharing_a_directory_score_every_cell_once(tmp_path):
    cells = _cells(7)
    executors = [CountingExecutor(), CountingExecutor()]
    for k, executor in enumerate(executors, start=1):
        run_campaign("nb201", datasets=["cifar10"], proxies=["params"], archs=cells, out=tmp_path, part=(k, 2),
                     executor=executor, progress=False, compact_at_end=False)
    assert [e.jobs for e in executors] == [4, 3] and len(shard_paths(tmp_path)) == 2  # a shard per process
    assert load_scores(tmp_path).num_rows == 7 and compact(tmp_path)["shards_merged"] == 2
    with pytest.raises(ZeronasUserError, match="1 <= K <= N"):
        run_campaign("nb201", datasets=["cifar10"], proxies=["params"], archs=cells, out=tmp_path, part=(3, 2))


def test_merge_keeps_the_first_result_and_else_the_latest_error():
    def rows(*entries):
        base = {"space": "s", "dataset": "d", "proxy_version": "1", "seed": 0, "batch": "b", "arch_text": "",
                "proxy_name": "p", "options": "{}", "reason": "", "seconds": 0.0, "torch": "", "zeronas": "",
                "time": 0.0}
        return pa.Table.from_pylist([{**base, "arch": a, "proxy": p, "value": v, "status": s}
                                     for a, p, v, s in entries], schema=SCHEMA)

    merged = merge([rows(("a", "p", 1.0, "ok"), ("b", "p", float("nan"), "error")),
                    rows(("a", "p", 2.0, "ok"), ("b", "p", float("nan"), "error"), ("c", "p", 3.0, "ok")),
                    rows(("b", "p", 4.0, "ok"), ("c", "p", float("nan"), "error"), ("d", "p", float("nan"), "error"),
                         ("d", "p", float("nan"), "nan"), ("e", "p", float("nan"), "error"))])
    got = {(r["arch"]): (r["value"], r["status"]) for r in merged.to_pylist()}
    assert merged.num_rows == 5
    assert got["a"] == (1.0, "ok") and got["b"] == (4.0, "ok") and got["c"] == (3.0, "ok")
    assert got["d"][1] == "nan" and got["e"][1] == "error"


def test_a_torn_last_line_and_a_corrupt_shard_are_reported_in_one_line_and_the_rest_kept(tmp_path):
    cells = _cells(5)
    run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=cells, out=tmp_path, progress=False,
                 compact_at_end=False)
    (shard,) = shard_paths(tmp_path)
    lines = shard.read_bytes().splitlines(keepends=True)
    assert len(lines) == 10
    shard.write_bytes(b"".join(lines[:-1]) + lines[-1][:40])  # a kill in the middle of the last line
    damaged = tmp_path / "shards" / "z-damaged.jsonl"
    damaged.write_bytes(lines[0] + b"\x00\xff garbage\n" + b'{"not": "a record"}\n')
    executor = CountingExecutor()
    with pytest.warns(UserWarning) as caught:
        result = run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=cells, out=tmp_path,
                              executor=executor, progress=False)
    messages = [str(w.message) for w in caught]
    assert any("last line was cut short" in m and shard.name in m for m in messages)
    assert any("2 corrupt line(s) skipped (line 2, 3)" in m and "z-damaged" in m for m in messages)
    assert all("\n" not in m for m in messages)
    assert executor.jobs == 1 and result.records_written == 1  # only the torn record is scored again
    table = load_scores(tmp_path)
    assert table.num_rows == 10 and len(_values(table)) == 10


def test_a_live_shard_is_left_for_a_later_compaction(tmp_path):
    run_campaign("nb201", datasets=["cifar10"], proxies=["params"], archs=_cells(2), out=tmp_path, progress=False,
                 compact_at_end=False)
    (finished,) = shard_paths(tmp_path)
    records = [json.loads(line) for line in finished.read_text().splitlines()]
    with ShardWriter(tmp_path) as live:
        live.write(records)
        done = compact(tmp_path)
        assert (done["shards_merged"], done["shards_in_use"]) == (1, 1)
        assert live.path.exists()
    assert compact(tmp_path)["shards_merged"] == 1
    assert load_scores(tmp_path).num_rows == 2


def test_dedup_scores_one_cell_per_isomorphism_class_and_records_the_map(tmp_path):
    space = get_space("nb201")
    # Isomorphic pairs: edge 1->2 absent, so nodes 1 and 2 can swap roles.
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    b = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    c = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    d = "|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|none~2|"
    e = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # c's output, other unused edge
    assert space.canonical(a) == space.canonical(b) and space.canonical(c) == space.canonical(d)
    assert len({space.canonical(x) for x in (a, c, e)}) == 3
    executor = CountingExecutor()
    result = run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=[a, b, c, d, e], out=tmp_path,
                          dedup=True, executor=executor, progress=False)
    assert (executor.jobs, result.architectures, result.scored_architectures) == (3, 5, 3)
    classes = {r["arch"]: r["representative"] for r in load_class_map(tmp_path, "nb201").to_pylist()}
    assert classes == {a: a, b: a, c: c, d: c, e: e}
    table = load_scores(tmp_path)
    # Tables answer a member's key with its representative's score only when classes share scores.
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=CHEAP, executor=CountingExecutor(), progress=False,
                          tables=tmp_path, share_classes=True)
    shared = evaluator.score([b, d, a])
    assert evaluator.executor.jobs == 0
    assert shared["synflow"][0] == _values(table)[(a, "cifar10", "synflow")]
    own = Evaluator("nb201", dataset="cifar10", proxies=CHEAP, executor=CountingExecutor(), progress=False,
                    tables=tmp_path)
    own.score([b, a])
    assert own.executor.jobs == 1  # b is scored as itself; a comes from the table
    # A second run over another list keeps the recorded representative of a known class.
    f = "|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    executor = CountingExecutor()
    run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=[d, f], out=tmp_path, dedup=True,
                 executor=executor, progress=False)
    assert executor.jobs == 1  # f only: d's class has c
    classes = {r["arch"]: r["representative"] for r in load_class_map(tmp_path, "nb201").to_pylist()}
    assert classes[d] == c and classes[f] == f and len(classes) == 6


def test_sharing_classes_reads_each_cell_own_score_first(tmp_path):
    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"
    b = "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    run_campaign("nb201", datasets=["cifar10"], proxies=["synflow"], archs=[a, b], out=tmp_path, progress=False)
    table = _values(load_scores(tmp_path))
    assert table[(a, "cifar10", "synflow")] != table[(b, "cifar10", "synflow")]  # another draw of the init
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=["synflow"], executor=CountingExecutor(),
                          progress=False, tables=tmp_path, share_classes=True)
    scores = evaluator.score([b, a])["synflow"]
    assert list(scores) == [table[(b, "cifar10", "synflow")], table[(a, "cifar10", "synflow")]]
    # Without any table, one member per class is scored and the others share it.
    fresh = Evaluator("nb201", dataset="cifar10", proxies=["synflow"], executor=CountingExecutor(), progress=False,
                      share_classes=True)
    scores = fresh.score([b, a])["synflow"]
    assert fresh.executor.jobs == 1 and scores[0] == scores[1] == table[(b, "cifar10", "synflow")]


def _graph_hash(ops, *, prune: bool) -> str:
    """NB101's Weisfeiler-Lehman module hash of a cell drawn with one vertex per operation."""
    from zeronas.spaces.nb101 import module_hash
    from zeronas.spaces.nb201 import EDGES

    labels = {"skip_connect": 1, "nor_conv_1x1": 2, "nor_conv_3x3": 3, "avg_pool_3x3": 4}
    used = [(t, s, op) for (t, s), op in zip(EDGES, ops) if op != "none"]
    if prune:
        reach, coreach = {0}, {3}
        for node in (1, 2, 3):
            if any(t == node and s in reach for t, s, _ in used):
                reach.add(node)
        for node in (2, 1, 0):
            if any(s == node and t in coreach for t, s, _ in used):
                coreach.add(node)
        used = [e for e in used if e[1] in reach and e[0] in coreach]
        if not used:
            return "empty"
    vertices, index = [], {}
    for node in (0, 1, 2, 3):
        for t, s, op in used:
            if t == node:
                index[(t, s)] = len(vertices)
                vertices.append(labels[op])
        index[node] = len(vertices)
        vertices.append(-1 if node == 0 else -2 if node == 3 else -3)
    matrix = [[0] * len(vertices) for _ in vertices]
    for t, s, _ in used:
        matrix[index[s]][index[(t, s)]] = matrix[index[(t, s)]][index[t]] = 1
    return module_hash(matrix, vertices)


def test_nb201_isomorphism_classes_agree_with_a_graph_hash_and_the_benchmark_own_counts(table):
    """14,125 classes (8,765 once unused edges are dropped), each the partition of NB101's
    Weisfeiler-Lehman hash of the cell drawn with a vertex per operation (an independent
    construction); cells of one class have equal parameter counts and FLOPs in NAS-Bench-201's
    own table, while one pruned class holds cells that differ."""
    from zeronas.spaces.nb201 import pruned_class

    space = get_space("nb201")
    archs = space.all_archs()
    strict = {(space.canonical(a), _graph_hash(a.ops, prune=False)) for a in archs}
    assert len({p[0] for p in strict}) == len({p[1] for p in strict}) == len(strict) == 14125
    pruned = {(pruned_class(a), _graph_hash(a.ops, prune=True)) for a in archs}
    assert len({p[0] for p in pruned}) == len({p[1] for p in pruned}) == len(pruned) == 8765
    for column in ("params_M_cifar10", "flops_M_cifar10"):
        values = table.column(column)
        by_class: dict[str, set] = {}
        by_pruned: dict[str, set] = {}
        for i, arch in enumerate(archs):
            by_class.setdefault(space.canonical(arch), set()).add(round(float(values[i]), 6))
            by_pruned.setdefault(pruned_class(arch), set()).add(round(float(values[i]), 6))
        assert max(len(v) for v in by_class.values()) == 1
        assert max(len(v) for v in by_pruned.values()) > 1


def test_correlate_reads_a_campaign_table_and_scores_nothing(tmp_path, monkeypatch, capsys):
    from zeronas.benchmarks import get_benchmark
    from zeronas.evaluate.metrics import sample_indices

    population = get_benchmark("nb201").population("cifar10")
    cells = [str(population[i]) for i in sample_indices(len(population), 8, 0)]  # correlate's own sample (seed 0)
    run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=cells, out=tmp_path, progress=False)

    def no_scoring(*_args, **_kwargs):
        raise AssertionError("a score in the table was computed again")

    monkeypatch.setattr("zeronas.runner.executors.serial.run_job", no_scoring)
    assert main(["correlate", "--sample", "8", "--seed", "0", "--proxies", ",".join(CHEAP), "--tables", str(tmp_path),
                 "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["n"] == 8 and out["synflow"]["n"] + out["synflow"]["nan"] == 8
    # The same correlation from the table's own values and the ground truth.
    from scipy.stats import spearmanr

    values = _values(load_scores(tmp_path))
    truth = get_benchmark("nb201").ground_truth(cells, "cifar10")
    expected = spearmanr([values[(c, "cifar10", "params")] for c in cells], truth).statistic
    assert out["params"]["spearman"] == pytest.approx(expected, abs=1e-12)


def test_a_table_store_reads_records_not_yet_compacted(tmp_path):
    cells = _cells(3)
    run_campaign("nb201", datasets=["cifar10"], proxies=CHEAP, archs=cells, out=tmp_path, progress=False,
                 compact_at_end=False)
    assert shard_paths(tmp_path) and not list(tmp_path.glob("scores-*.parquet"))
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=CHEAP, executor=CountingExecutor(), progress=False,
                          tables=tmp_path)
    table = evaluator.score(cells)
    assert evaluator.executor.jobs == 0
    stored = _values(load_scores(tmp_path))
    np.testing.assert_array_equal(table["params"], [stored[(c, "cifar10", "params")] for c in cells])


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own errors
        return exc.code


def test_campaign_refuses_bad_input_in_one_line(tmp_path, capsys):
    bad_table = tmp_path / "bad"
    bad_table.mkdir()
    (bad_table / "scores-nb201-cifar10-seed0.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "file.txt").write_text("x")
    for argv, expected in [
        (["--sample", "3", "--archs", str(tmp_path / "file.txt")], "not both"),
        (["--address", "127.0.0.1:1"], "--executor ray"),
        (["--seeds", "0,-1"], "non-negative"),
        (["--part", "3/2"], "1 <= K <= N"),
        (["--datasets", "mnist"], "unknown datasets"),
        (["--out", str(tmp_path / "file.txt")], "is a file"),
        (["--out", str(bad_table)], "not a readable Parquet score table"),
        (["--proxies", "nosuchproxy"], "unknown proxy"),
    ]:
        args = ["campaign", "--proxies", "params", "--datasets", "cifar10", "--out", str(tmp_path / "ok"), *argv]
        assert _exit_code(args) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and err.count("\n") == 1, (argv, err)


def test_load_scores_refuses_what_is_not_a_table(tmp_path):
    with pytest.raises(ZeronasUserError, match="no campaign directory or score table"):
        load_scores(tmp_path / "missing")
    store = TableStore(tmp_path)
    assert store.get(("nb201", "a", "cifar10", "params", "1", "0", "b")) is None


@pytest.mark.slow
def test_kill_9_of_the_driver_then_the_same_command_gives_every_record_once(tmp_path):
    """A pool campaign killed with SIGKILL mid-run, rerun: the final table equals an uninterrupted run's."""
    cells = tmp_path / "cells.txt"
    cells.write_text("\n".join(_cells(40, start=100)) + "\n")
    command = [sys.executable, "-m", "zeronas", "campaign", "--benchmark", "nb201", "--datasets", "cifar10",
               "--proxies", "jacob_cov,params", "--archs", str(cells), "--workers", "2", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "--out", str(killed)], env=env, cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        lines = sum(p.read_bytes().count(b"\n") for p in shard_paths(killed)) if (killed / "shards").exists() else 0
        if lines >= 16:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    partial = sum(p.read_bytes().count(b"\n") for p in shard_paths(killed))
    assert 16 <= partial < 80
    rerun = subprocess.run([*command, "--out", str(killed), "--json"], env=env, cwd=REPO, capture_output=True,
                           text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["records_written"] == 80 - partial
    whole = tmp_path / "whole"
    subprocess.run([*command, "--out", str(whole)], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
    after_kill, uninterrupted = load_scores(killed), load_scores(whole)
    assert after_kill.num_rows == uninterrupted.num_rows == 80
    a, b = _values(after_kill), _values(uninterrupted)
    assert a.keys() == b.keys()
    np.testing.assert_array_equal([a[k] for k in sorted(a)], [b[k] for k in sorted(a)])  # NaN equals NaN here
