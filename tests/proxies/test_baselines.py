"""Each baseline proxy against an independent oracle: the official loop, numpy, or a hand value."""

from __future__ import annotations

import copy
import math
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.proxies._activations import count_unique_rows
from zeronas.spaces import nb201
from tests.conftest import MIXED_CELL, MLP, SmallCNN


def _score(name, model, batch, seed=0, **options):
    result = zeronas.score_detailed(model, batch.inputs, batch.targets, [name], seed=seed, **options)[name]
    assert result.status == "ok", result.reason
    return result.value


@pytest.fixture
def batch():
    return zeronas.data.load_batch("cifar10", batch_size=10, seed=3, normalization="zero_cost_nas")


@pytest.fixture
def cnn():
    torch.manual_seed(1)
    return SmallCNN()


def _official_weight_grads(model, batch):
    """The zero-cost-nas way: a train-mode copy, ``loss.backward()``, read ``.weight.grad``."""
    net = copy.deepcopy(model).train()
    net.zero_grad()
    F.cross_entropy(net(batch.inputs), batch.targets).backward()
    return [(m.weight.detach(), m.weight.grad) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def test_grad_norm_plain_and_snip_match_the_official_backward(cnn, batch):
    pairs = _official_weight_grads(cnn, batch)
    assert _score("grad_norm", cnn, batch) == pytest.approx(sum(float(g.norm()) for _, g in pairs), rel=1e-5)
    assert _score("plain", cnn, batch) == pytest.approx(sum(float((w * g).sum()) for w, g in pairs), rel=1e-4)
    assert _score("snip", cnn, batch) == pytest.approx(sum(float((w * g).abs().sum()) for w, g in pairs), rel=1e-5)


def test_snip_equals_the_gradient_of_multiplicative_masks(cnn, batch):
    net = copy.deepcopy(cnn).train()
    masks = []
    for layer in net.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            layer.mask = torch.ones_like(layer.weight, requires_grad=True)
            masks.append(layer.mask)
            if isinstance(layer, nn.Conv2d):
                layer.forward = types.MethodType(lambda s, x: s._conv_forward(x, s.weight * s.mask, s.bias), layer)
            else:
                layer.forward = types.MethodType(lambda s, x: F.linear(x, s.weight * s.mask, s.bias), layer)
    loss = F.cross_entropy(net(batch.inputs), batch.targets)
    oracle = sum(float(g.abs().sum()) for g in torch.autograd.grad(loss, masks))
    assert _score("snip", cnn, batch) == pytest.approx(oracle, rel=1e-5)


def test_grasp_matches_a_finite_difference_hessian_product(batch):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 16), nn.Tanh(), nn.Linear(16, 10))
    oracle_net = copy.deepcopy(model).double()
    weights = [oracle_net[1].weight, oracle_net[3].weight]
    x = batch.inputs.double()

    def grads_at(shift):
        with torch.no_grad():
            for w, s in zip(weights, shift):
                w.add_(s)
        g = torch.autograd.grad(F.cross_entropy(oracle_net(x), batch.targets), weights)
        with torch.no_grad():
            for w, s in zip(weights, shift):
                w.sub_(s)
        return g

    g = grads_at([torch.zeros_like(w) for w in weights])
    eps = 1e-4
    plus, minus = grads_at([eps * gi for gi in g]), grads_at([-eps * gi for gi in g])
    hg = [(p - m) / (2 * eps) for p, m in zip(plus, minus)]
    oracle = sum(float((-w.detach() * h).sum()) for w, h in zip(weights, hg))
    assert _score("grasp", model, batch) == pytest.approx(oracle, rel=1e-3)


def test_fisher_matches_per_sample_weight_saliencies(batch):
    # For a bias-free Linear layer, sum_k-row (W * dL_n/dW) equals a_nk * dL/da_nk for sample n.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 12, bias=False), nn.ReLU(), nn.Linear(12, 10, bias=False))
    n = len(batch.inputs)
    total = 0.0
    for layer_index in (1, 3):
        per_sample = []
        for i in range(n):
            net = copy.deepcopy(model)
            loss = F.cross_entropy(net(batch.inputs), batch.targets, reduction="none")[i] / n
            (g,) = torch.autograd.grad(loss, [net[layer_index].weight])
            per_sample.append((net[layer_index].weight.detach() * g).sum(1))
        g_nk = torch.stack(per_sample)
        total += float(0.5 * g_nk.double().pow(2).mean(0).sum())
    assert _score("fisher", model, batch) == pytest.approx(total, rel=1e-4)


