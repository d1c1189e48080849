from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
import torch

from zeronas.errors import ArchitectureError
from zeronas.spaces import nb201
from tests.conftest import MIXED_CELL


def test_all_archs_follow_the_table_order_and_round_trip(table):
    archs = nb201.all_archs()
    assert len(archs) == 15625
    assert [str(a) for a in archs] == list(table.arch_str)
    assert len(set(archs)) == 15625
    assert set(archs) == set(nb201.canonical_order())


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "expected 3 nodes"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "expected 3 nodes"),
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown NAS-Bench-201 operation 'conv_5x5'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must read from node 0"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 needs 2 inputs"),
        ("none~0+none~0|none~1+none~0|none~1|none~2", "expected 3 nodes"),
    ],
)
def test_malformed_strings_get_a_one_line_error(text, fragment):
    with pytest.raises(ArchitectureError) as info:
        nb201.parse(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_network_shapes_and_structure():
    net = nb201.build(MIXED_CELL, num_classes=120)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 120)
    assert nb201.build(MIXED_CELL)(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    cells = [m for m in net.modules() if isinstance(m, nb201.Cell)]
    reductions = [m for m in net.modules() if isinstance(m, nb201.ResidualReduction)]
    assert len(cells) == 15 and len(reductions) == 2
    assert [c.edges[3].__class__.__name__ for c in cells[:1]] == ["Identity"]
    assert net.classifier.in_features == 64


def _built_parameter_count(arch_str: str) -> int:
    torch.set_num_threads(1)
    return sum(p.numel() for p in nb201.build(arch_str, num_classes=10).parameters())


def test_built_parameter_counts_equal_the_table_for_every_cell_and_dataset(table):
    # Build every one of the 15,625 networks; the classifier is the only part that depends on
    # the number of classes (checked on a sample below), so the other datasets follow exactly.
    with mp.get_context("fork").Pool(2) as pool:
        built = np.array(pool.map(_built_parameter_count, table.arch_str, chunksize=250))
    classifier = {k: 64 * k + k for k in (10, 100, 120)}
    for dataset, classes in (("cifar10", 10), ("cifar100", 100), ("imagenet16", 120)):
        expected = np.round(table.column(f"params_M_{dataset}") * 1e6).astype(np.int64)
        np.testing.assert_array_equal(built - classifier[10] + classifier[classes], expected)
        analytic = [nb201.count_parameters(a, num_classes=classes) for a in table.arch_str]
        np.testing.assert_array_equal(analytic, expected)
    for i in range(0, 15625, 1500):
        for dataset, classes in (("cifar100", 100), ("imagenet16", 120)):
            net = nb201.build(table.arch_str[i], num_classes=classes)
            assert sum(p.numel() for p in net.parameters()) == round(table.column(f"params_M_{dataset}")[i] * 1e6)
