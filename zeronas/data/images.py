"""Image batches from the data directory, normalised the way each paper's code does it."""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from zeronas.data.datasets import get_dataset
from zeronas.data.paths import data_file
from zeronas.errors import ZeronasUserError


@dataclass(frozen=True)
class ImageBatch:
    """A normalised NCHW float32 batch with labels.

    ``digest`` identifies the content: a hash of the normalised pixels, the labels and the
    normalisation constants, so two batches share it only if every input value is equal.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    dataset: str
    digest: str
    # The identity older results files used (dataset, recipe, seed, drawn indices), kept so
    # that their scores are still found.
    legacy_digest: str = ""

    @property
    def num_classes(self) -> int:
        return get_dataset(self.dataset).num_classes


def _load_npz(path: str) -> tuple[np.ndarray, np.ndarray]:
    stat = os.stat(path)
    return _load_npz_cached(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_npz_cached(path: str, _mtime_ns: int, _size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one file; the cache key includes its time and size, so a replaced file is re-read."""
    hint = "restore it from the data release or point --data-dir elsewhere"
    try:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except (ValueError, KeyError, OSError, EOFError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZeronasUserError(f"image file {path!r} cannot be read safely ({reason}); {hint}") from None
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        raise ZeronasUserError(f"image file {path!r} holds {images.dtype} images of shape {images.shape}, "
                               f"expected uint8 (N, H, W, 3); {hint}")
    if labels.shape != (len(images),) or not np.issubdtype(labels.dtype, np.integer):
        raise ZeronasUserError(f"image file {path!r} has labels {labels.dtype} {labels.shape} for {len(images)} "
                               f"images; {hint}")
    return images, labels.astype(np.int64)


def load_images(dataset: str, data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All images (N, H, W, 3) uint8 RGB and labels (N,) int64 available for ``dataset``."""
    return _load_npz(str(data_file(get_dataset(dataset).image_file, data_dir)))


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
    mean, std = (np.asarray(v, dtype=np.float32) for v in get_dataset(dataset).normalization(normalization))
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
    pixels = (pixels - mean) / std
    inputs = np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))
    targets = np.ascontiguousarray(labels[index])
    digest = content_digest(inputs, targets, mean, std)
    legacy = hashlib.sha256(f"{dataset}|{normalization}|{augment}|{seed}|".encode() + index.tobytes()).hexdigest()[:16]
    return ImageBatch(inputs=torch.from_numpy(inputs), targets=torch.from_numpy(targets), dataset=dataset,
                      digest=digest, legacy_digest=legacy)


def content_digest(inputs: np.ndarray, targets: np.ndarray | None, mean: np.ndarray, std: np.ndarray) -> str:
    """16 hex digits of SHA-256 over the pixels, labels and normalisation constants."""
    h = hashlib.sha256()
    h.update(str(inputs.shape).encode())
    h.update(np.ascontiguousarray(inputs, dtype=np.float32).tobytes())
    if targets is not None:
        h.update(np.ascontiguousarray(targets, dtype=np.int64).tobytes())
    h.update(np.asarray(mean, dtype=np.float64).tobytes() + np.asarray(std, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


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
