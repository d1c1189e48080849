"""The Evaluator: score architectures of a space with proxy instances, resumably.

Everything above the proxies (correlations, reports, studies, search) gets its scores here:
an Evaluator binds a space (or a benchmark's space), a dataset, proxy instances and a seed,
reads what its :class:`~zeronas.runner.store.Store` already holds, sends the rest to an
:class:`~zeronas.runner.executors.Executor`, and writes the results from this process only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zeronas._progress import progress_bar
from zeronas.data.datasets import get_dataset
from zeronas.data.images import ImageBatch, load_batch
from zeronas.errors import ZeronasUserError
from zeronas.proxies import DataRecipe, Proxy, get_proxy
from zeronas.runner.executors import Executor, SerialExecutor
from zeronas.runner.store import ResultStore, Store, record_key
from zeronas.runner.table_store import with_tables
from zeronas.runner.task import Job, ScoringContext, base_record
from zeronas.spaces._registry import get_space
from zeronas.spaces.base import Canonical, SearchSpace


@dataclass
class ScoreTable:
    """Scores keyed by architecture identity and proxy key.

    ``values[key]``, ``status[key]`` and ``reasons[key]`` are arrays in ``archs`` order; NaN
    where a score is undefined (``status`` says ``nan`` or ``error``, and ``reasons`` why: an
    object array of one-line texts, ``""`` where the score is ``ok``). Orientation per key in
    ``higher_is_better``.
    """

    archs: list[Any]
    identities: list[str]
    values: dict[str, np.ndarray]
    status: dict[str, np.ndarray]
    higher_is_better: dict[str, bool]
    seconds: dict[str, float] = field(default_factory=dict)  # recorded scoring time per proxy key
    reasons: dict[str, np.ndarray] = field(default_factory=dict)  # why a score is NaN; "" where ok
    # recorded scoring seconds of each architecture's record per proxy key (NaN where none)
    arch_seconds: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self.values[key]
        except KeyError:
            raise ZeronasUserError(f"no scores for {key!r}; the table has {', '.join(self.values)}") from None

    def keys(self) -> list[str]:
        return list(self.values)

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(self.values)


def resolve_proxy_instances(
    proxies: Sequence[str | Proxy],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Proxy]:
    """Proxy instances, one per distinct key, in first-seen order.

    Names are configured by ``options[name]`` over the benchmark's ``defaults[name]`` (e.g.
    epsinas' NB101 weights); instances pass through as given.
    """
    options, defaults = dict(options or {}), dict(defaults or {})
    if isinstance(proxies, (str, Proxy)):
        proxies = [proxies]
    names = {p for p in proxies if isinstance(p, str)}
    unused = set(options) - names
    if unused:
        raise ZeronasUserError(f"options given for proxies not scored: {', '.join(sorted(unused))}")
    resolved: dict[str, Proxy] = {}
    for p in proxies:
        proxy = p if isinstance(p, Proxy) else get_proxy(p, **{**defaults.get(p, {}), **options.get(p, {})})
        resolved.setdefault(proxy.key, proxy)
    if not resolved:
        raise ZeronasUserError("no proxies given; pass proxies=('gradsign', ...) (see zeronas.list_proxies())")
    return list(resolved.values())


class Evaluator:
    """Scores of ``proxies`` on architectures of ``space`` for one dataset and seed.

    ``space`` is a space or benchmark (or its registered name); a benchmark also supplies
    its papers' proxy defaults (``proxy_defaults``). Each proxy sees the minibatch of its
    paper (``Proxy.data``), drawn with ``seed``; each network is initialised after
    ``torch.manual_seed(seed)``. Scores already in ``store`` are reused (``error`` records are
    retried), so a killed run resumes where it stopped.

    ``tables``: also reuse the scores of Parquet score tables whose keys match exactly
    (``True``: the tables shipped with zeronas; or a campaign directory); new scores still go
    to ``store`` only. ``share_classes``: isomorphic architectures share one score (the
    representative's in a de-duplicated table; else the first listed is scored for its
    class), a different protocol from scoring each cell, so off by default.
    """

    def __init__(
        self,
        space: SearchSpace | Any,
        *,
        dataset: str,
        proxies: Sequence[str | Proxy],
        seed: int = 0,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        store: Store | None = None,
        executor: Executor | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        progress: bool = True,
        tables: bool | str | os.PathLike[str] = False,
        share_classes: bool = False,
    ) -> None:
        from zeronas.benchmarks import Benchmark, get_benchmark, list_benchmarks

        defaults: Mapping[str, Mapping[str, Any]] = {}
        if isinstance(space, str) and space in list_benchmarks():
            space = get_benchmark(space, data_dir)
        elif isinstance(space, SearchSpace) and space.name in list_benchmarks():
            # The space of a benchmark scores as the benchmark does (e.g. epsinas' NB101 weights).
            defaults = getattr(get_benchmark(space.name, data_dir), "proxy_defaults", {})
        if isinstance(space, Benchmark):
            benchmark = space
            benchmark.check_dataset(dataset)
            defaults = getattr(benchmark, "proxy_defaults", {})
            space = benchmark.space
        self.space = get_space(space, data_dir)
        self.dataset = get_dataset(dataset)
        self.proxies = resolve_proxy_instances(proxies, options, defaults)
        self._defaults, self._options = defaults, dict(options or {})
        self.seed = int(seed)
        self.store = store if store is not None else ResultStore()
        self.share_classes = bool(share_classes)
        if self.share_classes and not isinstance(self.space, Canonical):
            raise ZeronasUserError(f"space {self.space.name!r} names no isomorphism classes; "
                                   "classes cannot share scores there (drop share_classes / --dedup)")
        self.store = with_tables(self.store, tables, share_classes=self.share_classes)
        self.executor = executor if executor is not None else SerialExecutor()
        self.data_dir = data_dir
        self.progress = progress
        self._batches: dict[DataRecipe, ImageBatch] | None = None

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.proxies]

    def key_for(self, proxy: str | Proxy) -> str:
        """The result key that ``proxy`` (a key, a name as this Evaluator configures it, or an instance) has here."""
        if isinstance(proxy, Proxy):
            return proxy.key
        if proxy in self.keys:
            return proxy
        return resolve_proxy_instances([proxy], {k: v for k, v in self._options.items() if k == proxy},
                                       self._defaults)[0].key

    def batches(self) -> dict[DataRecipe, ImageBatch]:
        if self._batches is None:
            self._batches = {
                recipe: load_batch(self.dataset.name, batch_size=recipe.batch_size, seed=self.seed,
                                   normalization=recipe.normalization, augment=recipe.augment, data_dir=self.data_dir)
                for recipe in dict.fromkeys(p.data for p in self.proxies)
            }
        return self._batches

    def context(self) -> ScoringContext:
        """The scoring context (space, dataset, seed, proxies, batches) every job of this Evaluator shares."""
        batches = self.batches()
        token = hashlib.sha256(repr((
            self.space.name, self.dataset.name, self.seed, [p.key for p in self.proxies],
            sorted(b.digest for b in batches.values()),
        )).encode()).hexdigest()[:16]
        return ScoringContext(space=self.space, dataset=self.dataset, seed=self.seed, proxies=tuple(self.proxies),
                              batches=batches, token=token)

    def _lookup(self, identity: str, fields: dict[str, Any], legacy_batch: str) -> dict[str, Any] | None:
        """The stored score of ``identity`` for one proxy (its record ``fields``), also under the legacy batch."""
        found = self.store.get(record_key({**fields, "arch": identity}))
        if found is None and legacy_batch:
            found = self.store.get(record_key({**fields, "arch": identity, "batch": legacy_batch}))
        return found

    def score(self, archs: Sequence[Any], *, compute: bool = True) -> ScoreTable:
        """Score every architecture (objects or text) with every proxy; returns a :class:`ScoreTable`.

        ``compute=False`` only reads the store (and tables): keys with no record come back with
        status ``missing``.
        """
        archs = [self.space.as_arch(a) for a in archs]
        context = self.context()
        found: dict[tuple[int, str], dict[str, Any]] = {}
        jobs: list[Job] = []
        job_rows: dict[int, list[int]] = {}  # a job per distinct identity; rows that share it
        by_identity: dict[str, int] = {}
        identities = [self.space.identity(a) for a in archs]
        # The fields a proxy's records share, built once: lookups vary only the architecture.
        fields = {p.key: (base_record(context, "", "", p, context.batches[p.data]),
                          context.batches[p.data].legacy_digest) for p in self.proxies}
        row_of_job: dict[int, int] = {}
        job_row_of_class: dict[str, int] = {}  # with share_classes: the member scored for its class
        borrows: dict[int, int] = {}  # row -> the row whose records fill its missing keys
        for row, (arch, identity) in enumerate(zip(archs, identities, strict=True)):
            if identity in by_identity:
                job_rows[by_identity[identity]].append(row)
                continue
            missing = []
            for key, (shared_fields, legacy) in fields.items():
                record = self._lookup(identity, shared_fields, legacy)
                if record is None:
                    missing.append(key)
                else:
                    found[(row, key)] = record
            by_identity[identity] = row
            job_rows[row] = [row]
            if not missing:
                continue
            if not compute:
                continue
            cls = self.space.canonical(arch) if self.share_classes else None
            if cls is not None and cls in job_row_of_class:
                borrows[row] = job_row_of_class[cls]  # an isomorphic cell's scores stand for this one
                continue
            jobs.append(Job(arch=arch, proxy_keys=tuple(missing)))
            row_of_job[id(jobs[-1])] = row
            if cls is not None:
                job_row_of_class[cls] = row
        label = f"{self.dataset.name} {','.join(self.keys)}"
        total = len(by_identity) - len(borrows)
        with progress_bar(total, label, initial=total - len(jobs), enabled=self.progress) as bar:
            for job, records in self.executor.run(context, jobs):
                self.store.add_many(records)
                first = row_of_job[id(job)]
                for record in records:
                    found[(first, record["proxy"])] = record
                bar.update(1)
        self.store.flush()
        for row, source in borrows.items():
            for key in self.keys:
                if (row, key) not in found and (source, key) in found:
                    found[(row, key)] = found[(source, key)]
        return self._table(archs, identities, found, job_rows, compute)

    def _table(self, archs, identities, found, job_rows, compute=True) -> ScoreTable:
        n = len(archs)
        values = {k: np.full(n, np.nan) for k in self.keys}
        status = {k: np.full(n, "error" if compute else "missing", dtype=object) for k in self.keys}
        reasons = {k: np.full(n, "no score was recorded", dtype=object) for k in self.keys}
        arch_seconds = {k: np.full(n, np.nan) for k in self.keys}
        seconds = dict.fromkeys(self.keys, 0.0)
        counted: set[int] = set()  # a record shared by isomorphic cells is timed once
        for first, rows in job_rows.items():
            for key in self.keys:
                record = found.get((first, key))
                if record is None:
                    continue
                value = record.get("value")
                for row in rows:
                    values[key][row] = np.nan if value is None else float(value)
                    status[key][row] = record.get("status", "ok")
                    reasons[key][row] = record.get("reason") or ""
                    arch_seconds[key][row] = float(record.get("seconds") or 0.0)
                if id(record) not in counted:
                    counted.add(id(record))
                    seconds[key] += float(record.get("seconds") or 0.0)
        return ScoreTable(archs=archs, identities=identities, values=values, status=status,
                          higher_is_better={p.key: p.higher_is_better for p in self.proxies}, seconds=seconds,
                          reasons=reasons, arch_seconds=arch_seconds)
