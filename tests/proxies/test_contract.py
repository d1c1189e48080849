"""Contract tests run for every registered proxy, current and future."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import zeronas
from zeronas.proxies import Proxy
from zeronas.spaces import nb201
from tests.conftest import DEAD_CELL, MIXED_CELL, MLP, SmallCNN

PROXIES = zeronas.list_proxies()


MODELS = {
    "nb201": lambda: nb201.build(MIXED_CELL),
    "nb201_dead": lambda: nb201.build(DEAD_CELL),  # output disconnected from the input
    "cnn": SmallCNN,
    "mlp": MLP,
}


def _model(name):
    torch.manual_seed(0)
    return MODELS[name]()


@pytest.fixture(scope="module")
def batch():
    return zeronas.data.load_batch("cifar10", batch_size=12, seed=0)


def test_registry_lists_the_headline_proxies():
    assert {"gradsign", "gradalign", "gradalign_gram", "epsinas"} <= set(PROXIES)


@pytest.mark.parametrize("name", PROXIES)
def test_declares_its_nature(name):
    cls = zeronas.get_proxy_class(name)
    assert issubclass(cls, Proxy) and cls.name == name
    assert isinstance(cls.higher_is_better, bool) and isinstance(cls.needs_labels, bool)
    assert cls.data.batch_size >= 1 and cls.__doc__
    proxy = zeronas.get_proxy(name)
    assert zeronas.get_proxy(name, **proxy.options()).options() == proxy.options()


@pytest.mark.parametrize("name", PROXIES)
@pytest.mark.parametrize("model_name", list(MODELS))
def test_scores_are_finite_or_explicitly_nan_reproducible_and_leave_the_model_alone(name, model_name, batch):
    model = _model(model_name)
    model.train(model_name != "mlp")  # the caller's mode must survive too
    state = copy.deepcopy(model.state_dict())
    modes = [m.training for m in model.modules()]
    first = zeronas.score_detailed(model, batch.inputs, batch.targets, [name], seed=1)[name]
    second = zeronas.score_detailed(model, batch.inputs, batch.targets, [name], seed=1)[name]
    assert first.status in ("ok", "nan"), first.reason
    if first.status == "ok":
        assert math.isfinite(first.value)
        assert first.value == second.value
    else:
        assert math.isnan(first.value) and first.reason and second.status == "nan"
    after = model.state_dict()
    assert state.keys() == after.keys()
    assert all(torch.equal(state[k], after[k]) for k in state)
    assert [m.training for m in model.modules()] == modes
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in PROXIES if zeronas.get_proxy_class(n).needs_labels])
def test_labels_are_required_where_needed(name, batch):
    with pytest.raises(zeronas.ZeronasUserError, match="need labels: pass targets="):
        zeronas.score(_model("cnn"), batch.inputs, None, [name])