def _official_jacobian(model, batch):
    net = copy.deepcopy(model).train()
    x = batch.inputs.clone().requires_grad_(True)
    y = net(x)
    y.backward(torch.ones_like(y))
    return x.grad.reshape(len(x), -1).numpy().astype(np.float64), y.shape[-1]


def test_jacob_cov_matches_numpy_eig(cnn, batch):
    jacob, _ = _official_jacobian(cnn, batch)
    v = np.linalg.eig(np.corrcoef(jacob))[0].real
    oracle = -np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5))
    assert _score("jacob_cov", cnn, batch) == pytest.approx(oracle, rel=1e-4)


def test_epe_nas_matches_the_class_wise_numpy_computation(cnn, batch):
    jacob, n_classes = _official_jacobian(cnn, batch)
    labels = batch.targets.numpy()
    oracle = 0.0
    for c in np.unique(labels):
        rows = jacob[labels == c]
        corr = np.corrcoef(rows) if len(rows) > 1 else np.array(1.0)
        oracle += abs(np.sum(np.log(np.abs(corr) + 1e-5)))
    assert n_classes <= 100
    assert _score("epe_nas", cnn, batch) == pytest.approx(oracle, rel=1e-4)


def test_naswot_matches_the_official_hook_kernel(cnn, batch):
    net = copy.deepcopy(cnn).train()
    kernel = np.zeros((len(batch.inputs),) * 2)

    def hook(_m, inp, _out):
        nonlocal kernel
        x = (inp[0].reshape(len(inp[0]), -1) > 0).float().numpy().astype(np.float64)
        kernel += x @ x.T + (1 - x) @ (1 - x).T

    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(batch.inputs)
    assert _score("naswot", cnn, batch) == pytest.approx(np.linalg.slogdet(kernel)[1], rel=1e-9)


def test_synflow_equals_the_hand_computed_path_sum():
    # Two positive bias-free linear layers: R = 1^T |W2| |W1| 1, and each layer contributes R.
    w1 = torch.tensor([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]])
    w2 = torch.tensor([[3.0, -0.5]])
    model = nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(w1)
        model[2].weight.copy_(w2)
    r = float(w2.abs().sum(0) @ w1.abs().sum(1))
    inputs = torch.randn(4, 3)
    raw = zeronas.score(model, inputs, None, ["synflow"], synflow={"log": False})["synflow"]
    assert raw == pytest.approx(2 * r, rel=1e-12)
    assert zeronas.score(model, inputs, None, ["synflow"])["synflow"] == pytest.approx(math.log(2 * r), rel=1e-12)


def _official_ntk(net, batch):
    """TE-NAS ``get_ntk_n``: per-sample backward of the logits, 'weight' gradients, eigvalsh."""
    net = net.train()
    logit = net(batch.inputs)
    rows = []
    for i in range(len(batch.inputs)):
        net.zero_grad()
        logit[i : i + 1].backward(torch.ones_like(logit[i : i + 1]), retain_graph=True)
        rows.append(torch.cat([p.grad.reshape(-1) for n, p in net.named_parameters() if "weight" in n and p.grad is not None]))
    grads = torch.stack(rows).double().numpy()
    eig = np.linalg.eigvalsh(grads @ grads.T)
    return eig[-1] / eig[0]


def _te_nas_kaiming_fanin(module):
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def test_ntk_matches_the_official_per_sample_backward_loop(cnn, batch):
    expected = _official_ntk(copy.deepcopy(cnn), batch)
    assert _score("ntk", cnn, batch, ntk={"init": "model"}) == pytest.approx(expected, rel=1e-3)
    assert not zeronas.get_proxy_class("ntk").higher_is_better


def test_ntk_reinitialises_as_te_nas_by_default(cnn, batch):
    torch.manual_seed(5)
    net = copy.deepcopy(cnn)
    net.apply(_te_nas_kaiming_fanin)
    expected = _official_ntk(net, batch)
    assert _score("ntk", cnn, batch, seed=5) == pytest.approx(expected, rel=1e-3)
    assert _score("ntk", cnn, batch, seed=5) != pytest.approx(_official_ntk(copy.deepcopy(cnn), batch), rel=1e-2)


def test_zico_matches_the_official_accumulating_loop(cnn, batch):
    net = copy.deepcopy(cnn).train()
    history: dict[str, list[np.ndarray]] = {}
    net.zero_grad()
    for part in range(2):  # gradients are deliberately not reset between parts, as officially
        sl = slice(part * 5, (part + 1) * 5)
        F.cross_entropy(net(batch.inputs[sl]), batch.targets[sl]).backward()
        for name, m in net.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                history.setdefault(name, []).append(m.weight.grad.reshape(-1).numpy().astype(np.float64).copy())
    oracle = 0.0
    for grads in history.values():
        g = np.array(grads)
        std = np.std(g, axis=0)
        nz = np.nonzero(std)[0]
        s = np.sum(np.mean(np.abs(g), axis=0)[nz] / std[nz])
        if s != 0:
            oracle += np.log(s)
    assert _score("zico", cnn, batch) == pytest.approx(oracle, rel=1e-4)


