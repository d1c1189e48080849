from __future__ import annotations

import pytest
import torch
from torch import nn

import zeronas
from zeronas.proxies import Proxy, _intermediates
from zeronas.spaces import nb201
from tests.conftest import MIXED_CELL


def test_shared_gradient_pass_equals_separate_calls(cifar_batch):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    x, y = cifar_batch.inputs, cifar_batch.targets
    together = zeronas.score(model, x, y, ["gradsign", "gradalign", "gradalign_gram"])
    for name, value in together.items():
        assert zeronas.score(model, x, y, [name])[name] == pytest.approx(value, rel=1e-6)


def test_proxy_instances_and_option_keywords(cifar_batch):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    x, y = cifar_batch.inputs, cifar_batch.targets
    by_keyword = zeronas.score(model, x, y, ["gradsign"], gradsign={"reduction": "mean"})
    by_instance = zeronas.score(model, x, y, [zeronas.get_proxy("gradsign", reduction="mean")])
    # A name is reported under itself, an instance under its key.
    assert by_keyword == {"gradsign": by_instance['gradsign[reduction="mean"]']}
    with pytest.raises(zeronas.ZeronasUserError, match="both be reported as 'gradsign'"):
        zeronas.score(model, x, y, ["gradsign", zeronas.get_proxy("gradsign")], gradsign={"reduction": "mean"})
    with pytest.raises(zeronas.ZeronasUserError, match="options given for proxies not scored: epsinas"):
        zeronas.score(model, x, y, ["gradsign"], epsinas={"weights": (1e-7, 1.0)})


def test_bad_inputs_get_one_line_errors(small_cnn, cifar_batch):
    x, y = cifar_batch.inputs, cifar_batch.targets
    cases = [
        (lambda: zeronas.score(small_cnn, x, y, ["gradsine"]), zeronas.UnknownProxyError, "unknown proxy 'gradsine'"),
        (lambda: zeronas.score(small_cnn, x[:, :2], y, ["gradsign"]), zeronas.ZeronasUserError, "cannot run on inputs of shape (16, 2, 32, 32)"),
        (lambda: zeronas.score(small_cnn, x, y[:3], ["gradsign"]), zeronas.ZeronasUserError, "targets must be integer class indices of shape (16,)"),
        (lambda: zeronas.score(small_cnn, x, y + 10, ["gradsign"]), zeronas.ZeronasUserError, "targets must lie in [0, 10)"),
        (lambda: zeronas.score(small_cnn, x.long(), y, ["gradsign"]), zeronas.ZeronasUserError, "float tensor"),
        (lambda: zeronas.score("model", x, y, ["gradsign"]), zeronas.ZeronasUserError, "torch.nn.Module"),
    ]
    for call, error, fragment in cases:
        with pytest.raises(error) as info:
            call()
        assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.fixture
def passes(monkeypatch):
    """Counts the per-sample gradient passes."""
    calls = []
    original = _intermediates.per_sample_gradients
    monkeypatch.setattr(_intermediates, "per_sample_gradients", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_configurations_of_one_proxy_are_scored_apart(cifar_batch):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    x, y = cifar_batch.inputs, cifar_batch.targets
    crops = [zeronas.get_proxy("linear_regions", samples=300, crop=c) for c in (3, 8)]
    together = zeronas.score(model, x, y, crops)
    assert list(together) == ["linear_regions[samples=300]", "linear_regions[crop=8,samples=300]"]
    for proxy in crops:
        assert together[proxy.key] == zeronas.score(model, x, y, [proxy])[proxy.key]


def test_configurations_sharing_the_per_sample_pass(cifar_batch, passes):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    x, y = cifar_batch.inputs, cifar_batch.targets
    variants = [zeronas.get_proxy("gradalign", aggregation=a) for a in ("per_tensor", "global")]
    together = zeronas.score(model, x, y, variants)
    assert len(passes) == 1 and list(together) == ["gradalign", 'gradalign[aggregation="global"]']
    for proxy in variants:
        assert zeronas.score(model, x, y, [proxy])[proxy.key] == pytest.approx(together[proxy.key], rel=1e-6)


def test_a_configuration_given_twice_is_scored_once(small_cnn, cifar_batch, passes):
    x, y = cifar_batch.inputs, cifar_batch.targets
    assert list(zeronas.score(small_cnn, x, y, ["params", "params"])) == ["params"]
    detailed = zeronas.score_detailed(small_cnn, x, y, ["gradsign", zeronas.get_proxy("gradsign", reduction="sum")])
    assert list(detailed) == ["gradsign"] and len(passes) == 1


class _Width(Proxy):
    """An unregistered proxy: the widest Conv/Linear output; lower is better, needs labels."""

    name = "width"
    needs_labels = True
    higher_is_better = False

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = scale

    def compute(self, model, inputs, targets):
        return self.scale * max(m.weight.shape[0] for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_an_unregistered_proxy_instance_is_scored(small_cnn, cifar_batch):
    x, y = cifar_batch.inputs, cifar_batch.targets
    got = zeronas.score(small_cnn, x, y, [_Width(), _Width(scale=2.0), "params"])
    assert got == {"width": 10.0, "width[scale=2.0]": 20.0, "params": zeronas.score(small_cnn, x, y, ["params"])["params"]}
    with pytest.raises(zeronas.ZeronasUserError, match="proxies width need labels"):
        zeronas.score(small_cnn, x, None, [_Width()])
