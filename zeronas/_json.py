"""Strict JSON for results: NaN and infinities become null, so any JSON reader accepts the file."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float, however nested in dicts and lists, replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON text of ``value`` (non-finite floats as null)."""
    return json.dumps(finite_or_null(value), allow_nan=False, **options)
