"""The published-values table names real proxies and reads per dataset."""

from __future__ import annotations

import zeronas
from zeronas.experiments import PUBLISHED, published


def test_every_entry_is_a_registered_proxy_or_the_ensemble():
    names = set(zeronas.list_proxies()) | {"ensemble"}
    assert set(PUBLISHED) <= names
    for entry in PUBLISHED.values():
        assert entry.source and any(entry.value(d) is not None for d in ("cifar10", "cifar100", "imagenet16"))


def test_lookup_by_dataset():
    assert published("gradsign", "cifar100")[0] == 0.793
    assert published("flops", "imagenet16")[0] is None
    assert published("plain", "cifar10") == (None, "", "")


def test_cifar10_valid_target_is_stated_only_for_cifar10():
    assert "cifar10-valid" in published("synflow", "cifar10")[2]
    assert "cifar10-valid" not in published("synflow", "cifar100")[2]
    assert "cifar10-valid" not in published("epsinas", "cifar10")[2]  # epsinas used the ori-test accuracy
