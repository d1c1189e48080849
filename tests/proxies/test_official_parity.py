"""synflow, fisher and naswot against the official rules, re-derived here independently.

- synflow (zero-cost-nas): the ``bn=False`` copy of NAS-Bench-201 keeps the two BatchNorms of
  each stride-2 residual block (``nasbench2_ops.reduction`` builds its ReLUConvBN units with the
  default ``use_bn=True``), in training mode.
- fisher (zero-cost-nas): each channel's saliency is broadcast over ``weight.shape[1:]``
  (``p_utils.reshape_elements``) before everything is summed.
- naswot (BayesWatch ``score_networks.py``): every module with "ReLU" in its type is hooked and
  the codes of its INPUT are counted.

Each oracle is written from those rules, not from zeronas' code; each official-rule test fails
on the earlier zeronas rule, which the variant options must still reproduce.
"""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.errors import ZeronasUserError
from zeronas.proxies import get_proxy
from zeronas.proxies._activations import relu_codes
from zeronas.spaces import nb201
from zeronas.spaces.capabilities import BatchNormFreeCopy
from tests.conftest import MIXED_CELL

EPS = 1e-5  # BatchNorm2d's default


def _value(proxy, model, inputs, targets=None):
    (result,) = zeronas.score_detailed(model, inputs, targets, [proxy]).values()
    assert result.status == "ok", result.reason
    return result.value


@pytest.fixture(scope="module")
def nb201_net():
    torch.manual_seed(0)
    return nb201.build(MIXED_CELL, num_classes=10)


# ----------------------------------------------------------------------------- synflow
class PlainCopyNet(nn.Module):
    """conv - BN - [ReLU - conv(stride 2) - BN] - ReLU - pool - Linear; no capability, so the
    generic rule removes every BatchNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(3, 3, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(3))
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        h = self.block(self.bn1(self.conv1(x)))
        return self.fc(F.adaptive_avg_pool2d(F.relu(h), 1).flatten(1))


class KeptBatchNormNet(PlainCopyNet):
    """Declares a ``bn=False`` copy that drops ``bn1`` and keeps the block's BatchNorm."""

    def batchnorm_free_copy(self) -> nn.Module:
        work = copy.deepcopy(self)
        work.bn1 = nn.Identity()
        return work


def _synflow_oracle(net: PlainCopyNet, keep_bn: bool) -> float:
    """sum |W * dR/dW| written out functionally: |params|, float64, all-ones input, BN on its batch."""
    weights = (net.conv1.weight, net.block[1].weight, net.fc.weight)
    w1, w2, wf = (p.detach().double().abs().requires_grad_(True) for p in weights)
    bf = net.fc.bias.detach().double().abs()
    gamma, beta = net.block[2].weight.detach().double().abs(), net.block[2].bias.detach().double().abs()
    h = F.conv2d(torch.ones(1, 2, 6, 6, dtype=torch.float64), w1, padding=1)
    h = F.conv2d(h.clamp(min=0), w2, stride=2, padding=1)
    if keep_bn:
        mean = h.mean((0, 2, 3), keepdim=True)
        var = ((h - mean) ** 2).mean((0, 2, 3), keepdim=True)  # biased, as training-mode BN normalises
        h = (h - mean) / torch.sqrt(var + EPS) * gamma[None, :, None, None] + beta[None, :, None, None]
    out = h.clamp(min=0).mean((2, 3)) @ wf.T + bf
    grads = torch.autograd.grad(out.sum(), [w1, w2, wf])
    return sum(float((w.detach() * g).abs().sum()) for w, g in zip((w1, w2, wf), grads))


@pytest.fixture
def kept_bn_net():
    torch.manual_seed(0)
    net = KeptBatchNormNet()
    with torch.no_grad():  # signs that abs() must remove, a scale and shift that matter
        net.block[2].weight.copy_(torch.tensor([0.5, -2.0, 1.5]))
        net.block[2].bias.copy_(torch.tensor([0.1, -0.3, 0.2]))
        net.bn1.weight.copy_(torch.tensor([3.0, 0.2, -1.0]))
    return net


