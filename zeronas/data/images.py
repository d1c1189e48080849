"""Image batches from the data directory, normalised the way each paper's code does it."""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from zeronas.data.nb201_table import check_dataset
from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError

IMAGE_FILES = {
    "cifar10": "cifar10/cifar10_train4000.npz",
    # Only test images exist here in quantity; they serve as the (untrained-on) proxy minibatch.
    "cifar100": "cifar100/cifar100_test2000_balanced.npz",
    "imagenet16": "imagenet16_120/imagenet16_120_onepercls_16x16.npz",
}
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet16": 120}

_IMAGENET16 = ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09))
# Per-channel (mean, std) on the 0..255 scale.
NORMALIZATIONS: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    # NAS-Bench-201 / xautodl training code, used by epsinas.
    "nb201": {
        "cifar10": ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
        "cifar100": ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
        "imagenet16": _IMAGENET16,
    },
    # zero-cost-nas loaders, used by GradSign (the same values for CIFAR-10 and CIFAR-100).
    "zero_cost_nas": {
        "cifar10": ((125.307, 122.961, 113.8575), (51.5865, 50.847, 51.255)),
        "cifar100": ((125.307, 122.961, 113.8575), (51.5865, 50.847, 51.255)),
        "imagenet16": _IMAGENET16,
    },
}


@dataclass(frozen=True)
class ImageBatch:
    """A normalised NCHW float32 batch with labels and a digest that identifies it."""

    inputs: torch.Tensor
    targets: torch.Tensor
    dataset: str
    digest: str

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES[self.dataset]


@lru_cache(maxsize=4)
def _load_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return archive["images"], archive["labels"].astype(np.int64)


def load_images(dataset: str, data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All images (N, H, W, 3) uint8 RGB and labels (N,) int64 available for ``dataset``."""
    check_dataset(dataset)
    return _load_npz(str(data_file(IMAGE_FILES[dataset], data_dir)))


def load_batch(
    dataset: str,
    *,
    batch_size: int,
    seed: int = 0,
    normalization: str = "nb201",
    augment: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
) -> ImageBatch:
    """Draw ``batch_size`` images without replacement (seeded) and normalise them.

    ``augment=True`` applies the training augmentation of the NAS-Bench-201 code (random crop
    with zero padding 4, or 2 for 16x16 images, and a random horizontal flip), seeded too.
    """
    if batch_size < 1:
        raise ZeronasUserError(f"batch_size must be >= 1, got {batch_size}")
    if normalization not in NORMALIZATIONS:
        raise ZeronasUserError(f"unknown normalization {normalization!r}; choose from {', '.join(NORMALIZATIONS)}")
    images, labels = load_images(dataset, data_dir)
    if batch_size > len(images):
        warnings.warn(
            f"{dataset}: only {len(images)} images are available, using a batch of {len(images)} "
            f"instead of {batch_size}",
            stacklevel=2,
        )
        batch_size = len(images)
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(images), size=batch_size, replace=False))
    pixels = images[index].astype(np.float32)
    if augment:
        pixels = _augment(pixels, rng)
    mean, std = (np.asarray(v, dtype=np.float32) for v in NORMALIZATIONS[normalization][dataset])
    pixels = (pixels - mean) / std
    inputs = torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))
    digest = hashlib.sha256(
        f"{dataset}|{normalization}|{augment}|{seed}|".encode() + index.tobytes()
    ).hexdigest()[:16]
    return ImageBatch(inputs=inputs, targets=torch.from_numpy(labels[index]), dataset=dataset, digest=digest)


def _augment(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n, h, w, _ = pixels.shape
    pad = 4 if h >= 32 else 2
    padded = np.pad(pixels, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    offsets = rng.integers(0, 2 * pad + 1, size=(n, 2))
    flips = rng.random(n) < 0.5
    out = np.empty_like(pixels)
    for i, ((dy, dx), flip) in enumerate(zip(offsets, flips, strict=True)):
        crop = padded[i, dy : dy + h, dx : dx + w]
        out[i] = crop[:, ::-1] if flip else crop
    return out
