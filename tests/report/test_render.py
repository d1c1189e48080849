"""Report text: the document model, and how gaps to published values are analysed."""

from __future__ import annotations

import pytest

from zeronas.evaluate.metrics import Estimate
from zeronas.experiments.reproduction import Measurements
from zeronas.report.document import Bullets, Figure, Heading, Paragraph, Table, to_html, to_markdown
from zeronas.experiments.analysis import deviation


def _measurements(rho: dict[str, float], checks: dict[str, dict[str, float]], effect: float,
                  interval: float = 0.01, other_seeds: dict[str, list[float]] | None = None) -> Measurements:
    metrics = {"cifar10": {p: {"spearman": Estimate(v, v - interval, v + interval)} for p, v in rho.items()}}
    other_seeds = other_seeds or {}
    by_seed = {p: [v, *other_seeds.get(p, [])] for p, v in rho.items()}
    return Measurements(
        space="nb201", datasets=["cifar10"], seeds=list(range(max(map(len, by_seed.values())))), proxies=list(rho),
        cells=[], accuracy={}, scores={}, metrics=metrics, rho_by_seed={"cifar10": by_seed}, seed_agreement={},
        protocol_checks={"cifar10": checks},
        sample_effect={"cifar10": effect}, settings={"nan_policy": "drop"},
    )


def test_small_gaps_are_not_deviations():
    m = _measurements({"params": 0.77}, {"params": {"nan_drop": 0.77, "nan_worst": 0.77}}, 0.02)
    assert deviation(m, "params", "cifar10") is None  # published 0.75: within 0.03


def test_sample_effect_explains_a_gap():
    m = _measurements({"params": 0.80}, {"params": {"nan_drop": 0.80, "nan_worst": 0.80}}, 0.045)
    d = deviation(m, "params", "cifar10")
    assert d["delta"] == pytest.approx(0.05)
    assert d["adjusted"] == pytest.approx(0.755)
    assert d["verdict"].startswith("explained")


def test_published_protocol_is_applied_before_judging():
    # synflow was published against cifar10-valid; zen with undefined scores ranked worst.
    checks = {"synflow": {"nan_drop": 0.85, "nan_worst": 0.86, "cifar10_valid_drop": 0.75, "cifar10_valid_worst": 0.7},
              "zen": {"nan_drop": 0.30, "nan_worst": 0.37}}
    m = _measurements({"synflow": 0.85, "zen": 0.30}, checks, 0.0)
    synflow = deviation(m, "synflow", "cifar10")
    assert synflow["adjusted"] == pytest.approx(0.75)  # drop policy, cifar10-valid column
    assert synflow["verdict"].startswith("explained")
    zen = deviation(m, "zen", "cifar10")
    assert zen["adjusted"] == pytest.approx(0.37) and zen["verdict"].startswith("explained")


def test_unexplained_and_recorded_gaps_say_so():
    checks = {p: {"nan_drop": v, "nan_worst": v} for p, v in {"naswot": 0.60, "ntk": 0.66}.items()}
    m = _measurements({"naswot": 0.60, "ntk": 0.66}, checks, 0.0)
    assert deviation(m, "naswot", "cifar10")["verdict"].startswith("NOT explained")
    assert deviation(m, "ntk", "cifar10")["verdict"].startswith("recorded cause")
    wide = _measurements({"naswot": 0.70}, {"naswot": {"nan_drop": 0.70, "nan_worst": 0.70}}, 0.0, interval=0.1)
    assert deviation(wide, "naswot", "cifar10")["verdict"].startswith("within the bootstrap")


def test_a_gap_another_seed_closes_is_seed_variation():
    checks = {"naswot": {"nan_drop": 0.85, "nan_worst": 0.85}}
    varied = _measurements({"naswot": 0.85}, checks, 0.01, other_seeds={"naswot": [0.82, 0.80]})
    d = deviation(varied, "naswot", "cifar10")  # published 0.77; seed 2 adjusted: 0.80 - 0.01 = 0.79
    assert d["verdict"].startswith("seed-to-seed variation") and "seed 2 is +0.020" in d["verdict"]
    steady = _measurements({"naswot": 0.85}, checks, 0.01, other_seeds={"naswot": [0.85, 0.84]})
    assert deviation(steady, "naswot", "cifar10")["verdict"].startswith("NOT explained")


def test_the_ensemble_is_compared_with_az_nas_not_reproduced():
    m = _measurements({"ensemble": 0.95}, {"ensemble": {"nan_drop": 0.95, "nan_worst": 0.95}}, 0.01)
    d = deviation(m, "ensemble", "cifar10")  # AZ-NAS published 0.913
    assert d["remaining"] == pytest.approx(0.95 - 0.01 - 0.913)
    assert d["verdict"].startswith("not a reproduction") and "ahead" in d["verdict"]


def test_markdown_and_html_carry_the_same_blocks():
    blocks = [Heading(2, "Title"), Paragraph("a `code` and **bold** <tag>"), Bullets(["x", "y"]),
              Table(["a", "b"], [["1", "p|q"]]), Figure("figures/f.png", "caption")]
    md = to_markdown(blocks)
    assert "## Title" in md and "- x\n- y" in md and "| 1 | p\\|q |" in md and "![caption](figures/f.png)" in md
    html = to_html(blocks, "t")
    assert "<h2>Title</h2>" in html and "<code>code</code>" in html and "<strong>bold</strong>" in html
    assert "&lt;tag&gt;" in html and '<img src="figures/f.png"' in html and html.count("<tr>") == 2