def test_synflow_keeps_the_batchnorms_the_network_declares(kept_bn_net):
    assert isinstance(kept_bn_net, BatchNormFreeCopy)
    inputs = torch.randn(2, 2, 6, 6)
    official, no_bn = _synflow_oracle(kept_bn_net, True), _synflow_oracle(kept_bn_net, False)
    assert abs(official - no_bn) > 0.05 * no_bn  # the two rules differ on this network
    assert _value(get_proxy("synflow", log=False), kept_bn_net, inputs) == pytest.approx(official, rel=1e-9)
    assert _value(get_proxy("synflow"), kept_bn_net, inputs) == pytest.approx(math.log(official), rel=1e-9)
    assert _value(get_proxy("synflow", log=False, batchnorm="none"), kept_bn_net, inputs) == pytest.approx(no_bn, rel=1e-9)


def test_synflow_removes_every_batchnorm_of_a_network_without_the_capability(kept_bn_net):
    plain = PlainCopyNet()
    plain.load_state_dict(kept_bn_net.state_dict())
    assert not isinstance(plain, BatchNormFreeCopy)
    inputs = torch.randn(2, 2, 6, 6)
    assert _value(get_proxy("synflow", log=False), plain, inputs) == pytest.approx(_synflow_oracle(plain, False), rel=1e-9)


def _official_nb201_bn_free(model: nn.Module, keep_residual_bn: bool) -> nn.Module:
    """zero-cost-nas ``get_prunable_copy(bn=False)`` for NB201: BatchNorms go, except (if asked)
    those of the residual blocks' ``conv_a``/``conv_b`` ReLU-Conv-BN units."""
    net = copy.deepcopy(model)
    for parent_name, parent in list(net.named_modules()):
        for child_name, child in list(parent.named_children()):
            full = f"{parent_name}.{child_name}"
            if isinstance(child, nn.BatchNorm2d) and not (keep_residual_bn and re.search(r"\.conv_[ab]\.", full)):
                setattr(parent, child_name, nn.Identity())
    return net


def _synflow_by_hand(net: nn.Module) -> float:
    """zero-cost-nas ``compute_synflow_per_weight``: abs of the state dict, double, train, ones."""
    net = net.double().train()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    net.zero_grad()
    net(torch.ones(1, 3, 32, 32, dtype=torch.float64)).sum().backward()
    return sum(
        float((m.weight.detach() * m.weight.grad).abs().sum())
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.weight.grad is not None
    )


def test_synflow_on_nb201_matches_the_official_bn_false_copy(nb201_net):
    inputs = torch.zeros(2, 3, 32, 32)  # synflow reads only the sample shape
    kept = [n for n, m in _official_nb201_bn_free(nb201_net, True).named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(kept) == 4 and all(".conv_a." in n or ".conv_b." in n for n in kept)
    official = _synflow_by_hand(_official_nb201_bn_free(nb201_net, True))
    assert _value(get_proxy("synflow", log=False), nb201_net, inputs) == pytest.approx(official, rel=1e-5)
    # The earlier rule (every BatchNorm removed) is a different number, kept as an option.
    all_removed = _synflow_by_hand(_official_nb201_bn_free(nb201_net, False))
    assert all_removed > 10 * official
    earlier = _value(get_proxy("synflow", log=False, batchnorm="none"), nb201_net, inputs)
    assert earlier == pytest.approx(all_removed, rel=1e-5)


def test_nb201_batchnorm_free_copy_leaves_the_network_alone(nb201_net):
    before = {k: v.clone() for k, v in nb201_net.state_dict().items()}
    assert isinstance(nb201_net, BatchNormFreeCopy)
    work = nb201_net.batchnorm_free_copy()
    assert sum(isinstance(m, nn.BatchNorm2d) for m in nb201_net.modules()) == 1 + 3 * 15 + 4 + 1  # MIXED_CELL has 3 convs
    kept = {n for n, m in work.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert kept == {f"cells.{k}.{u}.2" for k in (5, 11) for u in ("conv_a", "conv_b")}
    assert all(torch.equal(v, nb201_net.state_dict()[k]) for k, v in before.items())


# ----------------------------------------------------------------------------- fisher
class FisherNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 5, 1, bias=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.bn(self.conv1(x)))))
        return self.fc(h.mean((2, 3)))


