from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

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


DATASET_CLASSES = (("cifar10", 10), ("cifar100", 100), ("imagenet16", 120))
NONE_SKIP_CELL = "|skip_connect~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|skip_connect~2|"


def _table_parameter_counts(table, dataset):
    """The table's ``params_M_<dataset>`` as integers: it prints millions with 6 decimals, i.e. exact counts."""
    millions = table.column(f"params_M_{dataset}")
    counts = np.round(millions * 1e6).astype(np.int64)
    assert np.abs(millions * 1e6 - counts).max() < 1e-3  # on the 1e-6 grid: the rounding loses nothing
    return counts


def test_count_parameters_equals_the_table_for_every_cell_and_dataset(table):
    for dataset, classes in DATASET_CLASSES:
        analytic = np.array([nb201.count_parameters(a, num_classes=classes) for a in table.arch_str])
        np.testing.assert_array_equal(analytic, _table_parameter_counts(table, dataset), err_msg=dataset)


def _sample_cells(table):
    """A seeded cell for each (3x3 conv, 1x1 conv) count pair in the table, plus two hand-picked cells.

    Only those two op counts change a NB201 network's parameter count, so the sample meets every
    distinct count of the table (28 pairs); the pairs come from the table's own op-count columns.
    """
    rng = np.random.default_rng(201)
    n3, n1 = table.column("n_conv3x3").astype(int), table.column("n_conv1x1").astype(int)
    cells = [MIXED_CELL, NONE_SKIP_CELL]
    for pair in sorted(set(zip(n3.tolist(), n1.tolist(), strict=True))):
        rows = np.flatnonzero((n3 == pair[0]) & (n1 == pair[1]))
        cells.append(table.arch_str[int(rng.choice(rows))])
    return cells


def test_count_parameters_equals_the_built_network_on_a_seeded_sample(table):
    cells = _sample_cells(table)
    assert len(cells) == 30
    assert set(nb201.parse(MIXED_CELL).ops) == set(nb201.OPS)
    assert set(nb201.parse(NONE_SKIP_CELL).ops) == {"none", "skip_connect"}
    expected = {dataset: _table_parameter_counts(table, dataset) for dataset, _ in DATASET_CLASSES}
    for cell in cells:
        row = table.index_of(cell)
        for dataset, classes in DATASET_CLASSES:
            built = sum(p.numel() for p in nb201.build(cell, num_classes=classes).parameters() if p.requires_grad)
            assert nb201.count_parameters(cell, num_classes=classes) == built, (cell, dataset)
            assert built == expected[dataset][row], (cell, dataset)


@pytest.mark.parametrize("shape", [(2, 16, 32, 32), (3, 4, 1, 1), (2, 5, 2, 7), (1, 3, 8, 8)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_average_pool_op_equals_pytorch_pooling(shape, dtype):
    # The cell's avg_pool_3x3 is a depthwise sum divided by window counts; the oracle is the
    # pooling NAS-Bench-201 trained with. Values and gradients to rounding.
    from zeronas.spaces.nb201 import AveragePool3x3

    reference = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    x = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(0), requires_grad=True)
    ours, theirs = AveragePool3x3()(x), reference(x)
    tolerance = 1e-6 if dtype == torch.float32 else 1e-14  # a sum in another order: a few ulps
    assert torch.allclose(ours, theirs, rtol=tolerance, atol=tolerance)
    weights = torch.randn(theirs.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (ours_grad,), (their_grad,) = (torch.autograd.grad((y * weights).sum(), x) for y in (ours, theirs))
    assert torch.allclose(ours_grad, their_grad, rtol=tolerance, atol=tolerance)
    # Per sample under vmap, as the per-sample gradient engine runs it.
    per_sample = torch.func.vmap(lambda xi: AveragePool3x3()(xi.unsqueeze(0)))(x.detach())
    assert torch.allclose(per_sample.squeeze(1), theirs.detach(), rtol=tolerance, atol=tolerance)
    assert isinstance(AveragePool3x3(), nn.AvgPool2d)  # FLOP counting reads it as a 3x3 pool


def test_average_pool_op_takes_gradients_after_an_inference_pass():
    # Its window counts are cached per size; made inside inference mode they would be inference
    # tensors, which autograd refuses to save for the backward pass.
    from zeronas.spaces.nb201 import AveragePool3x3, _window_counts

    _window_counts.cache_clear()
    pool = AveragePool3x3()
    with torch.inference_mode():
        pool(torch.randn(2, 3, 13, 11))
    x = torch.randn(2, 3, 13, 11, requires_grad=True)
    (grad,) = torch.autograd.grad(pool(x).sum(), x)
    reference = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    (expected,) = torch.autograd.grad(reference(x).sum(), x)
    assert torch.allclose(grad, expected, rtol=1e-6, atol=1e-6)
