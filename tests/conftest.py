"""Shared fixtures: real data from the data directory, a tiny synthetic one, small models, NB201 cells.

The test run uses one torch thread (the suite runs on 2 shared cores; several threads per
small op cost more than they gain), and so do the subprocesses tests start, through
``OMP_NUM_THREADS`` (set before torch is imported; an explicit setting is kept).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from tests.synthetic_data import write_synthetic_data  # noqa: E402
from zeronas.data import load_batch, load_nb201_table  # noqa: E402

torch.set_num_threads(1)

# A cell with every op type, one that disconnects the output, and a conv-heavy one.
MIXED_CELL = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
DEAD_CELL = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CONV_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


@pytest.fixture(scope="session")
def table():
    return load_nb201_table()


@pytest.fixture(scope="session")
def synthetic_data_dir(tmp_path_factory):
    """A data directory of small seeded image files laid out as the real ones (no NB201 table)."""
    return write_synthetic_data(tmp_path_factory.mktemp("synthetic_data"))


@pytest.fixture(scope="session")
def cifar_batch():
    return load_batch("cifar10", batch_size=16, seed=0, normalization="zero_cost_nas", augment=True)


class SmallCNN(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(8, classes)

    def forward(self, x):
        return self.head(self.features(x))


class MLP(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 32), nn.ReLU(), nn.Linear(32, classes))

    def forward(self, x):
        return self.net(x)


@pytest.fixture
def small_cnn():
    torch.manual_seed(0)
    return SmallCNN()


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return MLP()


def assert_cli_user_error(argv: list[str], fragment: str) -> None:
    """``python -m zeronas ARGV`` exits 2 with one line on stderr that contains ``fragment``."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "zeronas", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], proc.stderr
