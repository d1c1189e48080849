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
from tests.conftest import MIXED_CELL, MLP, SmallCNN
from tests.proxies.oracles import snip_by_mask_gradient
from zeronas.proxies._activations import count_unique_rows
from zeronas.spaces import nb201


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
    oracle = snip_by_mask_gradient(cnn, batch.inputs, batch.targets)
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


def _fisher_channel_saliencies(model, batch):
    """Per layer: (weight shape, F_k = 0.5 * mean_n g_nk^2), g_nk from one backward per sample.

    For a bias-free Linear layer, the row sum of W * dL_n/dW equals a_nk * dL/da_nk for sample n,
    so g_nk is read off weight gradients, not off the activations the proxy hooks.
    """
    n = len(batch.inputs)
    layers = []
    for layer_index in (1, 3):
        per_sample = []
        for i in range(n):
            net = copy.deepcopy(model)
            loss = F.cross_entropy(net(batch.inputs), batch.targets, reduction="none")[i] / n
            (g,) = torch.autograd.grad(loss, [net[layer_index].weight])
            per_sample.append((net[layer_index].weight.detach() * g).sum(1))
        g_nk = torch.stack(per_sample).double()
        layers.append((model[layer_index].weight.shape, 0.5 * g_nk.pow(2).mean(0)))
    return layers


def test_fisher_matches_per_sample_weight_saliencies(batch):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 12, bias=False), nn.ReLU(), nn.Linear(12, 10, bias=False))
    layers = _fisher_channel_saliencies(model, batch)
    channel = sum(float(f.sum()) for _, f in layers)
    # zero-cost-nas fills each channel's F_k into a tensor of the shape of that channel's weights
    # (p_utils.reshape_elements) and sums every element (find_measures).
    official = sum(
        float(torch.stack([torch.full(shape[1:], float(v), dtype=torch.float64) for v in f]).sum())
        for shape, f in layers
    )
    assert official > 100 * channel
    assert _score("fisher", model, batch) == pytest.approx(official, rel=1e-4)
    assert _score("fisher", model, batch, fisher={"reduction": "channel"}) == pytest.approx(channel, rel=1e-4)


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


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / math.sqrt(float(a @ a) * float(b @ b)))


