from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import zeronas
from zeronas.data import load_batch
from zeronas.proxies import UndefinedScore
from zeronas.proxies.epsinas import epsilon_from_outputs
from zeronas.spaces import nb201
from tests.conftest import DEAD_CELL


def _epsilon_by_hand(o1, o2):
    stack = []
    for o in (o1, o2):
        n = (np.asarray(o, float) - min(o)) / (max(o) - min(o))
        stack.append([math.nan if v == 0 else v for v in n])
    a, b = np.array(stack)
    return np.nanmean(np.abs(a - b)) / np.nanmean(np.concatenate([a, b]))


def test_epsilon_formula_by_hand():
    o1, o2 = [0.0, 1.0, 3.0, 4.0], [2.0, 2.5, 1.0, 5.0]
    # Normalised: [nan, .25, .75, 1] and [.25, .375, nan, 1]
    expected = np.nanmean([math.nan, 0.125, math.nan, 0.0]) / np.nanmean([0.25, 0.75, 1, 0.25, 0.375, 1])
    assert epsilon_from_outputs(torch.tensor([o1, o2], dtype=torch.float64)) == pytest.approx(expected)
    assert _epsilon_by_hand(o1, o2) == pytest.approx(expected)
    with pytest.raises(UndefinedScore, match="constant"):
        epsilon_from_outputs(torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]]))


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.branch = nn.Sequential(nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))
        self.head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))

    def forward(self, x):
        h = self.stem(x)
        return self.head(h + self.branch(h))


def _full_width_by_hand(model, x, w):
    """Constant weights by hand on a copy, BatchNorm on batch statistics (train mode)."""
    import copy

    net = copy.deepcopy(model)
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.track_running_stats, m.running_mean, m.running_var = False, None, None
        for pname, p in m.named_parameters(recurse=False):
            with torch.no_grad():
                p.fill_(w if pname == "weight" else 0.0)
    with torch.no_grad():
        return net.train()(x)[:, 0].double().tolist()


def test_matches_a_hand_written_full_width_computation():
    torch.manual_seed(0)
    # A residual sum of a normalised and an unnormalised path: without one, every layer after
    # the first BatchNorm is positively homogeneous and both initialisations normalise alike.
    model = _Residual()
    x = load_batch("cifar10", batch_size=32, seed=2).inputs
    expected = _epsilon_by_hand(_full_width_by_hand(model, x, 1e-3), _full_width_by_hand(model, x, 1.0))
    got = zeronas.score(model, x, None, ["epsinas"], epsinas={"weights": (1e-3, 1.0)})["epsinas"]
    assert got == pytest.approx(expected, rel=1e-4)
    assert got > 1e-3  # a genuine difference between the two initialisations


@pytest.mark.parametrize("index", [0, 1, 6111, 9930, 857, 4000, 7777, 12000, 15000, 15624])
def test_width_one_evaluation_equals_full_width_on_nb201(index, table):
    torch.manual_seed(0)
    model = nb201.build(table.arch_str[index], num_classes=1)
    x = load_batch("cifar10", batch_size=48, seed=0).inputs
    fast = zeronas.score_detailed(model, x, None, ["epsinas"])["epsinas"]
    full = zeronas.score_detailed(model, x, None, ["epsinas"], epsinas={"collapse": "never"})["epsinas"]
    assert fast.status == full.status
    if fast.status == "ok":
        assert fast.value == pytest.approx(full.value, rel=1e-4, abs=1e-7)


def test_models_that_cannot_collapse_fall_back_to_full_width(mlp):
    # Flatten mixes channels with space: the width-one twin cannot run, full width is used.
    x = load_batch("cifar10", batch_size=16, seed=0).inputs
    auto = zeronas.score(mlp, x, None, ["epsinas"], epsinas={"weights": (1e-2, 1.0)})["epsinas"]
    never = zeronas.score(mlp, x, None, ["epsinas"], epsinas={"weights": (1e-2, 1.0), "collapse": "never"})["epsinas"]
    assert math.isfinite(auto) and auto == never


