from __future__ import annotations

import pytest
import torch

import zeronas
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
    assert by_keyword == by_instance
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
