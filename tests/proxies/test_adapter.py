"""Any nn.Module is scored or refused clearly: outputs, parameters, BatchNorm1d, functional ReLUs, bad values."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import zeronas
from zeronas.errors import ZeronasUserError
from zeronas.proxies import Proxy
from zeronas.proxies._per_sample import GradientConsumer, per_sample_gradients


def small_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 10))


class Wrapped(nn.Module):
    """The CNN above, returning its logits inside another structure."""

    def __init__(self, body: nn.Module, form: str) -> None:
        super().__init__()
        self.body, self.form = body, form

    def forward(self, x):  # type: ignore[no-untyped-def]
        logits = self.body(x)
        return {"tuple": (logits, x.mean()), "list": [x.mean(1), logits][::-1], "dict": {"aux": x, "logits": logits},
                "features": {"features": logits, "other": 3}, "string": "logits"}[self.form]


@pytest.fixture()
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    return torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))


PROXIES = ["gradsign", "gradalign", "grad_norm", "snip", "naswot", "jacob_cov", "synflow", "epsinas"]


@pytest.mark.parametrize("form", ["tuple", "list", "dict", "features"])
def test_structured_outputs_score_as_their_logits(form, batch):
    torch.manual_seed(1)
    body = small_cnn()
    plain = zeronas.score(body, *batch, PROXIES)
    wrapped = zeronas.score(Wrapped(body, form), *batch, PROXIES)
    assert all(math.isfinite(v) for v in plain.values()), plain
    for name in PROXIES:
        assert wrapped[name] == pytest.approx(plain[name], rel=1e-6), name


def test_output_fn_picks_the_logits_and_an_unusable_output_is_one_line(batch):
    torch.manual_seed(1)
    body = small_cnn()
    plain = zeronas.score(body, *batch, ["gradsign", "naswot"])
    picked = zeronas.score(Wrapped(body, "tuple"), *batch, ["gradsign", "naswot"], output_fn=lambda out: out[0])
    assert picked == pytest.approx(plain)
    with pytest.raises(ZeronasUserError, match="returns a str.*output_fn=") as info:
        zeronas.score(Wrapped(body, "string"), *batch, ["gradsign"])
    assert "\n" not in str(info.value)
    with pytest.raises(ZeronasUserError, match="output_fn returned a float"):
        zeronas.score(body, *batch, ["gradsign"], output_fn=lambda out: 1.0)


class NoParameters(nn.Module):
    def forward(self, x):  # type: ignore[no-untyped-def]
        return F.relu(x.flatten(1)[:, :10])


def test_a_model_without_parameters_has_nan_scores_with_a_reason_and_zero_params(batch):
    results = zeronas.score_detailed(NoParameters(), *batch, ["gradsign", "gradalign", "synflow", "params", "flops"])
    for name in ("gradsign", "gradalign", "synflow"):
        assert results[name].status == "nan" and math.isnan(results[name].value)
        assert results[name].reason == f"the model has no parameters; {name} needs weights"
    assert results["params"].value == 0
    assert results["flops"].value == pytest.approx(10 / 1e6)  # its one functional ReLU, on 10 values


class Raising(Proxy):
    name = "raising"

    def __init__(self, *, error: str = "KeyError") -> None:
        self.error = error

    def compute(self, model, inputs, targets):  # type: ignore[no-untyped-def]
        raise {"KeyError": KeyError("missing"), "TypeError": TypeError("bad type"), "IndexError": IndexError("out"),
               "StopIteration": StopIteration()}[self.error]


@pytest.mark.parametrize("error", ["KeyError", "TypeError", "IndexError", "StopIteration"])
def test_any_exception_inside_a_proxy_is_its_error_status_and_the_others_score(error, batch):
    results = zeronas.score_detailed(small_cnn(), *batch, [Raising(error=error), "params"])
    failed = next(r for k, r in results.items() if k.startswith("raising"))
    assert failed.status == "error" and math.isnan(failed.value)
    assert failed.reason.startswith(error)
    assert results["params"].status == "ok" and results["params"].value == pytest.approx(
        sum(p.numel() for p in small_cnn().parameters()) / 1e6)


@pytest.mark.parametrize("where", ["all", "one pixel", "inf"])
def test_non_finite_inputs_are_refused_before_any_proxy(where, batch):
    x, y = batch
    x = x.clone()
    if where == "all":
        x[:] = float("nan")
    elif where == "one pixel":
        x[3, 1, 2, 2] = float("nan")
    else:
        x[0, 0, 0, 0] = float("inf")
    with pytest.raises(ZeronasUserError, match="non-finite value") as info:
        zeronas.score(small_cnn(), x, y, ["gradsign", "gradalign_gram", "epsinas"])
    assert "\n" not in str(info.value)


def test_non_finite_values_inside_the_network_give_nan_with_a_reason(batch):
    torch.manual_seed(1)
    model = small_cnn()
    with torch.no_grad():
        model[0].weight[0, 0, 0, 0] = float("inf")  # finite inputs, non-finite activations and gradients
    results = zeronas.score_detailed(model, *batch, ["gradsign", "gradalign", "naswot"])
    assert results["gradsign"].status == results["gradalign"].status == "nan"
    assert "non-finite per-sample gradients" in results["gradsign"].reason
    assert results["naswot"].status == "nan" and "non-finite activations" in results["naswot"].reason
    assert all(math.isnan(r.value) for r in results.values())


class MLPBatchNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Linear(12, 6), nn.BatchNorm1d(6), nn.Linear(6, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


class Collect(GradientConsumer):
    def __init__(self) -> None:
        self.chunks: list[dict[str, torch.Tensor]] = []

    def update(self, grads):  # type: ignore[no-untyped-def]
        self.chunks.append({k: v.clone() for k, v in grads.items()})

    def result(self) -> float:
        return 0.0


def test_batchnorm1d_normalises_each_sample_with_the_batch_statistics():
    torch.manual_seed(0)
    model = MLPBatchNorm()
    with torch.no_grad():
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
    x, y = torch.randn(10, 12), torch.randint(0, 3, (10,))
    collect = Collect()
    per_sample_gradients(model, x, y, [collect], chunk_size=4)
    got = {k: torch.cat([c[k] for c in collect.chunks]) for k in collect.chunks[0]}
    # Oracle, by hand: the batch's biased statistics of fc1's output, held constant, one sample at a time.
    with torch.no_grad():
        h = model.fc1(x)
        mean, var = h.mean(0), h.var(0, unbiased=False)
    for i in range(len(x)):
        w1, b1 = model.fc1.weight.detach().clone().requires_grad_(), model.fc1.bias.detach()
        w2, b2 = model.fc2.weight.detach().clone().requires_grad_(), model.fc2.bias.detach()
        hidden = (x[i] @ w1.T + b1 - mean) / torch.sqrt(var + model.bn.eps) * model.bn.weight.detach() + model.bn.bias.detach()
        loss = F.cross_entropy((torch.relu(hidden) @ w2.T + b2)[None], y[i : i + 1])
        g1, g2 = torch.autograd.grad(loss, [w1, w2])
        assert torch.allclose(got["fc1.weight"][i], g1, atol=1e-6)
        assert torch.allclose(got["fc2.weight"][i], g2, atol=1e-6)
    assert model.training and model.bn.running_mean.abs().sum() == 0  # the caller's model untouched


def test_the_batchnorm_rule_is_stated_in_the_reason_and_meco_runs():
    torch.manual_seed(0)
    results = zeronas.score_detailed(MLPBatchNorm(), torch.randn(8, 12), torch.randint(0, 3, (8,)),
                                     ["gradsign", "gradalign_gram", "meco"])
    for result in results.values():
        assert result.status == "ok" and math.isfinite(result.value)
        assert "BatchNorm bn normalised each sample with the batch's statistics" in result.reason


class Block(nn.Module):
    def __init__(self, channels: int, functional: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1, self.bn2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.functional = functional

    def forward(self, x):  # type: ignore[no-untyped-def]
        if self.functional:
            out = torch.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(out)) + x)
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))) + x)


class ResNet(nn.Module):
    """A residual network written with nn.ReLU modules or, identically, with functional ReLUs."""

    def __init__(self, blocks: int, functional: bool, channels: int = 2) -> None:
        super().__init__()
        self.stem, self.bn = nn.Conv2d(1, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        self.stem_relu, self.functional = nn.ReLU(), functional
        self.blocks = nn.Sequential(*[Block(channels, functional) for _ in range(blocks)])
        self.head = nn.Linear(channels, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        x = self.bn(self.stem(x))
        x = x.relu() if self.functional else self.stem_relu(x)
        return self.head(self.blocks(x).mean((2, 3)))


@pytest.mark.parametrize("blocks", [1, 2])
@pytest.mark.parametrize(("proxy", "samples", "size", "channels"),
                         [("naswot", 16, 8, 4), ("swap", 16, 8, 4), ("linear_regions", 200, 2, 2)])
def test_functional_relus_score_as_their_module_twin(blocks, proxy, samples, size, channels):
    x = torch.randn(samples, 1, size, size, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (samples,), generator=torch.Generator().manual_seed(1))
    scores = {}
    for functional in (False, True):
        torch.manual_seed(0)
        scores[functional] = zeronas.score_detailed(ResNet(blocks, functional, channels), x, y, [proxy])[proxy]
    assert scores[False].status == "ok", scores[False]
    assert scores[True].value == scores[False].value
    if proxy == "linear_regions":  # a real count: below the number of samples
        assert 1 < scores[False].value < samples


def test_a_model_without_relu_has_no_activation_scores():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    results = zeronas.score_detailed(model, torch.randn(8, 12), torch.randint(0, 3, (8,)), ["naswot", "swap", "linear_regions"])
    for result in results.values():
        assert result.status == "nan" and "no ReLU" in result.reason
