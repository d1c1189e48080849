"""Image loading and batches on the tiny synthetic data directory (tests/synthetic_data.py).

The normalisation constants below are the published ones, written out here rather than read
from zeronas: xautodl/NAS-Bench-201 (``get_datasets``: CIFAR-10 mean [125.3, 123.0, 113.9]/255,
std [63.0, 62.1, 66.7]/255; CIFAR-100 [129.3, 124.1, 112.4]/255, [68.2, 65.4, 70.4]/255;
ImageNet16 [122.68, 116.66, 104.01]/255, [63.22, 61.26, 65.09]/255) and zero-cost-nas
(``foresight/dataset.py``: the same ImageNet16 constants, and for every 'cifar' dataset mean
(0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010)), on the 0..255 scale.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from zeronas.data import load_batch, load_images
from zeronas.data.images import content_digest
from zeronas.data.paths import default_data_dir
from zeronas.errors import ZeronasUserError
from tests.synthetic_data import SYNTHETIC_IMAGES, write_image_npz

SPECS = {spec.dataset: spec for spec in SYNTHETIC_IMAGES}

PUBLISHED = {
    ("cifar10", "nb201"): ((125.3, 123.0, 113.9), (63.0, 62.1, 66.7)),
    ("cifar100", "nb201"): ((129.3, 124.1, 112.4), (68.2, 65.4, 70.4)),
    ("imagenet16", "nb201"): ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09)),
    ("cifar10", "zero_cost_nas"): (
        tuple(255 * v for v in (0.4914, 0.4822, 0.4465)), tuple(255 * v for v in (0.2023, 0.1994, 0.2010))
    ),
    ("cifar100", "zero_cost_nas"): (
        tuple(255 * v for v in (0.4914, 0.4822, 0.4465)), tuple(255 * v for v in (0.2023, 0.1994, 0.2010))
    ),
    ("imagenet16", "zero_cost_nas"): ((122.68, 116.66, 104.01), (63.22, 61.26, 65.09)),
}


def _copy_with(tmp_path, synthetic_data_dir, dataset, change):
    """A new data directory (new path: the loader caches by path) whose ``dataset`` file is changed."""
    root = tmp_path / "changed"
    shutil.copytree(synthetic_data_dir, root)
    spec = SPECS[dataset]
    with np.load(root / spec.relative_path, allow_pickle=False) as archive:
        contents = {key: archive[key] for key in archive.files}
    change(contents)
    np.savez(root / spec.relative_path, **contents)
    return root


def test_synthetic_files_have_the_layout_of_the_real_ones(synthetic_data_dir):
    real_root = default_data_dir()
    for spec in SYNTHETIC_IMAGES:
        with np.load(synthetic_data_dir / spec.relative_path, allow_pickle=False) as archive:
            fake = {key: archive[key] for key in archive.files}
        assert set(fake) == {"images", "labels", "class_names", "source_index"}
        assert fake["images"].dtype == np.uint8 and fake["images"].shape == (spec.count, spec.size, spec.size, 3)
        assert fake["labels"].dtype == np.int64 and sorted(set(fake["labels"].tolist())) == list(range(spec.classes))
        assert fake["class_names"].dtype.kind == "U" and len(fake["class_names"]) == spec.classes
        if not (real_root / spec.relative_path).is_file():
            continue
        with np.load(real_root / spec.relative_path, allow_pickle=False) as real:
            # The real ImageNet16 file has no source_index (it names its source files instead).
            for key in set(fake) & set(real.files):
                assert fake[key].dtype.kind == real[key].dtype.kind and fake[key].ndim == real[key].ndim, key
            assert fake["images"].shape[1:] == real["images"].shape[1:]
            assert len(real["class_names"]) == spec.classes


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet16"])
def test_batch_shapes_and_types(synthetic_data_dir, dataset):
    spec = SPECS[dataset]
    batch = load_batch(dataset, batch_size=16, seed=0, data_dir=synthetic_data_dir)
    assert batch.inputs.shape == (16, 3, spec.size, spec.size) and batch.inputs.dtype == torch.float32
    assert batch.inputs.is_contiguous()
    assert batch.targets.shape == (16,) and batch.targets.dtype == torch.int64
    assert batch.num_classes == spec.classes and batch.dataset == dataset
    images, labels = load_images(dataset, synthetic_data_dir)
    assert images.shape == (spec.count, spec.size, spec.size, 3) and labels.dtype == np.int64


def test_a_batch_larger_than_the_file_is_capped_with_a_warning(synthetic_data_dir):
    with pytest.warns(UserWarning, match="only 64 images"):
        batch = load_batch("cifar10", batch_size=100, seed=0, data_dir=synthetic_data_dir)
    assert len(batch.inputs) == 64


@pytest.mark.parametrize(("dataset", "normalization"), sorted(PUBLISHED))
def test_the_published_normalisation_is_applied(synthetic_data_dir, dataset, normalization):
    with np.load(synthetic_data_dir / SPECS[dataset].relative_path, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    mean, std = (np.array(v, dtype=np.float64) for v in PUBLISHED[dataset, normalization])
    batch = load_batch(dataset, batch_size=24, seed=5, normalization=normalization, data_dir=synthetic_data_dir)
    # Each batch image must be one of the originals, normalised with the published constants.
    expected = ((images.astype(np.float64) - mean) / std).transpose(0, 3, 1, 2)
    got = batch.inputs.numpy().astype(np.float64)
    distance = np.abs(got[:, None] - expected[None]).reshape(len(got), len(expected), -1).max(-1)
    match = distance.argmin(1)
    assert distance.min(1).max() < 1e-5  # float32 rounding of values of a few units
    assert len(set(match.tolist())) == len(got)  # drawn without replacement
    np.testing.assert_array_equal(batch.targets.numpy(), labels[match])


def test_seeded_draws_are_reproducible_and_differ_between_seeds(synthetic_data_dir):
    for augment in (False, True):
        first = load_batch("cifar100", batch_size=32, seed=11, augment=augment, data_dir=synthetic_data_dir)
        again = load_batch("cifar100", batch_size=32, seed=11, augment=augment, data_dir=synthetic_data_dir)
        other = load_batch("cifar100", batch_size=32, seed=12, augment=augment, data_dir=synthetic_data_dir)
        assert torch.equal(first.inputs, again.inputs) and torch.equal(first.targets, again.targets)
        assert first.digest == again.digest
        assert not torch.equal(first.inputs, other.inputs) and first.digest != other.digest


def test_digest_changes_when_one_pixel_changes(synthetic_data_dir, tmp_path):
    spec = SPECS["cifar10"]
    base = load_batch("cifar10", batch_size=spec.count, seed=0, data_dir=synthetic_data_dir)

    def bump_one_pixel(contents):
        contents["images"][17, 3, 5, 1] ^= 1

    changed_dir = _copy_with(tmp_path, synthetic_data_dir, "cifar10", bump_one_pixel)
    changed = load_batch("cifar10", batch_size=spec.count, seed=0, data_dir=changed_dir)
    assert int((base.inputs != changed.inputs).sum()) == 1  # the whole file is in the batch
    assert torch.equal(base.targets, changed.targets)
    assert changed.digest != base.digest


def test_digest_changes_when_a_label_changes(synthetic_data_dir, tmp_path):
    spec = SPECS["cifar10"]
    base = load_batch("cifar10", batch_size=spec.count, seed=0, data_dir=synthetic_data_dir)

    def relabel(contents):
        contents["labels"][3] = (contents["labels"][3] + 1) % spec.classes

    changed = load_batch("cifar10", batch_size=spec.count, seed=0, data_dir=_copy_with(tmp_path, synthetic_data_dir, "cifar10", relabel))
    assert torch.equal(base.inputs, changed.inputs) and changed.digest != base.digest


def test_digest_covers_the_normalisation_constants(synthetic_data_dir):
    batch = load_batch("cifar10", batch_size=8, seed=0, data_dir=synthetic_data_dir)
    inputs, targets = batch.inputs.numpy(), batch.targets.numpy()
    mean, std = (np.array(v, dtype=np.float32) for v in PUBLISHED["cifar10", "nb201"])
    reference = content_digest(inputs, targets, mean, std)
    assert reference == batch.digest
    assert content_digest(inputs.copy(), targets.copy(), mean.copy(), std.copy()) == reference
    assert content_digest(inputs, targets, mean + np.float32(0.5), std) != reference
    assert content_digest(inputs, targets, mean, std * np.float32(1.01)) != reference
    # Same pixels under another normalisation's name but equal constants: the same content.
    a = load_batch("imagenet16", batch_size=8, seed=0, normalization="nb201", data_dir=synthetic_data_dir)
    b = load_batch("imagenet16", batch_size=8, seed=0, normalization="zero_cost_nas", data_dir=synthetic_data_dir)
    assert torch.equal(a.inputs, b.inputs) and a.digest == b.digest


class _WritesAFileWhenUnpickled:
    """Unpickling this calls ``open(marker, "w")``: proof that a loader unpickled the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_an_object_array_is_never_unpickled(tmp_path):
    root = tmp_path / "pickled"
    marker = tmp_path / "unpickled.txt"
    images = np.empty(2, dtype=object)
    images[0], images[1] = _WritesAFileWhenUnpickled(marker), "x"
    write_image_npz(root / SPECS["cifar10"].relative_path, images, np.array([0, 1], dtype=np.int64))
    with pytest.raises(ValueError):  # ZeronasUserError is a ValueError too
        load_images("cifar10", root)
    with pytest.raises(ValueError):
        load_batch("cifar10", batch_size=2, data_dir=root)
    assert not marker.exists()
    # Control: the same file unpickles (and so runs the payload) when pickles are allowed.
    with np.load(root / SPECS["cifar10"].relative_path, allow_pickle=True) as archive:
        archive["images"][0].close()  # the payload's open() file
    assert marker.exists()


@pytest.mark.parametrize("broken", ["object_array", "missing_labels", "float_images"])
def test_an_unreadable_image_file_gets_a_one_line_user_error(tmp_path, broken):
    path = tmp_path / "bad" / SPECS["cifar10"].relative_path
    if broken == "object_array":
        write_image_npz(path, np.array([{"a": 1}, None], dtype=object), np.array([0, 1], dtype=np.int64))
    elif broken == "missing_labels":
        path.parent.mkdir(parents=True)
        np.savez(path, images=np.zeros((2, 32, 32, 3), np.uint8))
    else:
        write_image_npz(path, np.zeros((2, 32, 32, 3), np.float32), np.array([0, 1], dtype=np.int64))
    with pytest.raises(ZeronasUserError) as info:
        load_images("cifar10", tmp_path / "bad")
    assert "cifar10_train4000.npz" in str(info.value) and "\n" not in str(info.value)