def _fisher_saliencies_by_sample(model: nn.Module, inputs, targets) -> list[tuple[torch.Size, torch.Tensor]]:
    """Per layer, (weight shape, F_k = 0.5 mean_n g_nk^2) with g_nk from per-sample parameter gradients.

    sum_positions a_nk dL/da_nk = W_k . dL/dW_k|_n + b_k dL/db_k|_n, where |_n keeps only the
    path through sample n's output of the layer (the output of the others is detached), so
    BatchNorm's coupling of the samples is honoured. Loops over layers and samples.
    """
    result = []
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for index in range(len(layers)):
        rows = []
        for n in range(len(inputs)):
            net = copy.deepcopy(model).train()
            layer = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))][index]
            mask = torch.zeros(len(inputs), *([1] * (3 if isinstance(layer, nn.Conv2d) else 1)))
            mask[n] = 1.0
            layer.register_forward_hook(lambda _m, _i, out, mask=mask: out.detach() + mask * (out - out.detach()))
            params = [layer.weight] + ([layer.bias] if layer.bias is not None else [])
            grads = torch.autograd.grad(F.cross_entropy(net(inputs), targets), params)
            g = (layer.weight * grads[0]).detach().flatten(1).sum(1)
            if layer.bias is not None:
                g = g + (layer.bias * grads[1]).detach()
            rows.append(g)
        g_nk = torch.stack(rows).double()
        result.append((layers[index].weight.shape, 0.5 * g_nk.pow(2).mean(0)))
    return result


def _broadcast_sum(saliencies) -> float:
    """zero-cost-nas: fill each channel's value over ``weight.shape[1:]``, stack, sum everything."""
    total = 0.0
    for shape, f in saliencies:
        total += float(torch.stack([torch.full(shape[1:], float(v), dtype=torch.float64) for v in f]).sum())
    return total


def test_fisher_counts_each_channel_once_per_weight_of_its_filter():
    torch.manual_seed(0)
    model = FisherNet()
    inputs, targets = torch.randn(5, 3, 6, 6), torch.tensor([0, 2, 1, 1, 0])
    saliencies = _fisher_saliencies_by_sample(model, inputs, targets)
    official = _broadcast_sum(saliencies)
    per_channel = sum(float(f.sum()) for _, f in saliencies)
    assert official > 2 * per_channel
    assert _value(get_proxy("fisher"), model, inputs, targets) == pytest.approx(official, rel=1e-5)
    assert _value(get_proxy("fisher", reduction="channel"), model, inputs, targets) == pytest.approx(per_channel, rel=1e-5)


def _fisher_by_activation_grads(model: nn.Module, inputs, targets) -> list[tuple[torch.Size, torch.Tensor]]:
    """zero-cost-nas's hooks re-derived: keep each Conv/Linear output, read its gradient after backward."""
    net = copy.deepcopy(model).train()
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    acts = {}

    def keep(layer, _inputs, out):
        out.retain_grad()
        acts[layer] = out

    for layer in layers:
        layer.register_forward_hook(keep)
    F.cross_entropy(net(inputs), targets).backward()
    result = []
    for layer in layers:
        if layer not in acts:
            continue
        act, grad = acts[layer].detach(), acts[layer].grad
        g_nk = (act * grad).sum(tuple(range(2, act.ndim))) if act.ndim > 2 else act * grad
        result.append((layer.weight.shape, 0.5 * g_nk.double().pow(2).mean(0)))
    return result


def test_fisher_on_nb201_matches_the_broadcast_official_sum(nb201_net):
    batch = zeronas.data.load_batch("cifar10", batch_size=8, seed=1, normalization="zero_cost_nas", augment=True)
    saliencies = _fisher_by_activation_grads(nb201_net, batch.inputs, batch.targets)
    official = _broadcast_sum(saliencies)
    per_channel = sum(float(f.sum()) for _, f in saliencies)
    assert official > 10 * per_channel
    assert _value(get_proxy("fisher"), nb201_net, batch.inputs, batch.targets) == pytest.approx(official, rel=1e-5)
    assert _value(get_proxy("fisher", reduction="channel"), nb201_net, batch.inputs, batch.targets) == pytest.approx(
        per_channel, rel=1e-5
    )


