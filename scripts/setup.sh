#!/usr/bin/env bash
# Create .venv and install zeronas with its test dependencies, Ray and Optuna (CPU-only PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="2.13.0"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# pip's output without one harmless notice; a pip failure stops the set-up (pipefail), while
# grep finding no line to print (status 1) does not.
pip_install() {
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || [ $? = 1 ]; }
}
# First the CPU wheel of torch: pip takes it from the machine's local wheels (find-links), and
# pyproject.toml's torch range accepts it, so the next step installs no other torch. Asked for
# bare, the range would pull a multi-GB CUDA build.
pip_install "torch==${TORCH_VERSION}"
pip_install -e '.[test,ray,search]'
.venv/bin/python -c "import torch, zeronas; assert not torch.version.cuda, 'a CUDA build of torch was installed'; print('zeronas', zeronas.__version__, 'with torch', torch.__version__)"
