"""zeronas.check_proxy: every registered proxy passes; broken proxies fail with the check named."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import zeronas
from zeronas.checks import ProxyCheckError, run_checks
from zeronas.proxies import Proxy


@pytest.mark.parametrize("name", zeronas.list_proxies())
def test_every_registered_proxy_passes_the_contract(name):
    results = zeronas.check_proxy(name)
    names = {r.name for r in results}
    assert {"nb201", "batchnorm1d", "functional_relu", "tuple_output", "no_parameters", "same_seed",
            "model_unchanged"} <= names
    assert ("non_finite_input" in names) == zeronas.get_proxy_class(name).needs_data


class MutatesTheModel(Proxy):
    """Zeroes the first weight it finds: scores the caller's model after changing it."""

    name = "mutates_the_model"

    def compute(self, model, inputs, targets):  # type: ignore[no-untyped-def]
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
                break
        with torch.no_grad():
            return float(model(inputs).abs().sum())


class FiniteOnNaN(Proxy):
    """The mean input magnitude with NaNs silently dropped: finite whatever the input holds."""

    name = "finite_on_nan"

    def compute(self, model, inputs, targets):  # type: ignore[no-untyped-def]
        return float(torch.nan_to_num(inputs).abs().mean())


class CountsReLUModules(Proxy):
    """Counts nn.ReLU calls by module hooks only: blind to functional ReLUs."""

    name = "counts_relu_modules"

    def compute(self, model, inputs, targets):  # type: ignore[no-untyped-def]
        calls = []
        hooks = [m.register_forward_hook(lambda *_: calls.append(1)) for m in model.modules() if isinstance(m, nn.ReLU)]
        with torch.no_grad():
            model(inputs)
        for h in hooks:
            h.remove()
        return float(len(calls))


@pytest.mark.parametrize(("proxy", "check", "detail"), [
    (MutatesTheModel(), "model_unchanged", "modified"),
    (FiniteOnNaN(), "non_finite_input", "ok "),
    (CountsReLUModules(), "functional_relu", "nn.ReLU: ok 2; functional: ok 0"),
])
def test_a_broken_proxy_fails_the_check_that_names_its_fault(proxy, check, detail):
    with pytest.raises(ProxyCheckError) as info:
        zeronas.check_proxy(proxy)
    message = str(info.value)
    assert message.startswith(f"check_proxy({proxy.key}) failed") and "\n" not in message
    assert f"{check}: " in message
    failed = {r.name: r.detail for r in run_checks(proxy) if not r.passed}
    assert check in failed and detail in failed[check]
