"""Finding the data directory: ``--data-dir``, then ``$ZERONAS_DATA``, then ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

from zeronas.errors import DataNotFoundError

ENV_VAR = "ZERONAS_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir() -> Path:
    """``shared/data`` beside the repository checkout."""
    return _REPO_ROOT.parent / "shared" / "data"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory to read: the argument, else ``$ZERONAS_DATA``, else the default."""
    if data_dir is not None:
        source, path = "--data-dir", Path(data_dir)
    elif os.environ.get(ENV_VAR):
        source, path = f"${ENV_VAR}", Path(os.environ[ENV_VAR])
    else:
        source, path = "the default", default_data_dir()
    if not path.is_dir():
        raise DataNotFoundError(
            f"data directory {str(path)!r} (from {source}) does not exist; "
            f"pass --data-dir or set {ENV_VAR} to the folder holding nasbench201/ and cifar10/"
        )
    return path


def data_file(relative: str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of one file inside the data directory; a one-line error names it if missing."""
    root = resolve_data_dir(data_dir)
    path = root / relative
    if not path.is_file():
        raise DataNotFoundError(
            f"missing data file {str(path)!r}; pass --data-dir or set {ENV_VAR} to a data directory that has {relative}"
        )
    return path