def test_meco_matches_the_official_general_eigen_solver(cnn, batch):
    torch.manual_seed(5)
    x = torch.randn(1, 3, 64, 64)
    net = copy.deepcopy(cnn).train()
    values = []

    def hook(_m, _i, out):
        fea = out[0].detach()
        fea = fea.reshape(fea.shape[0], -1)
        corr = torch.corrcoef(fea.double()) if fea.shape[1] > 1 else torch.zeros(fea.shape[0], fea.shape[0])
        corr[torch.isnan(corr)] = 0
        values.append(float(torch.min(torch.real(torch.linalg.eig(corr)[0]))))

    for m in net.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        net(x)
    assert _score("meco", cnn, batch, seed=5) == pytest.approx(sum(values), rel=1e-6, abs=1e-9)


def test_zen_matches_the_official_steps(cnn, batch):
    torch.manual_seed(2)
    net = copy.deepcopy(cnn).train()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        x, e = torch.randn(batch.inputs.shape), torch.randn(batch.inputs.shape)
        pre_gap = nn.Sequential(*list(net.features)[:-2])
        dispersion = (pre_gap(x) - pre_gap(x + 0.01 * e)).abs().sum((1, 2, 3)).mean()
    oracle = math.log(float(dispersion)) + sum(
        math.log(math.sqrt(float(m.running_var.mean()))) for m in net.modules() if isinstance(m, nn.BatchNorm2d)
    )
    assert _score("zen", cnn, batch, seed=2) == pytest.approx(oracle, rel=1e-5)


@pytest.mark.parametrize("columns", [5, 62, 63, 300])
def test_unique_row_count_matches_a_python_set(columns):
    generator = torch.Generator().manual_seed(columns)
    codes = torch.rand((400, columns), generator=generator) < 0.5
    codes[200:] = codes[:200]  # guarantee duplicates
    codes[:, : columns // 2] = codes[:, : columns // 2] & (torch.rand(400, columns // 2, generator=generator) < 0.05)
    assert count_unique_rows(codes) == len({tuple(row) for row in codes.tolist()})


def test_linear_regions_counts_patterns_of_the_te_nas_thin_network(batch):
    torch.manual_seed(0)
    model = nb201.build(MIXED_CELL)
    thin = model.linear_region_network()
    relus = [m for m in thin.modules() if isinstance(m, nn.ReLU)]
    assert sum(p.numel() for p in thin.parameters()) < 50 and len(relus) == 4  # 3 conv ops + head
    count = _score("linear_regions", model, batch, linear_regions={"samples": 500})
    assert 1 <= count <= 500 and count == int(count)


def test_swap_counts_distinct_unit_patterns_averaged_over_initialisations(cnn, batch):
    single = _score("swap", cnn, batch, swap={"repeats": 1})
    torch.manual_seed(0)
    net = copy.deepcopy(cnn).train()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    outputs = []
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda _m, i, o: outputs.append(o.reshape(len(o), -1)))
    with torch.no_grad():
        net(batch.inputs)
    patterns = torch.cat(outputs, 1).T > 0
    assert single == len({tuple(row) for row in patterns.tolist()})


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet16"])
def test_params_and_flops_equal_the_table_for_a_sample_of_cells(dataset, table):
    classes = zeronas.data.NUM_CLASSES[dataset]
    size = 16 if dataset == "imagenet16" else 32
    inputs = torch.zeros(2, 3, size, size)
    rng = np.random.default_rng(7)
    for index in rng.choice(len(table), 12, replace=False):
        model = nb201.build(table.arch_str[index], num_classes=classes)
        scores = zeronas.score(model, inputs, None, ["params", "flops"])
        assert scores["params"] == pytest.approx(table.column(f"params_M_{dataset}")[index], abs=5e-7)
        assert scores["flops"] == pytest.approx(table.column(f"flops_M_{dataset}")[index], abs=5e-7)


def test_proxies_of_every_family_run_on_an_mlp():
    torch.manual_seed(0)
    model = MLP()
    b = zeronas.data.load_batch("cifar10", batch_size=8, seed=0)
    results = zeronas.score_detailed(model, b.inputs, b.targets, ["linear_regions", "swap", "flops", "meco"])
    assert all(r.status == "ok" for r in results.values()), results
    assert results["flops"].value == pytest.approx((3072 * 32 + 32 + 32 * 10) / 1e6)
