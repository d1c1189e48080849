"""Shared intermediates: computed once per (network, batch); every consumer scores as when alone."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import pytest
import torch

import zeronas
from tests.conftest import MIXED_CELL, SmallCNN
from tests.proxies.oracles import snip_by_mask_gradient
from zeronas.proxies import Proxy, UndefinedScore, _intermediates
from zeronas.proxies._base import IntermediateProxy
from zeronas.proxies._intermediates import BatchWeightGradients, Intermediate
from zeronas.spaces import nb201


def _groups() -> dict[str, list[str]]:
    """Registered proxies by the intermediate they consume."""
    groups: dict[str, list[str]] = {}
    for name in zeronas.list_proxies():
        intermediate = zeronas.get_proxy_class(name).intermediate
        if intermediate is not None:
            groups.setdefault(intermediate.__name__, []).append(name)
    return groups


GROUPS = _groups()
MODELS = {"nb201": lambda: nb201.build(MIXED_CELL), "cnn": SmallCNN}


def _model(name):
    torch.manual_seed(0)
    return MODELS[name]()


@pytest.fixture
def counted(monkeypatch):
    """Counts the calls of each expensive shared computation."""
    calls: Counter[str] = Counter()
    for name in ("per_sample_gradients", "weight_gradients", "input_jacobian"):
        original = getattr(_intermediates, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(_intermediates, name, wrapper)
    return calls


def test_the_proxies_that_share_declare_it():
    assert {"gradsign", "gradalign", "gradalign_gram"} <= set(GROUPS["PerSampleGradients"])
    assert {"grad_norm", "snip", "plain"} <= set(GROUPS["BatchWeightGradients"])
    assert {"jacob_cov", "epe_nas"} <= set(GROUPS["InputJacobian"])


@pytest.mark.parametrize("group", sorted(GROUPS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_each_consumer_scores_as_when_alone(group, model_name, cifar_batch, counted):
    model, x, y = _model(model_name), cifar_batch.inputs, cifar_batch.targets
    names = GROUPS[group]
    together = zeronas.score_detailed(model, x, y, names, seed=3)
    assert sum(counted.values()) == 1  # one shared computation for the whole group
    for name in names:
        alone = zeronas.score_detailed(model, x, y, [name], seed=3)[name]
        assert together[name].status == alone.status == "ok", (together[name].reason, alone.reason)
        assert together[name].value == pytest.approx(alone.value, rel=1e-6)


def test_every_registered_proxy_scores_as_when_alone():
    # Each proxy and intermediate starts from manual_seed(seed): the company a proxy keeps,
    # shared or not, random or not, never changes its score.
    batch = zeronas.data.load_batch("cifar10", batch_size=12, seed=0)
    model = _model("cnn")
    names = zeronas.list_proxies()
    together = zeronas.score_detailed(model, batch.inputs, batch.targets, names[::-1], seed=7)
    for name in names:
        alone = zeronas.score_detailed(model, batch.inputs, batch.targets, [name], seed=7)[name]
        assert together[name].status == alone.status, name
        if alone.status == "ok":
            assert together[name].value == pytest.approx(alone.value, rel=1e-6), name


def test_chunk_sizes_that_differ_do_not_share(cifar_batch, counted):
    model = _model("cnn")
    gradsign = zeronas.get_proxy("gradsign", chunk_size=8)
    zeronas.score(model, cifar_batch.inputs, cifar_batch.targets, [gradsign, "gradalign", "gradalign_gram"])
    assert counted["per_sample_gradients"] == 2


def test_snip_from_the_shared_gradients_equals_the_official_mask_gradient(cifar_batch):
    # zero-cost-nas multiplies every Conv/Linear weight by a mask of ones and sums |dL/dmask|.
    model, x, y = _model("nb201"), cifar_batch.inputs, cifar_batch.targets
    oracle = snip_by_mask_gradient(model, x, y)
    shared = zeronas.score(model, x, y, ["grad_norm", "snip", "plain"])
    assert shared["snip"] == pytest.approx(oracle, rel=1e-6)


def test_a_failed_intermediate_is_every_consumers_error(monkeypatch, cifar_batch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory\nmore detail")

    monkeypatch.setattr(_intermediates, "input_jacobian", broken)
    model = _model("cnn")
    results = zeronas.score_detailed(model, cifar_batch.inputs, cifar_batch.targets, ["jacob_cov", "params", "epe_nas"])
    for name in ("jacob_cov", "epe_nas"):
        assert results[name].status == "error" and results[name].reason == "RuntimeError: out of memory"
    assert results["params"].status == "ok"


def test_an_undefined_intermediate_is_every_consumers_nan_and_user_errors_raise(monkeypatch, cifar_batch):
    model, x, y = _model("cnn"), cifar_batch.inputs, cifar_batch.targets

    def undefined(*args, **kwargs):
        raise UndefinedScore("no gradient")

    monkeypatch.setattr(_intermediates, "weight_gradients", undefined)
    results = zeronas.score_detailed(model, x, y, ["grad_norm", "snip"])
    assert [(r.status, r.reason) for r in results.values()] == [("nan", "no gradient")] * 2

    def misuse(*args, **kwargs):
        raise zeronas.ZeronasUserError("fix your input")

    monkeypatch.setattr(_intermediates, "weight_gradients", misuse)
    with pytest.raises(zeronas.ZeronasUserError, match="fix your input"):
        zeronas.score(model, x, y, ["grad_norm", "snip"])


class _NoisyGradient(IntermediateProxy):
    """A consumer that also draws a random number: it must see the random state it sees alone."""

    name = "noisy_gradient"
    needs_labels = True
    intermediate = BatchWeightGradients

    def __init__(self, *, offset: float = 0.0) -> None:
        self.offset = offset

    def compute_from(self, value, model, inputs, targets):
        return float(sum(g.abs().sum() for _, g in value)) + float(torch.rand(())) + self.offset


class _Noise(Proxy):
    """No intermediate; a random draw and nothing else."""

    name = "noise"

    def compute(self, model, inputs, targets):
        return float(torch.rand(()))


@dataclass(frozen=True)
class _RandomDraw(Intermediate):
    """A random intermediate: it must start from manual_seed(seed) too."""

    def compute(self, model, inputs, targets, consumers):
        return [float(torch.rand(()))] * len(consumers)


class _Drawn(IntermediateProxy):
    name = "drawn"
    intermediate = _RandomDraw

    def compute_from(self, value, model, inputs, targets):
        return value


def test_same_seed_same_score_whatever_the_company(cifar_batch):
    model, x, y = _model("nb201"), cifar_batch.inputs, cifar_batch.targets
    first, second = _NoisyGradient(), _NoisyGradient(offset=1.0)
    lr = zeronas.get_proxy("linear_regions", samples=200)
    alone = {p.key: zeronas.score(model, x, y, [p], seed=5)[p.key] for p in (first, second, _Noise(), lr, _Drawn())}
    torch.manual_seed(123)  # the caller's random state does not matter either
    crowd = zeronas.score(model, x, y, ["swap", "snip", second, _Noise(), first, lr, "grad_norm", _Drawn()], seed=5,
                          swap={"repeats": 2})
    assert {k: crowd[k] for k in alone} == pytest.approx(alone, rel=1e-6)
    assert zeronas.score(model, x, y, [_Noise()], seed=6)["noise"] != alone["noise"]


@dataclass(frozen=True)
class _Slow(Intermediate):
    seconds: float = 0.2

    def compute(self, model, inputs, targets, consumers):
        time.sleep(self.seconds)
        return [len(consumers)] * len(consumers)


class _SlowConsumer(IntermediateProxy):
    name = "slow_consumer"
    intermediate = _Slow

    def __init__(self, *, tag: int = 0) -> None:
        self.tag = tag

    def compute_from(self, value, model, inputs, targets):
        return float(value + self.tag)


def test_a_user_defined_intermediate_is_shared_and_its_time_split(small_cnn, cifar_batch):
    proxies = [_SlowConsumer(), _SlowConsumer(tag=1)]
    results = zeronas.score_detailed(small_cnn, cifar_batch.inputs, None, proxies)
    assert [r.value for r in results.values()] == [2.0, 3.0]  # one computation, two consumers
    assert all(0.1 <= r.seconds < 0.2 for r in results.values())
    assert _SlowConsumer(tag=4).compute(small_cnn, cifar_batch.inputs, None) == 5.0  # alone: its own
