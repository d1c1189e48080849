"""Published NAS-Bench-201 Spearman rho of each proxy, with its source and protocol.

Signed as the paper reports the proxy's own orientation (a lower-is-better proxy such as
``ntk`` is listed by the magnitude its source gives). ``None`` means not published for that
dataset. Protocol notes say how the published number was obtained, so that a report can
state what differs from its own measurement.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One published rho per dataset (cifar10, cifar100, imagenet16) and where it comes from."""

    cifar10: float | None
    cifar100: float | None
    imagenet16: float | None
    source: str
    protocol: str = "all 15,625 cells, 200-epoch test accuracy"

    def value(self, dataset: str) -> float | None:
        return getattr(self, dataset)


PUBLISHED: dict[str, Published] = {
    "gradsign": Published(0.765, 0.793, 0.783, "GradSign paper", "all cells, cifar10-valid test accuracy"),
    "epsinas": Published(0.87, None, None, "epsinas official notebook", "non-NaN cells only (about 41% NaN)"),
    "grad_norm": Published(0.63, None, None, "ZiCo Table 3"),
    "snip": Published(0.63, None, None, "ZiCo Table 3"),
    "grasp": Published(0.54, None, None, "ZiCo Table 3"),
    "fisher": Published(0.55, None, None, "ZiCo Table 3"),
    "synflow": Published(0.769, None, None, "APD Table 2"),
    "jacob_cov": Published(0.731, None, None, "zero-cost-nas notebook", "all cells, cifar10-valid test accuracy"),
    "naswot": Published(0.77, None, None, "ZiCo Table 3"),
    "ntk": Published(0.44, None, None, "ZiCo Table 3", "protocol not stated; magnitude of a lower-is-better score"),
    "zen": Published(0.38, None, None, "ZiCo Table 3", "undefined scores ranked worst (log 0 = -inf)"),
    "zico": Published(0.80, 0.81, 0.79, "ZiCo Table 3"),
    "meco": Published(0.89, 0.88, 0.85, "MeCo (third-party note)", "NATS-TSS; exact protocol unverified"),
    "swap": Published(0.810, 0.820, 0.774, "APD re-run of SWAP"),
    "params": Published(0.75, 0.73, 0.69, "ZiCo Table 3"),
    "flops": Published(0.73, None, None, "ZiCo Table 3"),
    "ensemble": Published(0.913, 0.900, 0.886, "AZ-NAS (strongest training-free ensemble)", "AZ-NAS's own members"),
}


def published(proxy: str, dataset: str) -> tuple[float | None, str, str]:
    """``(rho, source, protocol)`` for ``proxy`` on ``dataset``; rho is None where nothing is published."""
    entry = PUBLISHED.get(proxy)
    if entry is None:
        return None, "", ""
    return entry.value(dataset), entry.source, entry.protocol
