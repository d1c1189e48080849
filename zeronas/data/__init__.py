"""Finding the data directory and loading image batches and ground-truth tables."""

from zeronas.data.images import NUM_CLASSES, ImageBatch, load_batch, load_images
from zeronas.data.nb201_table import DATASETS, NB201Table, accuracy_column, load_nb201_table
from zeronas.data.paths import ENV_VAR, resolve_data_dir

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "NUM_CLASSES",
    "ImageBatch",
    "NB201Table",
    "accuracy_column",
    "load_batch",
    "load_images",
    "load_nb201_table",
    "resolve_data_dir",
]
