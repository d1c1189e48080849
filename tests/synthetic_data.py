"""A tiny synthetic data directory with the layout of the real one, for unit tests.

Image files follow the real files' format (see the data directory's README): ``images`` uint8
(N, H, W, 3) RGB, ``labels`` int64, ``class_names`` (a fixed-width unicode array, never an
object array) and ``source_index`` int64 (-1: not from an official set). Pixels are seeded
noise, so a test using them checks the plumbing (shapes, normalisation, seeding, digests), not
anything about real images.

No NAS-Bench-201 table is written: the table loader checks that ``arch_index`` is the row
order and the NB201 space enumerates all 15,625 cells from it, so a useful synthetic table
would have to be as large as the real one; tests of the table stay on the real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class SyntheticImages:
    """Where one dataset's file goes, and its size."""

    dataset: str
    relative_path: str
    count: int
    size: int
    classes: int


SYNTHETIC_IMAGES = (
    SyntheticImages("cifar10", "cifar10/cifar10_train4000.npz", count=64, size=32, classes=10),
    SyntheticImages("cifar100", "cifar100/cifar100_test2000_balanced.npz", count=200, size=32, classes=100),
    SyntheticImages("imagenet16", "imagenet16_120/imagenet16_120_onepercls_16x16.npz", count=120, size=16, classes=120),
)


def write_image_npz(
    path: Path,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    class_names: np.ndarray | None = None,
    source_index: np.ndarray | None = None,
) -> Path:
    """Write one image file in the real files' layout (uncompressed, as ``np.savez``)."""
    classes = int(labels.max()) + 1 if len(labels) else 0
    if class_names is None:
        class_names = np.array([f"class_{c:03d}" for c in range(classes)])
    if source_index is None:
        source_index = np.full(len(labels), -1, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, labels=labels, class_names=class_names, source_index=source_index)
    return path


def synthetic_images(spec: SyntheticImages, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded uint8 noise images and labels cycling through every class (shuffled)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(spec.count, spec.size, spec.size, 3), dtype=np.uint8)
    labels = rng.permutation(np.arange(spec.count, dtype=np.int64) % spec.classes)
    return images, labels


def write_synthetic_data(root: Path, seed: int = 0) -> Path:
    """Write every synthetic image file under ``root``; returns ``root``."""
    for k, spec in enumerate(SYNTHETIC_IMAGES):
        images, labels = synthetic_images(spec, seed + k)
        write_image_npz(root / spec.relative_path, images, labels)
    return root
