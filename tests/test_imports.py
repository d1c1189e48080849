"""Light layers stay light: the numpy-only evaluation layer loads without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["zeronas.evaluate.metrics", "zeronas.evaluate", "zeronas"])
def test_numpy_only_modules_do_not_import_torch(module):
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


def test_the_version_is_single_sourced():
    from importlib.metadata import version

    import zeronas

    assert zeronas.__version__ == version("zeronas")
