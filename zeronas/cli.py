"""The ``zeronas`` command line: a thin layer over the Python API, with ``--json`` output."""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from zeronas._version import __version__
from zeronas.benchmarks import get_benchmark, list_benchmarks
from zeronas.data import list_datasets
from zeronas.errors import ZeronasUserError
from zeronas.proxies import get_proxy_class, list_proxies
from zeronas.scoring import HEADLINE_PROXIES

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        self.exit(EXIT_USAGE, f"zeronas: error: {message} (see 'zeronas {self.prog.split()[-1]} --help')\n")


def _int_at_least(minimum: int, what: str):  # type: ignore[no-untyped-def]
    """An argparse type: an integer >= ``minimum``, described as ``what`` in errors."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a {what} integer, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "positive")
_non_negative_int = _int_at_least(0, "non-negative")


def _proxy_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one proxy name, e.g. gradsign,epsinas")
    for name in names:
        if name == "ensemble":
            raise argparse.ArgumentTypeError("'ensemble' aggregates other proxies: name its members with "
                                             "--ensemble (correlate) or --ensemble-members (report)")
        try:
            get_proxy_class(name)
        except ZeronasUserError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def _proxy_option(text: str) -> tuple[str, str, object]:
    name_key, sep, raw = text.partition("=")
    name, dot, key = name_key.partition(".")
    if not (sep and dot and name and key):
        raise argparse.ArgumentTypeError(f"expected PROXY.OPTION=VALUE, e.g. gradalign.aggregation=global, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if isinstance(value, list):
        value = tuple(value)
    return name, key, value


def _options(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    options: dict[str, dict[str, object]] = {}
    for name, key, value in args.option:
        options.setdefault(name, {})[key] = value
    return options


def _benchmark(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", "--space", dest="benchmark", choices=list_benchmarks(), default="nb201",
                        help="benchmark (and its search space); --space is an alias (default: %(default)s)")


def _common(parser: argparse.ArgumentParser) -> None:
    _benchmark(parser)
    parser.add_argument("--dataset", choices=list_datasets(), default="cifar10",
                        help="dataset the proxies' batches come from and the ground truth is read for")
    parser.add_argument("--proxies", type=_proxy_list, default=list(HEADLINE_PROXIES),
                        help="comma-separated proxy names (default: %(default)s)")
    parser.add_argument("--option", type=_proxy_option, action="append", default=[], metavar="PROXY.OPTION=VALUE",
                        help="a proxy option, e.g. gradalign.aggregation=global (repeatable; JSON values)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="data batch and initialisation seed")
    parser.add_argument("--data-dir", default=None, help="data directory (default: $ZERONAS_DATA, then ../shared/data)")
    _workers(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=1,
                        help="scoring processes, one CPU thread each; set to the number of cores (default: 1)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zeronas", description="Training-free neural architecture search with zero-cost proxies.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    parser.add_argument("--version", action="version", version=f"zeronas {__version__}")
    p_list = sub.add_parser("list", help="list the registered proxies (or benchmarks)")
    p_list.add_argument("--benchmarks", action="store_true", help="list benchmarks with their datasets and metrics")
    p_list.add_argument("--data-dir", default=None, help="data directory (default: $ZERONAS_DATA, then ../shared/data)")
    p_list.add_argument("--json", action="store_true")

    p_score = sub.add_parser("score", help="score architectures of a benchmark's space")
    p_score.add_argument("archs", nargs="*", help="architectures as text (NB101: 'MATRIX OPS') or official indices")
    p_score.add_argument("--file", type=Path, help="a file with one architecture (text or index) per line")
    _common(p_score)

    p_corr = sub.add_parser("correlate", help="rank correlation with ground truth on a sample of cells")
    p_corr.add_argument("--sample", type=_positive_int, default=None,
                        help="number of cells drawn with --seed (default: the benchmark's, e.g. 1000 for nb201, "
                             "all cells with ground truth for nb101)")
    p_corr.add_argument("--all", action="store_true", help="every cell with ground truth")
    p_corr.add_argument("--metric", default=None, help="ground-truth metric (default: the benchmark's for the dataset; "
                                                       "see 'zeronas list --benchmarks')")
    p_corr.add_argument("--results", default=None, help="JSON-lines file keeping every score; a rerun resumes from it")
    p_corr.add_argument("--nan", choices=["drop", "worst"], default="drop", dest="nan_policy",
                        help="cells with a NaN score: left out, or ranked worst (default: %(default)s)")
    p_corr.add_argument("--ensemble", type=_proxy_list, default=None, metavar="MEMBERS",
                        help="also report the rank-aggregation ensemble of these proxies as 'ensemble'")
    p_corr.add_argument("--aggregation", choices=["log_rank", "mean_rank"], default="log_rank")
    p_corr.add_argument("--no-progress", action="store_true")
    _common(p_corr)

    p_rep = sub.add_parser("report", help="reproduction report: proxies vs ground truth over datasets and seeds")
    _benchmark(p_rep)
    p_rep.add_argument("--datasets", type=_dataset_list, default=None,
                       help="comma-separated datasets (default: all of the benchmark's)")
    p_rep.add_argument("--sample", type=_positive_int, default=1000, help="number of cells (default: %(default)s)")
    p_rep.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..K-1 (default: %(default)s)")
    p_rep.add_argument("--proxies", type=_proxy_list, default=None, help="comma-separated (default: the report set)")
    p_rep.add_argument("--out", type=Path, default=Path("zeronas-report"), help="report folder (default: %(default)s)")
    p_rep.add_argument("--results", default=None, help="scores file (default: OUT/results.jsonl); a rerun resumes")
    p_rep.add_argument("--ensemble-members", type=_proxy_list, default=None,
                       help="fix the ensemble's members instead of selecting them on disjoint cells")
    p_rep.add_argument("--selection-sample", type=_positive_int, default=1000,
                       help="cells, disjoint from the report's, on which ensemble members are chosen")
    p_rep.add_argument("--no-ensemble", action="store_true")
    p_rep.add_argument("--aggregation", choices=["log_rank", "mean_rank"], default="log_rank")
    p_rep.add_argument("--nan", choices=["drop", "worst"], default="drop", dest="nan_policy")
    p_rep.add_argument("--resamples", type=_positive_int, default=1000, help="bootstrap resamples")
    p_rep.add_argument("--no-linear-region-study", action="store_true")
    p_rep.add_argument("--data-dir", default=None, help="data directory (default: $ZERONAS_DATA, then ../shared/data)")
    _workers(p_rep)
    p_rep.add_argument("--no-progress", action="store_true")
    p_rep.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _dataset_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [n for n in names if n not in list_datasets()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown datasets {unknown or text!r}; choose from {', '.join(list_datasets())}")
    return names


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"


def _cmd_list(args: argparse.Namespace) -> None:
    if args.benchmarks:
        rows = []
        for name in list_benchmarks():
            benchmark = get_benchmark(name, args.data_dir)
            rows.append({
                "name": name, "description": benchmark.description, "space": benchmark.space.name,
                "datasets": {d: {"default_metric": benchmark.default_metric(d),
                                 "metrics": {k: {"higher_is_better": m.higher_is_better, "unit": m.unit}
                                             for k, m in benchmark.metrics(d).items()}}
                             for d in benchmark.datasets},
            })
        if args.json:
            print(json.dumps(rows, indent=2))
            return
        for row in rows:
            print(f"{row['name']}: {row['description']} (space {row['space']})")
            for dataset, info in row["datasets"].items():
                others = [k for k in info["metrics"] if k != info["default_metric"]]
                print(f"  {dataset}: default metric {info['default_metric']}; also {', '.join(others) or '-'}")
        return
    rows = []
    for name in list_proxies():
        cls = get_proxy_class(name)
        rows.append({
            "name": name, "higher_is_better": cls.higher_is_better, "needs_labels": cls.needs_labels,
            "needs_gradients": cls.needs_gradients, "batch_size": cls.data.batch_size,
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'proxy':<16}{'higher better':<15}{'labels':<8}{'gradients':<11}batch")
    for r in rows:
        print(f"{r['name']:<16}{r['higher_is_better']!s:<15}{r['needs_labels']!s:<8}{r['needs_gradients']!s:<11}{r['batch_size']}")


def _read_archs(args: argparse.Namespace) -> list[str]:
    items = list(args.archs)
    if args.file is not None:
        if not args.file.is_file():
            raise ZeronasUserError(f"architecture file {str(args.file)!r} does not exist; pass an existing --file")
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ZeronasUserError(f"architecture file {str(args.file)!r} cannot be read as text ({type(exc).__name__}); "
                                   "pass a text file with one architecture per line") from None
        items += [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not items:
        raise ZeronasUserError("no architectures given; pass architecture strings, indices or --file")
    return items


def _parse_arch(space, item: str):  # type: ignore[no-untyped-def]
    from zeronas.spaces import Enumerable

    if item.isdigit() and isinstance(space, Enumerable):
        index, total = int(item), len(space)
        if index >= total:
            raise ZeronasUserError(f"{space.name} index {index} out of range; use 0..{total - 1}")
        return space.all_archs()[index]
    return space.parse(item)


def _cmd_score(args: argparse.Namespace) -> None:
    from zeronas.runner import Evaluator, make_executor

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    archs = [_parse_arch(benchmark.space, item) for item in _read_archs(args)]
    with make_executor(args.workers) as executor:
        evaluator = Evaluator(benchmark, dataset=args.dataset, proxies=args.proxies, seed=args.seed,
                              options=_options(args), executor=executor, data_dir=args.data_dir,
                              progress=len(archs) > 1)
        table = evaluator.score(archs)
    keys = table.keys()
    rows = [{"arch": benchmark.space.format(a), **{k: float(table[k][i]) for k in keys}} for i, a in enumerate(archs)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("  ".join(f"{k:>14}" for k in keys) + "  arch")
    for row in rows:
        print("  ".join(f"{_fmt(row[k]):>14}" for k in keys) + "  " + row["arch"])


def _cmd_correlate(args: argparse.Namespace) -> None:
    from zeronas.experiments import CorrelateConfig, correlate
    from zeronas.runner import ResultStore, make_executor

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    sample = None if args.all else (args.sample or benchmark.default_sample)
    config = CorrelateConfig(benchmark=args.benchmark, dataset=args.dataset, sample=sample, seed=args.seed,
                             proxies=tuple(args.proxies), options=_options(args), metric=args.metric,
                             nan_policy=args.nan_policy, ensemble=tuple(args.ensemble or ()),
                             aggregation=args.aggregation)
    with ResultStore(args.results) as store, make_executor(args.workers) as executor:
        result = correlate(config, store=store, executor=executor, data_dir=args.data_dir,
                           progress=not args.no_progress)
    if args.json:
        print(json.dumps({name: c.as_dict() for name, c in result.correlations.items()}, indent=2))
        return
    over = "over finite scores" if args.nan_policy == "drop" else "with NaN scores ranked worst"
    print(f"{args.benchmark} {args.dataset}: {result.cells} cells, seed {args.seed}, against {result.metric}; "
          f"correlations oriented (positive = ranks well) {over}")
    width = max(16, *(len(name) + 2 for name in result.correlations))
    print(f"{'proxy':<{width}}{'spearman':>10}{'kendall':>10}{'n':>7}{'nan':>6}  higher is better")
    for name, c in result.correlations.items():
        print(f"{name:<{width}}{_fmt(c.spearman):>10}{_fmt(c.kendall):>10}{c.n:>7}{c.nan:>6}  {c.higher_is_better}")


def _cmd_report(args: argparse.Namespace) -> None:
    from zeronas.experiments import DEFAULT_PROXIES, ReproductionConfig
    from zeronas.report import make_report

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    config = ReproductionConfig(
        benchmark=args.benchmark, datasets=tuple(args.datasets or benchmark.datasets), sample=args.sample,
        seeds=args.seeds, proxies=tuple(args.proxies or DEFAULT_PROXIES), ensemble=not args.no_ensemble,
        ensemble_members=tuple(args.ensemble_members) if args.ensemble_members else None,
        selection_sample=args.selection_sample, aggregation=args.aggregation, nan_policy=args.nan_policy,
        resamples=args.resamples,
    )
    command = "zeronas " + shlex.join(args.argv)
    m, paths = make_report(args.out, config, results=args.results,
                           study_linear_regions=not args.no_linear_region_study, data_dir=args.data_dir,
                           command=command, workers=args.workers, progress=not args.no_progress)
    if args.json:
        summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
        print(json.dumps({"paths": {k: str(v) for k, v in paths.items()}, **summary}, indent=2))
        return
    print(f"report: {paths['markdown']} and {paths['html']} ({m.seconds:.0f} s)")
    print(f"{'proxy':<24}" + "".join(f"{d:>12}" for d in m.datasets) + "   Spearman rho, seed 0")
    for name in m.proxies:
        print(f"{name:<24}" + "".join(f"{_fmt(m.metrics[d][name]['spearman'].value):>12}" for d in m.datasets))


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # type: ignore[no-untyped-def]
    return f"zeronas: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        {"list": _cmd_list, "score": _cmd_score, "correlate": _cmd_correlate, "report": _cmd_report}[args.command](args)
    except ZeronasUserError as exc:
        print(f"zeronas: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("zeronas: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
