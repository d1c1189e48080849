"""Proxy scores for search read from a campaign directory: a synthetic one holding every NB201
cell's records under the real keys, with values the test knows, NaNs and gaps included."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from zeronas.errors import ZeronasUserError
from zeronas.experiments.search import run_search_experiment
from zeronas.search import table_scorer
from zeronas.spaces.nb201 import count_parameters

MEMBERS = ("params", "synflow", "meco")


def known_value(proxy: str, index: int, arch) -> float:
    if proxy == "params":
        return count_parameters(arch) / 1e6
    if proxy == "synflow" and index % 7 == 0:
        return float("nan")
    return float(np.sin(index * (1.0 + MEMBERS.index(proxy))))


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    from zeronas import Evaluator
    from zeronas.campaign.shards import ShardWriter
    from zeronas.runner.task import base_record

    directory = tmp_path_factory.mktemp("tables")
    evaluator = Evaluator("nb201", dataset="cifar10", proxies=list(MEMBERS), progress=False)
    context = evaluator.context()
    with ShardWriter(directory) as writer:
        for i, arch in enumerate(evaluator.space.all_archs()):
            records = []
            for proxy in context.proxies:
                if proxy.name == "meco" and i == 5:
                    continue  # one gap
                value = known_value(proxy.name, i, arch)
                record = base_record(context, evaluator.space.identity(arch), evaluator.space.format(arch), proxy,
                                     context.batches[proxy.data])
                record.update(value=value, status="ok" if np.isfinite(value) else "nan", reason="", seconds=0.25,
                              torch="synthetic", zeronas="synthetic", time=time.time())
                records.append(record)
            writer.write(records)
    from zeronas.campaign.tables import compact

    compact(directory)  # Parquet, as a finished campaign leaves it
    return directory


def test_a_table_scorer_answers_every_cell_with_the_stored_value(tables):
    from zeronas.spaces import get_space

    archs = get_space("nb201").all_archs()
    scorer = table_scorer("nb201", "cifar10", "synflow", tables=tables)
    values, seconds = scorer.score(archs[:50])
    expected = [known_value("synflow", i, a) for i, a in enumerate(archs[:50])]
    np.testing.assert_array_equal(values, expected)
    assert np.all(seconds == 0.25)


def test_a_gap_names_the_campaign_to_run(tables):
    with pytest.raises(ZeronasUserError, match="--proxies meco"):
        table_scorer("nb201", "cifar10", "meco", tables=tables)
    partial = table_scorer("nb201", "cifar10", "meco", tables=tables, require_complete=False)
    assert partial.known == 15625 - 1


def _log_rank_oracle(indices, archs, members):
    """Slow oracle: each member's scores ranked among the given cells (NaN worst), ranks / n, logs summed."""
    total = np.zeros(len(indices))
    for proxy in members:
        raw = np.array([known_value(proxy, i, archs[i]) for i in indices])
        total += np.log(stats.rankdata(np.where(np.isfinite(raw), raw, -np.inf)) / len(raw))
    return total


def test_the_ensemble_ranks_among_the_cells_asked_together(tables):
    from zeronas.spaces import get_space

    archs = get_space("nb201").all_archs()
    with pytest.raises(ZeronasUserError, match="meco"):
        table_scorer("nb201", "cifar10", "ensemble", members=MEMBERS, tables=tables)
    scorer = table_scorer("nb201", "cifar10", "ensemble", members=MEMBERS[:2], tables=tables)
    values, seconds = scorer.score(archs)
    np.testing.assert_allclose(values, _log_rank_oracle(range(len(archs)), archs, MEMBERS[:2]), rtol=1e-12)
    assert np.all(seconds == 0.5)  # both members' recorded seconds
    subset = [3, 14, 15, 92, 65, 35, 8, 97, 93, 23]  # k candidates: ranked among themselves, not the space
    values, _ = scorer.score([archs[i] for i in subset])
    np.testing.assert_allclose(values, _log_rank_oracle(subset, archs, MEMBERS[:2]), rtol=1e-12)


def test_the_ensemble_argmax_ranks_among_the_n_drawn(tables):
    from zeronas.spaces import get_space

    archs = get_space("nb201").all_archs()
    result = run_search_experiment(algorithm="argmax", proxy="ensemble", members=MEMBERS[:2], budget=20, runs=3,
                                   seed=5, tables=str(tables))
    for r, run in enumerate(result.runs):
        draws = np.random.default_rng(5 + r).integers(0, len(archs), 20)
        oracle = _log_rank_oracle(draws, archs, MEMBERS[:2])
        assert run["arch"] == str(archs[draws[int(np.argmax(oracle))]])
        assert run["proxy_seconds"] == pytest.approx(0.5 * len(np.unique(draws)))


def test_argmax_over_the_whole_space_by_the_table(tables):
    from zeronas.spaces import get_space

    archs = get_space("nb201").all_archs()
    result = run_search_experiment(algorithm="argmax", proxy="params", budget=0, tables=str(tables))
    best = max(range(len(archs)), key=lambda i: known_value("params", i, archs[i]))
    assert result.runs[0]["arch"] == str(archs[best])


def test_assisted_search_reads_the_table(tables):
    result = run_search_experiment(algorithm="rea", proxy="params", assist="k10", budget=20, runs=3,
                                   tables=str(tables))
    plain = run_search_experiment(algorithm="rea", budget=20, runs=3)
    assert all(r["proxy_seconds"] > 0 for r in result.runs)
    assert [r["arch"] for r in result.runs] != [r["arch"] for r in plain.runs]
