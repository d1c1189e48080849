"""``run_campaign``: score every architecture of a benchmark (or a list) resumably, into a directory.

The campaign streams: for each dataset and seed it reads which scores the directory already
holds (its Parquet tables and shards, record by record, into a bit per architecture and proxy),
sends the missing work to an executor, and appends each finished network's records to this
process's own shard. Memory is bounded by the number of architectures planned, never by the
records stored. At the end the shards are compacted into Parquet
(:func:`zeronas.campaign.tables.compact`), so a campaign continues from a committed table on
another machine as well as from raw shards.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zeronas.campaign.shards import ShardProblems, ShardWriter, read_shard, shard_paths
from zeronas.campaign.tables import (
    KEY_COLUMNS,
    compact,
    directory_lock,
    iter_columns,
    load_class_map,
    table_name,
    write_class_map,
)
from zeronas.errors import ZeronasUserError
from zeronas.runner.executors import Executor
from zeronas.runner.task import Job, base_record
from zeronas.spaces.base import Canonical


@dataclass
class CampaignResult:
    """What one call of :func:`run_campaign` did."""

    directory: Path
    architectures: int  # architectures covered (every member of a class, with dedup)
    scored_architectures: int  # architectures scored per dataset and seed (representatives, with dedup)
    jobs_run: int  # networks scored by this call, over every dataset and seed
    records_written: int
    seconds: float
    compaction: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "architectures": self.architectures,
                "scored_architectures": self.scored_architectures, "jobs_run": self.jobs_run,
                "records_written": self.records_written, "seconds": round(self.seconds, 3),
                "compaction": self.compaction, "problems": self.problems}


def plan_architectures(benchmark: Any, dataset: str, *, archs: Sequence[Any] | None, sample: int | None,
                       sample_seed: int) -> list[Any]:
    """The architectures a campaign covers: ``archs``, a seeded sample, or the whole population."""
    space = benchmark.space
    if archs is not None:
        chosen = [space.as_arch(a) for a in archs]
    else:
        population = list(benchmark.population(dataset))
        if sample is not None:
            if not 1 <= sample <= len(population):
                raise ZeronasUserError(f"sample must be between 1 and the population's {len(population)}, "
                                       f"got {sample}")
            index = np.sort(np.random.default_rng(sample_seed).choice(len(population), size=sample, replace=False))
            population = [population[int(i)] for i in index]
        chosen = population
    seen, unique = set(), []
    for arch in chosen:
        identity = space.identity(arch)
        if identity not in seen:
            seen.add(identity)
            unique.append(arch)
    return unique


def representatives(space: Any, archs: Sequence[Any], directory: Path) -> tuple[list[Any], list[dict[str, str]]]:
    """One architecture per isomorphism class, and the class map rows of ``archs``.

    A class keeps the representative an earlier campaign in ``directory`` recorded (so its
    scores stay valid); a new class takes its first architecture in ``archs``.
    """
    if not isinstance(space, Canonical):
        raise ZeronasUserError(f"space {space.name!r} names no isomorphism classes; run without --dedup")
    recorded = load_class_map(directory, space.name)
    rep_of: dict[str, str] = {}  # class -> representative identity
    text_of: dict[str, str] = {}  # identity -> text, for representatives outside ``archs``
    if recorded is not None:
        rep_of = dict(zip(recorded["class"].to_pylist(), recorded["representative"].to_pylist(), strict=True))
        text_of = dict(zip(recorded["arch"].to_pylist(), recorded["arch_text"].to_pylist(), strict=True))
    chosen: dict[str, Any] = {}
    rows = []
    for arch in archs:
        cls, identity = space.canonical(arch), space.identity(arch)
        rep = rep_of.setdefault(cls, identity)
        if rep == identity:
            chosen[cls] = arch
        rows.append({"space": space.name, "arch": identity, "arch_text": space.format(arch), "class": cls,
                     "representative": rep})
    out = []
    for cls in dict.fromkeys(r["class"] for r in rows):
        arch = chosen.get(cls)
        if arch is None:
            arch = space.parse(text_of[rep_of[cls]])
        out.append(arch)
    return out, rows


def done_matrix(directory: Path, context: Any, identities: Sequence[str], problems: ShardProblems) -> np.ndarray:
    """``done[i, k]``: architecture ``identities[i]`` has a result of proxy ``k`` of ``context``.

    Reads the directory's tables (only the key and status columns, batch by batch) and shards
    record by record; memory is this matrix and the identity index.
    """
    keys = [p.key for p in context.proxies]
    expected = {}
    for k, proxy in enumerate(context.proxies):
        fields = base_record(context, "", "", proxy, context.batches[proxy.data])
        expected[(fields["proxy"], fields["proxy_version"], fields["batch"])] = k
    row_of = {identity: i for i, identity in enumerate(identities)}
    done = np.zeros((len(identities), len(keys)), dtype=bool)
    space, dataset, seed = context.space.name, context.dataset.name, context.seed

    def take(rec_space, arch, rec_dataset, proxy, version, rec_seed, batch, status) -> None:
        if status == "error" or rec_space != space or rec_dataset != dataset or int(rec_seed) != seed:
            return
        k = expected.get((proxy, version, batch))
        i = row_of.get(arch)
        if k is not None and i is not None:
            done[i, k] = True

    with directory_lock(directory, shared=True):  # not midway through a compaction
        table = directory / table_name(space, dataset, seed)  # the only table that can hold these keys
        if table.exists():
            for columns in iter_columns(table, [*KEY_COLUMNS, "status"]):
                for row in zip(*columns, strict=True):
                    take(*row)
        for path in shard_paths(directory):
            for r in read_shard(path, problems):
                if r.get("format", 1) == 2:
                    take(r["space"], r["arch"], r["dataset"], r["proxy"], r["proxy_version"], r["seed"], r["batch"],
                         r["status"])
    return done


def run_campaign(
    benchmark: Any,
    *,
    datasets: Sequence[str],
    proxies: Sequence[Any],
    out: str | os.PathLike[str],
    seeds: Sequence[int] = (0,),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    archs: Sequence[Any] | None = None,
    sample: int | None = None,
    sample_seed: int = 0,
    dedup: bool = False,
    part: tuple[int, int] | None = None,
    executor: Executor | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    compact_at_end: bool = True,
) -> CampaignResult:
    """Score ``archs`` (default: every architecture of ``benchmark``) on each dataset and seed.

    Resumable: a rerun with the same arguments scores only what ``out`` lacks (``error``
    records are retried), whether ``out`` holds raw shards or compacted tables. With
    ``dedup``, one representative per isomorphism class is scored (the class map is written
    to ``out``); without, every architecture is scored. ``executor`` defaults to serial.
    ``part=(k, n)`` scores only every n-th planned architecture from the k-th (1-based): n
    processes, on any machines that share ``out``, split a campaign without a cluster, each
    writing its own shards.
    """
    from zeronas._progress import progress_bar
    from zeronas.benchmarks import get_benchmark
    from zeronas.runner.evaluator import Evaluator
    from zeronas.runner.executors import SerialExecutor

    started = time.perf_counter()
    benchmark = get_benchmark(benchmark, data_dir)
    directory = Path(out)
    if directory.exists() and not directory.is_dir():
        raise ZeronasUserError(f"campaign directory {directory} is a file; pass a directory to --out")
    directory.mkdir(parents=True, exist_ok=True)
    datasets = [benchmark.check_dataset(d) for d in dict.fromkeys(datasets)]
    if not datasets:
        raise ZeronasUserError(f"no datasets given; choose from {', '.join(benchmark.datasets)}")
    seeds = [int(s) for s in dict.fromkeys(seeds)]
    if part is not None:
        k, n = (int(v) for v in part)
        if not 1 <= k <= n:
            raise ZeronasUserError(f"part must be K/N with 1 <= K <= N, got {k}/{n}")
    executor = executor if executor is not None else SerialExecutor()
    problems = ShardProblems()
    jobs_run = records_written = covered = scored = 0
    with ShardWriter(directory) as writer:
        for dataset in datasets:
            planned = plan_architectures(benchmark, dataset, archs=archs, sample=sample, sample_seed=sample_seed)
            covered = max(covered, len(planned))
            if dedup:
                with directory_lock(directory):  # one choice of representative per class, even across processes
                    planned, class_rows = representatives(benchmark.space, planned, directory)
                    write_class_map(directory, benchmark.space.name, class_rows, lock=False)
            if part is not None:
                planned = planned[part[0] - 1::part[1]]
            scored = max(scored, len(planned))
            identities = [benchmark.space.identity(a) for a in planned]
            for seed in seeds:
                evaluator = Evaluator(benchmark, dataset=dataset, proxies=proxies, seed=seed, options=options,
                                      executor=executor, data_dir=data_dir, progress=False)
                context = evaluator.context()
                done = done_matrix(directory, context, identities, problems)
                keys = [p.key for p in context.proxies]
                jobs = [Job(arch=arch, proxy_keys=tuple(k for k, d in zip(keys, row, strict=True) if not d))
                        for arch, row in zip(planned, done, strict=True) if not row.all()]
                # A seeded shuffle: a campaign stopped part-way has scored a uniform sample, not the
                # start of the official order (whose cells are not alike).
                jobs = [jobs[int(i)] for i in np.random.default_rng(0).permutation(len(jobs))]
                label = f"{benchmark.name} {dataset} seed {seed}"
                with progress_bar(len(planned), label, initial=len(planned) - len(jobs), enabled=progress) as bar:
                    for _job, records in executor.run(context, jobs):
                        writer.write(records)
                        jobs_run += 1
                        records_written += len(records)
                        bar.update(1)
    messages = problems.messages()
    for message in dict.fromkeys(messages):
        warnings.warn(message, stacklevel=2)
    compaction = compact(directory) if compact_at_end else {}
    _write_manifest(directory, benchmark, datasets, seeds, proxies, dedup, covered)
    return CampaignResult(directory=directory, architectures=covered, scored_architectures=scored,
                          jobs_run=jobs_run, records_written=records_written,
                          seconds=time.perf_counter() - started, compaction=compaction,
                          problems=list(dict.fromkeys(messages)))


def _write_manifest(directory: Path, benchmark: Any, datasets: Sequence[str], seeds: Sequence[int],
                    proxies: Sequence[Any], dedup: bool, covered: int) -> None:
    """``campaign.json``: the last call's arguments, for the reader of the directory (not for resuming)."""
    from zeronas._version import __version__

    manifest = {"benchmark": benchmark.name, "datasets": list(datasets), "seeds": list(seeds),
                "proxies": [getattr(p, "key", p) for p in proxies], "dedup": dedup, "architectures": covered,
                "zeronas": __version__, "time": time.time()}
    tmp = directory / f".campaign.json.{os.getpid()}-{time.monotonic_ns()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, directory / "campaign.json")
