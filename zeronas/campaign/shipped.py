"""The score tables shipped with zeronas (``zeronas/tables``), computed by campaigns of this code."""

from __future__ import annotations

from pathlib import Path


def shipped_dir() -> Path:
    """The folder of the shipped Parquet tables and their README."""
    return Path(__file__).resolve().parent.parent / "tables"