# ----------------------------------------------------------------------------- naswot
class ConvBNReLU(nn.Sequential):
    """Its class name contains "ReLU" and its input is the conv's input, not the ReLU's."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class ReLUConv(nn.Sequential):
    def __init__(self, c: int) -> None:
        super().__init__(nn.ReLU(), nn.Conv2d(c, c, 3, padding=1))


class NaswotNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.a = ConvBNReLU(4, 4)
        self.b = ReLUConv(4)
        self.act = nn.LeakyReLU(0.1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(self.act(self.b(self.a(self.stem(x)))).mean((2, 3)))


def _official_naswot_kernel(model: nn.Module, inputs) -> np.ndarray:
    """BayesWatch's hook: modules with 'ReLU' in str(type(.)), codes of the input, K summed over
    calls; the agreement counts are taken pair by pair."""
    net = copy.deepcopy(model).train()
    codes = []

    def hook(_m, inp, _out):
        codes.append((inp[0].reshape(len(inp[0]), -1) > 0).numpy())

    for _name, module in net.named_modules():
        if "ReLU" in str(type(module)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        net(inputs)
    n = len(inputs)
    kernel = np.zeros((n, n))
    for c in codes:
        for i in range(n):
            for j in range(n):
                kernel[i, j] += np.count_nonzero(c[i] == c[j])
    return kernel


def _earlier_naswot(model: nn.Module, inputs) -> float:
    """zeronas' earlier rule: output codes of every nn.ReLU only."""
    c = relu_codes(copy.deepcopy(model).train(), inputs).numpy().astype(np.float64)
    return float(np.linalg.slogdet(c @ c.T + (1 - c) @ (1 - c).T)[1])


def test_naswot_hooks_every_relu_named_module_on_its_input():
    torch.manual_seed(0)
    model, inputs = NaswotNet(), torch.randn(6, 3, 5, 5)
    official = float(np.linalg.slogdet(_official_naswot_kernel(model, inputs))[1])
    earlier = _earlier_naswot(model, inputs)
    assert abs(official - earlier) > 0.05 * abs(earlier)
    assert _value(get_proxy("naswot"), model, inputs) == pytest.approx(official, rel=1e-9)
    assert _value(get_proxy("naswot", hook="relu"), model, inputs) == pytest.approx(earlier, rel=1e-9)


def test_naswot_on_nb201_counts_the_relu_conv_bn_units_as_the_official_hook(nb201_net):
    batch = zeronas.data.load_batch("cifar10", batch_size=16, seed=2, normalization="nb201")
    hooked = [type(m).__name__ for m in nb201_net.modules() if "ReLU" in str(type(m))]
    # Each ReLU-Conv-BN unit (cells and residual blocks) and the ReLU inside it, plus the head's ReLU.
    assert hooked.count("ReLUConvBN") == 3 * 15 + 4 and hooked.count("ReLU") == hooked.count("ReLUConvBN") + 1
    official = float(np.linalg.slogdet(_official_naswot_kernel(nb201_net, batch.inputs))[1])
    assert _value(get_proxy("naswot"), nb201_net, batch.inputs) == pytest.approx(official, rel=1e-9)
    earlier = _earlier_naswot(nb201_net, batch.inputs)
    assert abs(official - earlier) > 0.01 * abs(earlier)
    assert _value(get_proxy("naswot", hook="relu"), nb201_net, batch.inputs) == pytest.approx(earlier, rel=1e-9)


def test_a_model_without_relu_named_modules_has_no_naswot_score():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.Tanh(), nn.Linear(3, 2))
    (result,) = zeronas.score_detailed(model, torch.randn(4, 3, 2, 2), None, ["naswot"]).values()
    assert result.status == "nan" and "ReLU" in result.reason


@pytest.mark.parametrize(
    ("name", "option", "bad"), [("synflow", "batchnorm", "all"), ("fisher", "reduction", "mean"), ("naswot", "hook", "gelu")]
)
def test_the_rules_are_validated_and_versioned(name, option, bad):
    with pytest.raises(ZeronasUserError):
        get_proxy(name, **{option: bad})
    assert int(type(get_proxy(name)).version) >= 2  # scores of the earlier rules are never reused