def _epe_nas_by_explicit_loops(jacob: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """NASLib ``eval_score_perclass``, written out: class by class, pair by pair.

    A class seen once gives a 0-d corrcoef: with more than 100 outputs its ``len()`` raises and
    the official ``except`` skips the class; otherwise its score is log(1 + 1e-5).
    """
    many = n_classes > 100
    per_class = {}
    for c in sorted(set(labels.tolist())):
        rows = [jacob[i] for i in range(len(labels)) if labels[i] == c]
        if len(rows) == 1:
            if not many:
                per_class[c] = math.log(1.0 + 1e-5)
            continue
        s = 0.0
        for a in rows:
            for b in rows:
                s += math.log(abs(_pearson(a, b)) + 1e-5)
        per_class[c] = s / len(rows) if many else s
    if not many:
        return sum(abs(v) for v in per_class.values())
    score = 0.0
    for ci in per_class:
        for cj in per_class:
            score += abs(per_class[ci] - per_class[cj])
    return score / len(per_class) if per_class else 0.0


@pytest.mark.parametrize("n_classes", [100, 101, 120])
def test_epe_nas_many_class_branch_matches_an_explicit_loop(n_classes):
    # 20 classes seen 3 times, 2 seen twice, 4 seen once, scattered over the label range.
    rng = np.random.default_rng(n_classes)
    classes = rng.choice(n_classes, size=26, replace=False)
    labels = np.concatenate([np.repeat(classes[:20], 3), np.repeat(classes[20:22], 2), classes[22:]])
    labels = labels[rng.permutation(len(labels))].astype(np.int64)
    torch.manual_seed(n_classes)
    model = SmallCNN(classes=n_classes)
    x = torch.randn(len(labels), 3, 16, 16)
    y = torch.from_numpy(labels)
    jacob, outputs = _official_jacobian(model, types.SimpleNamespace(inputs=x))
    assert outputs == n_classes
    oracle = _epe_nas_by_explicit_loops(jacob, labels, n_classes)
    other_branch = _epe_nas_by_explicit_loops(jacob, labels, 100 if n_classes > 100 else 101)
    assert oracle != pytest.approx(other_branch, rel=1e-3)  # the two branches really differ here
    assert zeronas.get_proxy("epe_nas").compute(model, x, y) == pytest.approx(oracle, rel=1e-5)
    assert zeronas.score(model, x, y, ["epe_nas"])["epe_nas"] == pytest.approx(oracle, rel=1e-5)


def test_epe_nas_is_zero_when_every_class_is_seen_once_with_many_classes():
    # The ImageNet16-120 stand-in has one image per class: the official many-class branch then
    # skips every class and scores every network 0.
    torch.manual_seed(0)
    model = SmallCNN(classes=120)
    x, y = torch.randn(30, 3, 16, 16), torch.arange(30) * 4
    assert zeronas.get_proxy("epe_nas").compute(model, x, y) == 0.0
    assert _epe_nas_by_explicit_loops(_official_jacobian(model, types.SimpleNamespace(inputs=x))[0], y.numpy(), 120) == 0.0


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


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (40, 3001)])
@pytest.mark.parametrize("int8_product", [True, False])
def test_naswot_hamming_kernel_counts_agreements_exactly(shape, int8_product, monkeypatch):
    # The oracle counts, for each pair of samples, the units with equal codes one by one. The
    # int8 product and the float32 fallback (taken where the int8 kernel is unavailable) agree.
    from zeronas.proxies.naswot import hamming_kernel

    calls = []
    if int8_product:
        product = torch._int_mm
        monkeypatch.setattr(torch, "_int_mm", lambda a, b: calls.append(1) or product(a, b))
    else:
        monkeypatch.delattr(torch, "_int_mm")
    codes = torch.rand(shape, generator=torch.Generator().manual_seed(0)) > 0.3
    c = codes.numpy()
    expected = np.array([[np.sum(a == b) for b in c] for a in c], dtype=np.float64)
    kernel = hamming_kernel(codes)
    assert kernel.dtype == torch.float64
    assert np.array_equal(kernel.numpy(), expected)
    assert calls == ([1] if int8_product else [])


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


def _pointwise_net(widths, *, seed=0):
    """An MLP made of 1x1 convolutions on (N, d, 1, 1) inputs, so its ReLUs see 4-D tensors as
    the TE-NAS counter requires; not a NAS-Bench-201 network (no thin variant)."""
    torch.manual_seed(seed)
    layers = []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Conv2d(w_in, w_out, 1))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _regions(model, inputs, **options):
    return _score("linear_regions", model, types.SimpleNamespace(inputs=inputs, targets=None), **options)


def test_linear_regions_of_a_one_d_net_with_hand_placed_kinks():
    # Units relu(x - j), j = 1..8: kinks at 1..8. Inputs 0.05, 0.15, ..., 5.45 visit the six
    # intervals (0,1), (1,2), (2,3), (3,4), (4,5), (5,5.45): six linear regions.
    model = _pointwise_net((1, 8, 1))
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.copy_(-torch.arange(1.0, 9.0))
    x = (0.05 + 0.1 * torch.arange(55.0)).reshape(-1, 1, 1, 1)
    assert _regions(model, x, linear_regions={"init": "model"}) == 6
    assert _regions(model, x[:10], linear_regions={"init": "model"}) == 1  # all below the first kink
    assert _regions(model, x[5:16], linear_regions={"init": "model"}) == 2  # 0.55 .. 1.55


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_regions_of_a_one_d_net_equal_the_intervals_between_its_kinks(seed):
    # One hidden ReLU layer on a scalar input: unit j switches at t_j = -b_j / w_j, so two inputs
    # share a pattern exactly when no kink lies between them. Count the kink intervals visited.
    model = _pointwise_net((1, 16, 3), seed=seed)
    x = torch.randn(300, generator=torch.Generator().manual_seed(seed)) * 2
    w, b = model[0].weight.detach().reshape(-1).double(), model[0].bias.detach().double()
    kinks = np.sort((-b / w).numpy())
    visited = len(np.unique(np.searchsorted(kinks, x.double().numpy())))
    assert 3 < visited
    assert _regions(model, x.reshape(-1, 1, 1, 1), linear_regions={"init": "model"}) == visited
    # TE-NAS's Kaiming re-initialisation zeroes the biases: every kink moves to 0.
    assert _regions(model, x.reshape(-1, 1, 1, 1)) == 2
    assert _regions(model, x.abs().reshape(-1, 1, 1, 1) + 0.1) == 1


