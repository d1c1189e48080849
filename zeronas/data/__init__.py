"""Finding the data directory, dataset specs, image batches and ground-truth tables."""

from zeronas.data.datasets import DatasetSpec, get_dataset, list_datasets, register_dataset
from zeronas.data.images import ImageBatch, load_batch, load_images
from zeronas.data.nb201_table import NB201Table, load_nb201_table
from zeronas.data.paths import ENV_VAR, resolve_data_dir

__all__ = [
    "ENV_VAR",
    "DatasetSpec",
    "ImageBatch",
    "NB201Table",
    "get_dataset",
    "list_datasets",
    "load_batch",
    "load_images",
    "load_nb201_table",
    "register_dataset",
    "resolve_data_dir",
]
