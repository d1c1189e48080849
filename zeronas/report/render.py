"""Turn :class:`Measurements` into a report folder: report.md, report.html, summary.json, figures/.

Every correlation is signed after orienting the score by the proxy's declared direction, so a
positive rho means the proxy ranks as it claims to. Published values are compared with the
measured ones, and every gap above ``DEVIATION_TOLERANCE`` is analysed: the protocol differences
the report can measure (accuracy column, NaN policy, cell sample) are applied and what remains
is judged against the bootstrap interval and the spread over seeds, then explained by a recorded
note or flagged as unexplained.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from zeronas.evaluate.ensemble import ENSEMBLE, orientation
from zeronas.evaluate.metrics import Estimate
from zeronas.experiments.analysis import (
    DEVIATION_TOLERANCE,
    deviations,
    linear_region_conclusion,
    linear_region_reliability,
)
from zeronas.experiments.linear_region_study import VariantResult
from zeronas.experiments.published import published
from zeronas.experiments.reproduction import Measurements, oriented
from zeronas.proxies import get_proxy_class
from zeronas.report import figures
from zeronas.report.document import Block, Bullets, Figure, Heading, Paragraph, Table, to_html, to_markdown

DATASET_NAMES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}


def write_report(
    measurements: Measurements,
    out_dir: str | Path,
    *,
    linear_regions: list[VariantResult] | None = None,
    command: str = "",
    scoring_seconds: float | None = None,
) -> dict[str, Path]:
    """Write the report files into ``out_dir``; returns ``{"markdown", "html", "summary"}`` paths."""
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    m = measurements
    found = deviations(m)
    blocks: list[Block] = []
    blocks += _header(m, command, scoring_seconds)
    blocks += _summary(m, out)
    for dataset in m.datasets:
        blocks += _dataset_section(m, dataset, out)
    blocks += _deviation_section(found)
    blocks += _stability_section(m, out)
    if m.ensemble_members:
        blocks += _ensemble_section(m)
    if linear_regions:
        blocks += _linear_region_section(m, linear_regions)
    blocks += _files_section(m)

    title = f"zeronas reproduction report: {m.space}"
    paths = {"markdown": out / "report.md", "html": out / "report.html", "summary": out / "summary.json"}
    paths["markdown"].write_text(to_markdown(blocks), encoding="utf-8")
    paths["html"].write_text(to_html(blocks, title), encoding="utf-8")
    summary = _summary_json(m, found, linear_regions, command, scoring_seconds)
    paths["summary"].write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    return paths


# --- sections ---------------------------------------------------------------------------------

def _header(m: Measurements, command: str, scoring_seconds: float | None) -> list[Block]:
    s = m.settings
    blocks: list[Block] = [Heading(1, f"zeronas reproduction report: {m.space}")]
    if command:
        blocks.append(Paragraph(f"Produced by `{command}`."))
    timing = f"This run took {m.seconds:.0f} s"
    if scoring_seconds is not None:
        timing += (f"; the scores it uses took {scoring_seconds / 3600:.2f} h of proxy time to compute (sum of "
                   f"the per-score times in the results file, whichever run wrote them: the command resumes from "
                   f"the file, and `--workers N` spreads this time over N cores)")
    blocks.append(Paragraph(timing + "."))
    blocks.append(Heading(2, "Protocol"))
    columns = ", ".join(f"{DATASET_NAMES.get(d, d)}: `{m.settings['metrics'][d]}`" for d in m.datasets)
    batches = ", ".join(f"{p} {_batch_text(p)}" for p in m.proxies if p != ENSEMBLE)
    blocks.append(Bullets([
        f"Cells: {len(m.cells):,} cells of `{m.space}` ({s.get('benchmark_description', '')}) drawn at random "
        f"(sample seed {s['sample_seed']}) "
        f"from all {m.settings.get('population', len(m.cells)):,}; the same cells for every dataset and seed.",
        f"Ground truth: {s.get('metric_description', 'test accuracy')} ({columns}).",
        f"Seeds {', '.join(map(str, m.seeds))}: each seed sets the network initialisation and the data batch; "
        f"the main tables use seed {m.seeds[0]}, the stability section all seeds.",
        f"Data batch per proxy, as its paper (training images; labels only where the proxy uses them): {batches}.",
        f"Undefined scores (NaN): `{s['nan_policy']}` "
        f"({'left out' if s['nan_policy'] == 'drop' else 'ranked below every finite score'}); "
        f"coverage is the share of cells with a finite score.",
        f"Intervals: bootstrap 95% percentile intervals over cells, {s['resamples']} resamples.",
        "Signs: each score is multiplied by its declared orientation (+1 higher is better, -1 lower is "
        "better) before correlating, so a positive rho means the proxy ranks as it claims.",
        "Top-10% precision: share of the top 10% of cells by score that are in the top 10% by accuracy "
        "(0.10 is chance). Arg-max accuracy: the accuracy of the best-scored cell.",
    ]))
    return blocks


def _summary(m: Measurements, out: Path) -> list[Block]:
    rho = np.array([[m.metrics[d][p]["spearman"].value for d in m.datasets] for p in m.proxies])
    figures.heatmap(rho, m.proxies, [DATASET_NAMES.get(d, d) for d in m.datasets], out / "figures" / "rho_heatmap.png",
                    title="Spearman rho with accuracy (seed 0)", vmin=-0.2)
    rows = []
    for p in m.proxies:
        row = [p, _orientation_text(p, m.higher_is_better)]
        for d in m.datasets:
            value, _, _ = published(p, d, m.space)
            row.append(_est(m.metrics[d][p]["spearman"]) + (f" (pub. {value:.3f})" if value is not None else ""))
        rows.append(row)
    return [
        Heading(2, "Summary: Spearman rho by proxy and dataset"),
        Figure("figures/rho_heatmap.png", "Spearman rho of each proxy with test accuracy, seed 0 (signed, oriented)."),
        Table(["proxy", "better"] + [DATASET_NAMES.get(d, d) for d in m.datasets], rows),
        Paragraph("Published values (pub.) and their sources are listed per dataset below; the sections on "
                  "deviations explain every gap larger than 0.03."),
    ]


def _dataset_section(m: Measurements, dataset: str, out: Path) -> list[Block]:
    name = DATASET_NAMES.get(dataset, dataset)
    seed0 = m.scores[dataset][m.seeds[0]]
    rho = {p: m.metrics[dataset][p]["spearman"].value for p in m.proxies}
    pub = {p: published(p, dataset, m.space)[0] for p in m.proxies}
    scatter = figures.scatter_grid(oriented(seed0, m.higher_is_better), m.accuracy[dataset], out / "figures" / f"scatter_{dataset}.png",
                                   title=f"{name}: oriented score rank vs test accuracy (seed 0)", rho=rho,
                                   published=pub)
    correlation = figures.proxy_correlation(oriented(seed0, m.higher_is_better))
    figures.heatmap(correlation, m.proxies, m.proxies, out / "figures" / f"proxy_correlation_{dataset}.png",
                    title=f"{name}: Spearman rho between proxies (seed 0)", vmin=-1.0)
    rows, sources = [], []
    for p in m.proxies:
        e = m.metrics[dataset][p]
        value, source, protocol = published(p, dataset, m.space)
        if value is not None:
            sources.append(f"{p}: {value:.3f}, {source} ({protocol})")
        rows.append([
            p, _orientation_text(p, m.higher_is_better), _est(e["spearman"]), _est(e["kendall"]), _est(e["top10_precision"], 2),
            _est(e["argmax_accuracy"], 2), f"{e['coverage'].value:.3f}",
            f"{value:.3f}" if value is not None else "—",
            f"{e['spearman'].value - value:+.3f}" if value is not None else "",
        ])
    return [
        Heading(2, f"{name} (`{m.settings['metrics'][dataset]}`)"),
        Table(["proxy", "better", "rho [95% CI]", "tau [95% CI]", "top-10% [95% CI]", "arg-max acc % [95% CI]",
               "coverage", "published", "measured - published"], rows),
        Figure(f"figures/{scatter.name}",
               f"{name}: each proxy's score rank against test accuracy; red points are undefined scores "
               f"(NaN); titles give the measured rho and the published one where there is one."),
        Paragraph("Published values beside this figure: " + ("; ".join(sources) if sources else "none") + "."),
        Paragraph(_protocol_differences(m, dataset)),
        Figure(f"figures/proxy_correlation_{dataset}.png",
               f"{name}: how alike the proxies rank the cells (Spearman rho between oriented scores)."),
    ]


def _deviation_section(deviations: list[dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = [Heading(2, f"Deviations from published values larger than {DEVIATION_TOLERANCE}")]
    if not deviations:
        return blocks + [Paragraph("None: every measured rho is within 0.03 of its published value.")]
    items = []
    for d in deviations:
        text = (f"**{d['proxy']}, {DATASET_NAMES.get(d['dataset'], d['dataset'])}**: measured {d['measured']:.3f}, "
                f"published {d['published']:.3f} ({d['source']}; {d['protocol']}), difference "
                f"{d['delta']:+.3f}. " + "; ".join(d["steps"]) + f"; remaining {d['remaining']:+.3f}: "
                f"{d['verdict']}.")
        if d["note"] and not d["verdict"].startswith("recorded cause"):
            text += f" Also recorded: {d['note']}"
        items.append(text)
    return blocks + [Bullets(items)]


def _stability_section(m: Measurements, out: Path) -> list[Block]:
    agreement = np.array([[m.seed_agreement[d][p] for d in m.datasets] for p in m.proxies])
    figures.heatmap(agreement, m.proxies, [DATASET_NAMES.get(d, d) for d in m.datasets],
                    out / "figures" / "seed_agreement.png", title="Rank agreement of cell scores between seeds",
                    vmin=0.0)
    rows = []
    for p in m.proxies:
        row = [p]
        for d in m.datasets:
            values = np.array(m.rho_by_seed[d][p], dtype=float)
            finite = values[np.isfinite(values)]
            spread = f"{finite.mean():.3f} ± {finite.std():.3f} ({finite.min():.3f}–{finite.max():.3f})" \
                if finite.size else "—"
            row += [spread, _num(m.seed_agreement[d][p], 3), _num(m.cell_rank_shift[d][p], 1)]
        rows.append(row)
    header = ["proxy"]
    for d in m.datasets:
        header += [f"{DATASET_NAMES.get(d, d)} rho mean ± sd (min–max)", "seed agreement", "cell rank shift"]
    if len(m.seeds) < 2:
        return [Heading(2, "Stability over seeds"),
                Paragraph("One seed only: run with `--seeds 2` or more to measure stability.")]
    return [
        Heading(2, f"Stability over {len(m.seeds)} seeds (initialisation and data batch)"),
        Paragraph("Rho over seeds: the mean, standard deviation and range of the Spearman rho with accuracy "
                  "across seeds. Seed agreement: the mean Spearman rho between the per-cell scores of two "
                  "seeds (1 = every seed ranks the cells the same; params and flops are 1 by construction). Cell "
                  "rank shift: how many percentile points a cell's rank moves between its best and worst seed, "
                  "averaged over cells (0 = every cell keeps its place)."),
        Table(header, rows),
        Figure("figures/seed_agreement.png", "Seed agreement of each proxy's per-cell ranking, per dataset."),
    ]


def _ensemble_section(m: Measurements) -> list[Block]:
    sel = m.ensemble_selection
    how = ("given by the user" if sel.get("chosen_by") == "given" else
           f"chosen by greedy forward selection on {sel['cells']:,} other cells ({sel['dataset']}, seed 0; "
           f"rho there {sel['selection_rho']:.3f}), disjoint from the cells reported here")
    rows = []
    for d in m.datasets:
        e = m.metrics[d][ENSEMBLE]
        value, source, _ = published(ENSEMBLE, d, m.space)
        rho_seeds = np.array(m.rho_by_seed[d][ENSEMBLE], dtype=float)
        rows.append([DATASET_NAMES.get(d, d), _est(e["spearman"]), _est(e["kendall"]), _est(e["top10_precision"], 2),
                     _est(e["argmax_accuracy"], 2), f"{np.nanmin(rho_seeds):.3f}–{np.nanmax(rho_seeds):.3f}",
                     f"{value:.3f}" if value is not None else "—"])
    effect = ", ".join(f"{DATASET_NAMES.get(d, d)} {m.sample_effect[d]:+.3f}" for d in m.datasets)
    return [
        Heading(2, "Ensemble"),
        Paragraph(f"`ensemble` = {m.settings['aggregation']} aggregation of the normalised ranks of "
                  f"{', '.join(m.ensemble_members)} (no trained predictor, no accuracy labels at scoring time); "
                  f"members {how}."),
        Table(["dataset", "rho [95% CI]", "tau [95% CI]", "top-10% [95% CI]", "arg-max acc % [95% CI]",
               "rho over seeds", "AZ-NAS (all cells)"], rows),
        *([Paragraph(f"AZ-NAS's published values are on all NAS-Bench-201 cells; on these cells params' rho differs "
                     f"from its all-cell value by {effect}: an estimate of how much the sample alone lifts a rho (it "
                     f"differs between proxies, so it is a guide, not a correction).")] if m.space == "nb201" else []),
    ]


def _protocol_differences(m: Measurements, dataset: str) -> str:
    text = f"Protocol differences: measured on {len(m.cells):,} sampled cells, not all " \
           f"{m.settings.get('population', len(m.cells)):,}"
    effect = m.sample_effect.get(dataset, math.nan)
    if math.isfinite(effect):
        text += f" (on this dataset the sample moves params' rho by {effect:+.3f})"
    text += (f"; NaN policy `{m.settings['nan_policy']}`; each proxy's own batch (protocol section); "
             f"accuracy `{m.settings['metrics'][dataset]}`")
    if m.space == "nb201" and dataset == "cifar10":
        return text + " where zero-cost-nas and GradSign used the cifar10-valid split's test accuracy."
    return text + "."


def _linear_region_section(m: Measurements, variants: list[VariantResult]) -> list[Block]:
    default = variants[0]
    rows = [[v.label, _est(v.metrics["spearman"]), _est(v.metrics["kendall"]), _est(v.metrics["top10_precision"], 2),
             f"{v.agreement_with_default:.3f}", f"{v.distinct_share:.3f}", f"{v.saturated_share:.3f}"]
            for v in variants]
    reliability = linear_region_reliability(m)
    table = [[p, f"{rho:.3f}", f"{spread:.3f}", _num(agree, 3), f"{top:.2f}"]
             for p, rho, spread, agree, top in reliability]
    return [
        Heading(2, "The linear-region count: a dependable criterion?"),
        Paragraph(f"The count as TE-NAS computes it (thin one-cell network, Kaiming re-initialisation, distinct "
                  f"ReLU patterns over random single-channel crops), rescored on the same {len(m.cells):,} cells "
                  f"with one setting changed at a time ({m.settings.get('linear_region_dataset', 'cifar10')}, "
                  f"seed 0). Agreement: Spearman rho between the variant's and the TE-NAS setting's per-cell "
                  f"counts. Distinct: distinct counts per cell (1 = no ties). Saturated: share of cells whose "
                  f"count equals the number of crops, where the count stops separating cells."),
        Table(["setting", "rho [95% CI]", "tau [95% CI]", "top-10% [95% CI]", "agreement with TE-NAS",
               "distinct", "saturated"], rows),
        Paragraph("Reliability beside the gradient-based proxies, over all datasets and seeds of this report: "
                  "mean rho, the range of rho over datasets and seeds, mean seed agreement of per-cell "
                  "scores, mean top-10% precision."),
        Table(["proxy", "mean rho", "rho range", "seed agreement", "top-10%"], table),
        Paragraph(linear_region_conclusion(default, variants, reliability)),
    ]


def _files_section(m: Measurements) -> list[Block]:
    return [
        Heading(2, "Files"),
        Bullets([
            f"`{Path(m.settings['results']).name}`: every score with its provenance (proxy version and options, "
            f"seed, data batch digest, status, seconds); rerunning the command rescores nothing that is in it.",
            "`summary.json`: every number in this report.",
            "`figures/`: the PNG figures.",
        ]),
    ]


# --- helpers ----------------------------------------------------------------------------------

def _num(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "—"


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _batch_text(proxy: str) -> str:
    size = get_proxy_class(proxy.split("[", 1)[0]).data.batch_size
    # A batch of 2 only fixes the input shape: these proxies read no image content.
    return "no images" if size <= 2 else str(size)


def _orientation_text(proxy: str, higher_is_better: dict[str, bool] | None = None) -> str:
    return "higher" if orientation(proxy, higher_is_better) > 0 else "lower"


def _est(e: Estimate, digits: int = 3) -> str:
    if not math.isfinite(e.value):
        return "—"
    if not (math.isfinite(e.low) and math.isfinite(e.high)):
        return f"{e.value:.{digits}f}"
    return f"{e.value:.{digits}f} [{e.low:.{digits}f}, {e.high:.{digits}f}]"


def _summary_json(m: Measurements, deviations, variants, command, scoring_seconds) -> dict[str, Any]:
    return {
        "command": command, "space": m.space, "datasets": m.datasets, "seeds": m.seeds, "proxies": m.proxies,
        "cells": len(m.cells), "settings": m.settings, "seconds": m.seconds, "scoring_seconds": scoring_seconds,
        "metrics": {d: {p: {k: v.as_dict() for k, v in ms.items()} for p, ms in per.items()} for d, per in m.metrics.items()},
        "rho_by_seed": m.rho_by_seed, "seed_agreement": m.seed_agreement,
        "cell_rank_shift": m.cell_rank_shift, "protocol_checks": m.protocol_checks,
        "sample_effect": m.sample_effect,
        "ensemble": {"members": m.ensemble_members, "selection": m.ensemble_selection},
        "deviations": deviations,
        "linear_regions": [{"label": v.label, "options": v.options,
                            "metrics": {k: e.as_dict() for k, e in v.metrics.items()},
                            "agreement_with_default": v.agreement_with_default,
                            "distinct_share": v.distinct_share, "saturated_share": v.saturated_share}
                           for v in (variants or [])],
    }