def test_linear_regions_of_a_two_layer_net_match_a_per_sample_python_loop():
    model = _pointwise_net((2, 6, 5, 3), seed=4)
    x = torch.rand(400, 2, generator=torch.Generator().manual_seed(4)) * 6 - 3
    w1, b1 = model[0].weight.detach().reshape(6, 2).tolist(), model[0].bias.detach().tolist()
    w2, b2 = model[2].weight.detach().reshape(5, 6).tolist(), model[2].bias.detach().tolist()
    patterns = set()
    for point in x.tolist():
        h1 = [sum(w * p for w, p in zip(row, point)) + b for row, b in zip(w1, b1)]
        a1 = [max(v, 0.0) for v in h1]
        h2 = [sum(w * a for w, a in zip(row, a1)) + b for row, b in zip(w2, b2)]
        patterns.add(tuple(v > 0 for v in h1) + tuple(v > 0 for v in h2))
    assert 3 < len(patterns) < 200  # 6 lines cut the plane into at most 22 regions, then 5 folds
    assert _regions(model, x.reshape(-1, 2, 1, 1), linear_regions={"init": "model"}) == len(patterns)


def test_linear_regions_on_an_nb201_thin_network_match_a_per_sample_loop(batch):
    # The thin TE-NAS network of a cell, given directly (so counted on the inputs as given), on
    # 3x3 single-channel crops picked here. Its BatchNorms normalise with batch statistics, so
    # the per-sample loop first records them, then runs each crop alone in eval mode with them.
    torch.manual_seed(3)
    thin = nb201.build(MIXED_CELL).linear_region_network()
    rng = np.random.default_rng(3)
    images = batch.inputs.numpy()
    crops = np.stack([
        images[rng.integers(len(images)), rng.integers(3)][top : top + 3, left : left + 3]
        for top, left in rng.integers(0, 30, size=(600, 2))
    ])[:, None]
    crops = torch.from_numpy(np.ascontiguousarray(crops))

    stats = {}
    recorder = copy.deepcopy(thin).train()
    for name, m in recorder.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            m.register_forward_hook(lambda m, i, o, name=name: stats.__setitem__(
                name, (i[0].mean((0, 2, 3)), i[0].var((0, 2, 3), unbiased=False))))
    with torch.no_grad():
        recorder(crops)
    single = copy.deepcopy(thin).eval()
    for name, m in single.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(stats[name][0])
            m.running_var.copy_(stats[name][1])
    relu_inputs = []
    for m in single.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(lambda m, i, o: relu_inputs.append(i[0].detach().clone()))
    patterns = set()
    for k in range(len(crops)):
        relu_inputs.clear()
        with torch.no_grad():
            single(crops[k : k + 1])
        assert len(relu_inputs) == 4 and all(r.shape == (1, 1, 3, 3) for r in relu_inputs)
        patterns.add(tuple(bool(v > 0) for r in relu_inputs for v in r.reshape(-1)))
    assert 10 < len(patterns) < 600
    counted = _score("linear_regions", thin, types.SimpleNamespace(inputs=crops, targets=None),
                     linear_regions={"init": "model"})
    assert counted == len(patterns)


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
    classes = zeronas.data.get_dataset(dataset).num_classes
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
    assert all(results[k].status == "ok" for k in ("swap", "flops", "meco")), results
    # 8 samples through 32 ReLUs: each sample has its own pattern, a count that says nothing.
    assert results["linear_regions"].status == "nan"
    assert "every one of the 8 samples has its own activation pattern" in results["linear_regions"].reason
    assert results["flops"].value == pytest.approx((3072 * 32 + 32 + 32 * 10) / 1e6)
