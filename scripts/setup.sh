#!/usr/bin/env bash
# Create .venv and install zeronas with its test dependencies (CPU-only PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# torch is pinned to 2.13.0 in pyproject.toml; its CPU wheel is used, never a CUDA build.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
.venv/bin/python -c "import torch, zeronas; assert not torch.version.cuda, 'a CUDA build of torch was installed'; print('zeronas', zeronas.__version__, 'with torch', torch.__version__)"
