"""Dataset specs: one registry of the image datasets proxies draw their batches from.

A spec names the dataset, its classes and input shape, the image file inside the data
directory, and the per-channel normalisations each paper's code applies. Adding a dataset
is one :func:`register_dataset` call here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from zeronas._registry import Registry
from zeronas.errors import ZeronasUserError

Normalization = tuple[tuple[float, float, float], tuple[float, float, float]]  # (mean, std), 0..255 scale


@dataclass(frozen=True)
class DatasetSpec:
    """An image classification dataset as zeronas uses it.

    ``input_shape`` is (channels, height, width); ``normalizations`` maps a normalisation name
    (``"nb201"``: NAS-Bench-201/xautodl training code; ``"zero_cost_nas"``: the zero-cost-nas
    loaders) to per-channel (mean, std) on the 0..255 pixel scale.
    """

    name: str
    num_classes: int
    input_shape: tuple[int, int, int]
    image_file: str
    normalizations: Mapping[str, Normalization] = field(default_factory=dict)
    description: str = ""

    def normalization(self, name: str) -> Normalization:
        try:
            return self.normalizations[name]
        except KeyError:
            raise ZeronasUserError(
                f"unknown normalization {name!r} for dataset {self.name!r}; choose from {', '.join(self.normalizations)}"
            ) from None


_DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    return _DATASETS.add(spec.name, spec)


def list_datasets() -> list[str]:
    """Registered dataset names, in registration order."""
    return _DATASETS.names()


def get_dataset(name: str | DatasetSpec) -> DatasetSpec:
    """The spec of dataset ``name`` (a spec passes through)."""
    return name if isinstance(name, DatasetSpec) else _DATASETS.get(name)


_ZERO_COST_NAS_CIFAR: Normalization = ((125.307, 122.961, 113.8575), (51.5865, 50.847, 51.255))
_IMAGENET16: Normalization = ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09))

register_dataset(DatasetSpec(
    name="cifar10", num_classes=10, input_shape=(3, 32, 32), image_file="cifar10/cifar10_train4000.npz",
    normalizations={"nb201": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)), "zero_cost_nas": _ZERO_COST_NAS_CIFAR},
    description="CIFAR-10, first 4,000 training images",
))
register_dataset(DatasetSpec(
    name="cifar100", num_classes=100, input_shape=(3, 32, 32),
    # Only test images exist here in quantity; they serve as the (untrained-on) proxy minibatch.
    image_file="cifar100/cifar100_test2000_balanced.npz",
    # zero-cost-nas uses its CIFAR-10 constants for CIFAR-100 too.
    normalizations={"nb201": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)), "zero_cost_nas": _ZERO_COST_NAS_CIFAR},
    description="CIFAR-100, 2,000 test images (20 per class)",
))
register_dataset(DatasetSpec(
    name="imagenet16", num_classes=120, input_shape=(3, 16, 16),
    image_file="imagenet16_120/imagenet16_120_onepercls_16x16.npz",
    normalizations={"nb201": _IMAGENET16, "zero_cost_nas": _IMAGENET16},
    description="ImageNet16-120 stand-in: one 16x16 image per class (120)",
))
