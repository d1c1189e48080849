from __future__ import annotations

import numpy as np
import pytest
import torch

from zeronas.data import ENV_VAR, load_batch, load_images, load_nb201_table, resolve_data_dir
from zeronas.data import get_dataset
from zeronas.data.paths import data_file, default_data_dir
from zeronas.errors import DataNotFoundError, ZeronasUserError


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_data_dir() == default_data_dir()
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    monkeypatch.setenv(ENV_VAR, str(env_dir))
    assert resolve_data_dir() == env_dir
    flag_dir = tmp_path / "flag"
    flag_dir.mkdir()
    assert resolve_data_dir(flag_dir) == flag_dir


def test_missing_data_dir_and_file_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError) as info:
        load_nb201_table()
    message = str(info.value)
    assert "nowhere" in message and ENV_VAR in message and "--data-dir" in message and "\n" not in message
    with pytest.raises(DataNotFoundError, match="nasbench201/nb201_ground_truth.csv.gz"):
        data_file("nasbench201/nb201_ground_truth.csv.gz", tmp_path)


def test_ground_truth_table_matches_the_published_checks(table):
    assert len(table) == 15625
    # Maxima recorded in the data's own sanity checks.
    for column, best, index in (
        ("cifar10_test_acc", 94.373, 6111),
        ("cifar100_test_acc", 73.513, 9930),
        ("imagenet16_test_acc", 47.311, 857),
    ):
        values = table.column(column)
        assert int(np.argmax(values)) == index
        assert values.max() == pytest.approx(best, abs=1e-3)
    with pytest.raises(ZeronasUserError, match="unknown NAS-Bench-201 column"):
        table.column("accuracy")


def test_batches_are_normalised_seeded_and_labelled():
    images, labels = load_images("cifar10")
    batch = load_batch("cifar10", batch_size=64, seed=3, normalization="nb201")
    again = load_batch("cifar10", batch_size=64, seed=3, normalization="nb201")
    other = load_batch("cifar10", batch_size=64, seed=4, normalization="nb201")
    assert batch.inputs.shape == (64, 3, 32, 32) and batch.inputs.dtype == torch.float32
    assert torch.equal(batch.inputs, again.inputs) and batch.digest == again.digest
    assert batch.digest != other.digest
    # Undo the normalisation by hand and find the raw images among the originals.
    mean, std = (np.array(v, dtype=np.float32) for v in get_dataset("cifar10").normalization("nb201"))
    raw = batch.inputs.numpy().transpose(0, 2, 3, 1) * std + mean
    index = np.random.default_rng(3).choice(len(images), size=64, replace=False)
    np.testing.assert_allclose(raw, images[np.sort(index)], atol=1e-3)
    assert torch.equal(batch.targets, torch.from_numpy(labels[np.sort(index)]))


def test_augmentation_crops_and_flips_within_the_padding():
    plain = load_batch("cifar10", batch_size=32, seed=1, normalization="nb201")
    augmented = load_batch("cifar10", batch_size=32, seed=1, normalization="nb201", augment=True)
    assert augmented.inputs.shape == plain.inputs.shape
    assert not torch.equal(plain.inputs, augmented.inputs)
    assert torch.equal(plain.targets, augmented.targets)


def test_imagenet16_batch_is_limited_to_the_images_available():
    with pytest.warns(UserWarning, match="only 120 images"):
        batch = load_batch("imagenet16", batch_size=256, seed=0)
    assert batch.inputs.shape == (120, 3, 16, 16) and batch.num_classes == 120


def test_bad_batch_arguments():
    with pytest.raises(ZeronasUserError, match="unknown dataset"):
        load_batch("mnist", batch_size=4)
    with pytest.raises(ZeronasUserError, match="batch_size"):
        load_batch("cifar10", batch_size=0)
    with pytest.raises(ZeronasUserError, match="unknown normalization"):
        load_batch("cifar10", batch_size=4, normalization="imagenet")