def test_constant_output_is_nan_with_a_reason_not_an_exception():
    model = nb201.build(DEAD_CELL, num_classes=1)
    x = load_batch("cifar10", batch_size=16, seed=0).inputs
    result = zeronas.score_detailed(model, x, None, ["epsinas"])["epsinas"]
    assert result.status == "nan" and math.isnan(result.value) and "constant" in result.reason


def test_needs_no_labels_and_two_distinct_weights():
    assert not zeronas.get_proxy_class("epsinas").needs_labels
    with pytest.raises(zeronas.ZeronasUserError, match="two different"):
        zeronas.get_proxy("epsinas", weights=(1.0, 1.0))


# Besides four cells of the 2,500 with ground truth, shapes a sample may miss: input -> output
# only; a max-pool vertex with the input also feeding the output; three vertices concatenated
# plus the projected input; a chain with a skip into its last vertex.
NB101_SHAPES = [
    "0100 input|output",
    "011001000 input|maxpool3x3|output",
    "0111100001000010000100000 input|conv3x3-bn-relu|conv1x1-bn-relu|maxpool3x3|output",
    "0101000100000100000100000 input|conv3x3-bn-relu|maxpool3x3|conv1x1-bn-relu|output",
]


def _nb101_texts() -> list[str]:
    from zeronas.data.nb101_tables import load_nb101_specs

    specs = load_nb101_specs()
    return [f"{specs.matrices[i]} {'|'.join(specs.ops[i])}" for i in (0, 700, 1400, 2499)] + NB101_SHAPES


@pytest.mark.parametrize("weights", [(1e-4, 10.0), (1e-7, 1.0)])
@pytest.mark.parametrize("cell", range(8))
def test_nb101_twin_equals_full_width(cell, weights, monkeypatch):
    # NAS-Bench-101 supplies its own narrowed network (one channel per group of equal channels);
    # the oracle is the full-width network. Same status (defined or NaN) and the same value.
    # Cell 7 reads one-channel images (a network built for them), the others three.
    from zeronas.spaces import ConstantWeightTwin, nb101

    in_channels = 1 if cell == 7 else 3
    torch.manual_seed(0)
    model = nb101.build(_nb101_texts()[cell], in_channels=in_channels)
    assert isinstance(model, ConstantWeightTwin)
    built = []
    original = nb101.NB101Network.constant_weight_twin
    monkeypatch.setattr(nb101.NB101Network, "constant_weight_twin", lambda self: built.append(1) or original(self))
    x = load_batch("cifar10", batch_size=24, seed=0).inputs[:, :in_channels]
    options = {"weights": weights}
    fast = zeronas.score_detailed(model, x, None, ["epsinas"], epsinas=options)["epsinas"]
    full = zeronas.score_detailed(model, x, None, ["epsinas"], epsinas={**options, "collapse": "never"})["epsinas"]
    assert built == [1]  # the twin was built and, since the scores agree, used
    assert fast.status == full.status
    if fast.status == "ok":
        # Below about 1e-5 epsilon is float32 rounding noise in either computation: the two
        # normalised outputs agree to their last bits (cells 4 and 5 at 1e-4 give 1e-7 to 1e-5).
        assert fast.value == pytest.approx(full.value, rel=1e-4, abs=2e-5)


def test_an_edited_nb101_network_is_scored_at_full_width():
    # The twin follows the architecture, not the modules: a network edited after it was built
    # (here a squashing head) no longer matches it, the check on a few samples sees that, and
    # the full-width network is scored.
    from zeronas.spaces import nb101

    torch.manual_seed(0)
    model = nb101.build(_nb101_texts()[0])
    model.classifier = nn.Sequential(model.classifier, nn.Tanh())
    x = load_batch("cifar10", batch_size=24, seed=0).inputs
    options = {"weights": (1e-4, 10.0)}
    fast = zeronas.score_detailed(model, x, None, ["epsinas"], epsinas=options)["epsinas"]
    full = zeronas.score_detailed(model, x, None, ["epsinas"], epsinas={**options, "collapse": "never"})["epsinas"]
    assert (fast.status, fast.value) == (full.status, full.value) or (math.isnan(fast.value) and math.isnan(full.value))
