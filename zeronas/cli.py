"""The ``zeronas`` command line: a thin layer over the Python API, with ``--json`` output."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import shlex
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from zeronas import _json as strict_json
from zeronas._version import __version__
from zeronas.benchmarks import get_benchmark, list_benchmarks
from zeronas.data import get_dataset, list_datasets
from zeronas.errors import ZeronasUserError, one_line
from zeronas.proxies import get_proxy, get_proxy_class, list_proxies
from zeronas.proxies._registry import describe_options, option_defaults
from zeronas.scoring import HEADLINE_PROXIES

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2
        if message == "the following arguments are required: command":
            commands = next(a for a in self._actions if isinstance(a, argparse._SubParsersAction)).choices
            message = f"no command given; choose one of {', '.join(commands)}"
        # ``prog`` is "zeronas" for the top-level parser and "zeronas score" etc. for a subcommand.
        self.exit(EXIT_USAGE, f"zeronas: error: {message} (see '{self.prog} --help')\n")


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
    """Comma-separated proxy names, each once (first-seen order)."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
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
    for name, given in options.items():
        get_proxy(name, **given)  # an unknown option or bad value: one line listing the valid ones
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
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="data batch and initialisation seed (default: %(default)s)")
    parser.add_argument("--data-dir", default=None, help="data directory (default: $ZERONAS_DATA, then ../shared/data)")
    _workers(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _aggregation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aggregation", choices=["log_rank", "mean_rank"], default="log_rank",
                        help="how the ensemble combines its members' ranks: sum of log ranks or mean rank "
                             "(default: %(default)s)")


def _nan(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nan", choices=["drop", "worst"], default="drop", dest="nan_policy",
                        help="cells with a NaN score: left out, or ranked worst (default: %(default)s)")


def _no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar on stderr")


def _tables(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", default=None, metavar="DIR",
                        help="read scores from this campaign directory's tables instead of the shipped ones")
    parser.add_argument("--no-tables", action="store_true", help="read no score table; score everything")


def _tables_choice(args: argparse.Namespace) -> bool | str:
    """What ``tables=`` of the API the --tables / --no-tables options ask for."""
    if args.no_tables and args.tables:
        raise ZeronasUserError("give --tables DIR or --no-tables, not both")
    return False if args.no_tables else (args.tables or True)


def _input_shape(text: str) -> tuple[int, int, int]:
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected C,H,W as three positive integers, e.g. 3,32,32, got {text!r}")
    return shape  # type: ignore[return-value]


_SCORE_EPILOG = """\
output:
  The table has one column per proxy key and the architecture last; a score that is
  undefined prints as nan, and a line per NaN below the table gives
  "PROXY ARCH: STATUS: REASON" (STATUS is nan for an undefined score, error for a failure).

  --json prints a list with one object per architecture:
    [{"arch": "...", "<proxy key>": value, ...,
      "status": {"<proxy key>": "ok" | "nan" | "error", ...},
      "reason": {"<proxy key>": "why it is NaN", ...}}, ...]
  "status" has every proxy key; "reason" only the keys whose status is not ok. An undefined
  value is null (strict JSON).

your own model:
  zeronas score --model my_models:make_net --proxies gradsign,epsinas
  imports my_models (from the current directory or sys.path; or path/to/file.py:make_net),
  calls make_net() after torch.manual_seed(--seed), and scores the nn.Module it returns on
  each proxy's --dataset batch. The output has one row, with arch "my_models:make_net".
"""


def _workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=1,
                        help="scoring processes, one CPU thread each; set to the number of cores (default: 1)")


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help="data directory (default: $ZERONAS_DATA, then ../shared/data)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="zeronas", description="Training-free neural architecture search with zero-cost proxies.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    parser.add_argument("--version", action="version", version=f"zeronas {__version__}")
    p_list = sub.add_parser("list", help="list the registered proxies (or benchmarks, or search algorithms)",
                            description="List the registered proxies: orientation, what each needs, its batch "
                                        "('–': data-free, reads no image), a one-line description and its options "
                                        "with their defaults.")
    p_list.add_argument("--benchmarks", action="store_true", help="list benchmarks with their datasets and metrics")
    p_list.add_argument("--searchers", action="store_true",
                        help="list search algorithms with the space capabilities and options they take")
    _data_dir(p_list)
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p_score = sub.add_parser("score", help="score architectures of a benchmark's space, or your own model",
                             epilog=_SCORE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p_score.add_argument("archs", nargs="*", help="architectures as text (NB101: 'MATRIX OPS') or official indices")
    p_score.add_argument("--file", type=Path,
                         help="a file with one architecture (text or index) per line; '#' starts a comment line")
    p_score.add_argument("--model", default=None, metavar="MODULE:FUNCTION",
                         help="score your own network instead: FUNCTION() of MODULE (importable from the current "
                              "directory or sys.path, or path/to/file.py) returns the nn.Module (see below)")
    p_score.add_argument("--input-shape", type=_input_shape, default=None, metavar="C,H,W",
                         help="with --model: the input the model takes; the --dataset images are resized to H,W "
                              "(default: the dataset's, e.g. 3,32,32 for cifar10)")
    p_score.add_argument("--classes", type=_positive_int, default=None,
                         help="with --model: the number of classes the model outputs; the batch's labels are taken "
                              "modulo it (default: the dataset's, e.g. 10 for cifar10)")
    _common(p_score)

    p_corr = sub.add_parser("correlate", help="rank correlation with ground truth on a sample of cells")
    p_corr.add_argument("--sample", type=_positive_int, default=None,
                        help="number of cells drawn with --seed (default: the benchmark's, e.g. 1000 for nb201, "
                             "all cells with ground truth for nb101)")
    p_corr.add_argument("--all", action="store_true", help="every cell with ground truth (reads the shipped score "
                                                           "tables; isomorphic cells share a score unless --no-dedup)")
    p_corr.add_argument("--dedup", action=argparse.BooleanOptionalAction, default=None,
                        help="isomorphic cells share their class representative's score, as the shipped "
                             "de-duplicated tables hold them (default: on with --all, off for a sample)")
    _tables(p_corr)
    p_corr.add_argument("--metric", default=None, help="ground-truth metric (default: the benchmark's for the dataset; "
                                                       "see 'zeronas list --benchmarks')")
    p_corr.add_argument("--results", default=None, help="JSON-lines file keeping every score; a rerun resumes from it")
    _nan(p_corr)
    p_corr.add_argument("--ensemble", type=_proxy_list, default=None, metavar="MEMBERS",
                        help="also report the rank-aggregation ensemble of these proxies as 'ensemble'")
    _aggregation(p_corr)
    _no_progress(p_corr)
    _common(p_corr)

    p_rep = sub.add_parser("report", help="reproduction report: proxies vs ground truth over datasets and seeds")
    _benchmark(p_rep)
    p_rep.add_argument("--datasets", type=_dataset_list, default=None,
                       help="comma-separated datasets (default: all of the benchmark's)")
    p_rep.add_argument("--sample", type=_positive_int, default=1000, help="number of cells (default: %(default)s)")
    p_rep.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..K-1 (default: %(default)s)")
    p_rep.add_argument("--proxies", type=_proxy_list, default=None,
                       help="comma-separated proxy names (default: the report set)")
    p_rep.add_argument("--out", type=Path, default=Path("zeronas-report"), help="report folder (default: %(default)s)")
    p_rep.add_argument("--results", default=None, help="scores file (default: OUT/results.jsonl); a rerun resumes")
    _tables(p_rep)
    p_rep.add_argument("--ensemble-members", type=_proxy_list, default=None,
                       help="fix the ensemble's members instead of selecting them on disjoint cells")
    p_rep.add_argument("--selection-sample", type=_positive_int, default=1000,
                       help="cells, disjoint from the report's, on which ensemble members are chosen "
                            "(default: %(default)s)")
    p_rep.add_argument("--no-ensemble", action="store_true", help="leave the rank-aggregation ensemble out")
    _aggregation(p_rep)
    _nan(p_rep)
    p_rep.add_argument("--resamples", type=_positive_int, default=1000,
                       help="bootstrap resamples of the confidence intervals (default: %(default)s)")
    p_rep.add_argument("--no-linear-region-study", action="store_true",
                       help="skip the study that rescores the cells with linear_regions' settings changed "
                            "one at a time")
    _data_dir(p_rep)
    _workers(p_rep)
    _no_progress(p_rep)
    p_rep.add_argument("--json", action="store_true", help="print the summary as JSON")

    p_camp = sub.add_parser("campaign", help="score every architecture of a benchmark (or a list) into a resumable "
                                             "directory of Parquet score tables",
                            description="Score every architecture of a benchmark, a seeded sample, or a given list, "
                                        "on each dataset and seed, resumably: rerun the same command after any stop "
                                        "and only what OUT lacks is scored. Records go to OUT/shards/ (one file per "
                                        "process) and are compacted to OUT/scores-*.parquet; read them with "
                                        "zeronas.load_scores(OUT).")
    _benchmark(p_camp)
    p_camp.add_argument("--datasets", type=_dataset_list, default=None,
                        help="comma-separated datasets (default: all of the benchmark's)")
    p_camp.add_argument("--proxies", type=_proxy_list, required=True, help="comma-separated proxy names")
    p_camp.add_argument("--option", type=_proxy_option, action="append", default=[], metavar="PROXY.OPTION=VALUE",
                        help="a proxy option, e.g. gradalign.aggregation=global (repeatable; JSON values)")
    p_camp.add_argument("--seeds", type=_seed_list, default=[0],
                        help="comma-separated data and initialisation seeds (default: 0)")
    p_camp.add_argument("--out", type=Path, required=True, help="campaign directory (created; a rerun resumes it)")
    p_camp.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="local processes, or a Ray cluster (pip install 'zeronas[ray]') (default: %(default)s)")
    p_camp.add_argument("--workers", type=_positive_int, default=1,
                        help="scoring processes (local) or Ray tasks in flight, one CPU thread each (default: 1)")
    p_camp.add_argument("--address", default=None,
                        help="with --executor ray: the cluster to join, e.g. 10.0.0.1:6379 or 'auto' "
                             "(default: start a local Ray instance)")
    p_camp.add_argument("--dedup", action="store_true",
                        help="score one architecture per isomorphism class and record the class map")
    p_camp.add_argument("--part", type=_part, default=None, metavar="K/N",
                        help="score every N-th architecture from the K-th: N processes (on machines sharing OUT) "
                             "split the campaign without Ray, each writing its own shards")
    p_camp.add_argument("--sample", type=_positive_int, default=None, help="score a seeded sample of this many cells")
    p_camp.add_argument("--seed", type=_non_negative_int, default=0, dest="sample_seed",
                        help="with --sample: the sampling seed (default: %(default)s)")
    p_camp.add_argument("--archs", type=Path, default=None, metavar="FILE",
                        help="score the architectures in FILE (one per line, text or official index; '#' comments)")
    _data_dir(p_camp)
    _no_progress(p_camp)
    p_camp.add_argument("--json", action="store_true", help="print the summary as JSON")
    _search_parser(sub)
    return parser


_SEARCH_EPILOG = """\
protocol:
  Training is simulated from the benchmark's recorded runs: an evaluation returns one random
  training seed's validation accuracy on --dataset (NB201 CIFAR-10: cifar10-valid, 200 epochs)
  and costs that run's training time x --cost-scale. A run's answer is its best evaluation by
  that fitness; it is reported by the test accuracy of every dataset of the benchmark. Run r
  uses seed --seed + r. Proxy scores come from the score tables (zeronas campaign), or are
  computed live with --no-tables.

examples:
  zeronas search --algorithm rea --budget 100 --runs 500
  zeronas search --algorithm rea --proxy gradsign --assist k10 --compare-vanilla --out runs/rea
  zeronas search --algorithm argmax --proxy ensemble --budget 1000 --runs 500
  zeronas search --algorithm rs --budget 12000 --budget-unit seconds

--json prints one object: "final" {dataset: {"mean", "std", "ci95": [lo, hi], "n"}}, "cost",
"runs" (seed, arch, fitness, test accuracies, costs), "settings"; with --compare-vanilla also
"vanilla" (the same without the proxy) and "difference" {dataset: {"diff", "ci95"}}.
"""


def _search_parser(sub: Any) -> None:
    from zeronas.experiments.search import algorithms
    from zeronas.search.loop import BUDGET_UNITS

    p = sub.add_parser("search", help="search a benchmark's space (simulated training), vanilla or proxy-assisted, "
                                      "or pick a proxy's arg-max",
                       description="Run a search algorithm --runs times on a benchmark with simulated training and "
                                   "report the test accuracy of the architectures it finds, with 95% intervals.",
                       epilog=_SEARCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _benchmark(p)
    p.add_argument("--dataset", choices=list_datasets(), default="cifar10",
                   help="search dataset: fitness and proxy scores (default: %(default)s)")
    p.add_argument("--algorithm", choices=algorithms(), default="rea",
                   help="search algorithm; argmax: the proxy's best of --budget random architectures "
                        "(default: %(default)s)")
    p.add_argument("--proxy", default=None, help="proxy name, or 'ensemble' (rank ensemble of --members)")
    p.add_argument("--assist", default=None, metavar="k10|warmup|move",
                   help="how the proxy steers the search: k<N> candidates (GradSign), warmup[<pool>] (top of a "
                        "random pool first), move[<epsilon>] (best neighbour)")
    p.add_argument("--members", type=_proxy_list, default=None,
                   help="ensemble members (default: meco,gradalign,jacob_cov,gradsign)")
    p.add_argument("--option", type=_proxy_option, action="append", default=[], metavar="PROXY.OPTION=VALUE",
                   help="an option of --proxy, e.g. gradsign.reduction=mean (repeatable; JSON values)")
    p.add_argument("--budget", type=_budget, default=100.0,
                   help="evaluations, simulated seconds (--budget-unit seconds), or for argmax the number of random "
                        "architectures ('all': the whole space) (default: 100)")
    p.add_argument("--budget-unit", choices=BUDGET_UNITS, default="evals", help="(default: %(default)s)")
    p.add_argument("--runs", type=_positive_int, default=500, help="independent runs (default: %(default)s)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the first run (default: %(default)s)")
    p.add_argument("--charge-proxy", action="store_true", help="proxy seconds count against a seconds budget")
    p.add_argument("--cost-scale", type=float, default=None,
                   help="training time multiplier (default: 12/200, NB201's 12-epoch search schedule approximated "
                        "from the recorded 200-epoch time)")
    p.add_argument("--population", type=_positive_int, default=None, help="REA population (default: 10)")
    p.add_argument("--sample-size", type=_positive_int, default=None, help="REA tournament size (default: 3)")
    p.add_argument("--learning-rate", type=float, default=None, help="REINFORCE Adam learning rate (default: 0.5)")
    p.add_argument("--compare-vanilla", action="store_true",
                   help="also run the algorithm without the proxy, same seeds, and report the difference")
    _tables(p)
    p.add_argument("--workers", type=_positive_int, default=1, help="processes sharing the runs (default: 1)")
    p.add_argument("--out", type=Path, default=None,
                   help="write summary.json, summary.md and best-so-far curve PNGs here")
    _data_dir(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _budget(text: str) -> float:
    if text == "all":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'all', got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number or 'all', got {text!r}")
    return value


def _part(text: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 1/2, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, got {text!r}")
    return k, n


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}")
    return list(dict.fromkeys(seeds))


def _dataset_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [n for n in names if n not in list_datasets()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown datasets {unknown or text!r}; choose from {', '.join(list_datasets())}")
    return names


def _json(value: object, **options: object) -> str:
    """Strict JSON (NaN and inf as null, as in results files), indented."""
    return strict_json.dumps(value, indent=2, **options)


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"


def _cmd_list(args: argparse.Namespace) -> None:
    if args.searchers:
        _list_searchers(args)
        return
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
            print(_json(rows))
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
        needs_data = bool(getattr(cls, "needs_data", True))  # False: reads no pixel (data-free)
        options = option_defaults(cls)
        rows.append({
            "name": name, "description": _description(cls), "higher_is_better": cls.higher_is_better,
            "needs_labels": cls.needs_labels, "needs_gradients": cls.needs_gradients, "needs_data": needs_data,
            "batch_size": cls.data.batch_size if needs_data else None,
            "options": {k: (None if v is inspect.Parameter.empty else list(v) if isinstance(v, tuple) else v)
                        for k, v in sorted(options.items())},
            "_options_text": describe_options(options),
        })
    if args.json:
        print(_json([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
                         default=repr))
        return
    print(f"{'proxy':<16}{'higher better':<15}{'labels':<8}{'gradients':<11}{'batch':<7}description")
    for r in rows:
        batch = "–" if r["batch_size"] is None else r["batch_size"]
        print(f"{r['name']:<16}{r['higher_is_better']!s:<15}{r['needs_labels']!s:<8}{r['needs_gradients']!s:<11}"
              f"{batch!s:<7}{r['description']}")
        if r["_options_text"]:
            print(f"{'':<16}options: {r['_options_text']}")
    print("batch: the images each network sees; '–': data-free (reads no image). "
          "Set an option with --option PROXY.OPTION=VALUE.")


def _list_searchers(args: argparse.Namespace) -> None:
    from zeronas.search import get_searcher, list_searchers

    rows = []
    for name in list_searchers():
        cls = get_searcher(name)
        options = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                   if k not in ("self", "space", "seed", "assist")}
        rows.append({"name": name, "description": cls.description, "needs": [c.__name__ for c in cls.requires],
                     "options": options})
    rows.append({"name": "argmax", "description": "training-free: a proxy's best of N random architectures",
                 "needs": [], "options": {}})
    if args.json:
        print(_json(rows))
        return
    for row in rows:
        needs = f" (needs {', '.join(row['needs'])})" if row["needs"] else ""
        options = ", ".join(f"{k}={v}" for k, v in row["options"].items())
        print(f"{row['name']:<10}{row['description']}{needs}" + (f"; options: {options}" if options else ""))


def _description(cls: type) -> str:
    """The first line of a proxy class's own docstring."""
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    return doc.splitlines()[0].strip() if doc else ""


def _read_archs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(architecture text, where it came from: "" for an argument, "FILE line N" for a file line)."""
    items = [(item, "") for item in args.archs]
    if args.file is not None:
        if not args.file.is_file():
            raise ZeronasUserError(f"architecture file {str(args.file)!r} does not exist; pass an existing --file")
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ZeronasUserError(f"architecture file {str(args.file)!r} cannot be read as text ({type(exc).__name__}); "
                                   "pass a text file with one architecture per line") from None
        items += [(line.strip(), f"{args.file} line {number}")
                  for number, line in enumerate(text.splitlines(), start=1)
                  if line.strip() and not line.startswith("#")]
    if not items:
        raise ZeronasUserError("no architectures given; pass architecture strings, indices, --file or --model")
    return items


def _parse_arch(space, item: str):  # type: ignore[no-untyped-def]
    from zeronas.spaces import Enumerable

    if item.isdigit() and isinstance(space, Enumerable):
        index, total = int(item), len(space)
        if index >= total:
            raise ZeronasUserError(f"{space.name} index {index} out of range; use 0..{total - 1}")
        return space.all_archs()[index]
    return space.parse(item)


def _parse_located(space, item: str, origin: str):  # type: ignore[no-untyped-def]
    """``_parse_arch``, with a file line's errors prefixed by the file and line number."""
    try:
        return _parse_arch(space, item)
    except ZeronasUserError as exc:
        if not origin:
            raise
        raise ZeronasUserError(f"{origin}: {exc}") from None


def _cmd_score(args: argparse.Namespace) -> None:
    if args.model is not None:
        _cmd_score_model(args)
        return
    if args.input_shape is not None or args.classes is not None:
        raise ZeronasUserError("--input-shape and --classes describe a --model; a benchmark's architectures take the "
                               "--dataset's shape and classes")
    from zeronas.runner import Evaluator, make_executor

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    archs = [_parse_located(benchmark.space, item, origin) for item, origin in _read_archs(args)]
    options = _options(args)
    with make_executor(args.workers) as executor:
        evaluator = Evaluator(benchmark, dataset=args.dataset, proxies=args.proxies, seed=args.seed,
                              options=options, executor=executor, data_dir=args.data_dir,
                              progress=len(archs) > 1)
        table = evaluator.score(archs)
    keys = table.keys()
    rows = [
        _score_row(benchmark.space.format(a), {k: (float(table[k][i]), str(table.status[k][i]),
                                                   str(table.reasons[k][i]) if k in table.reasons else "")
                                               for k in keys})
        for i, a in enumerate(archs)
    ]
    _print_scores(rows, keys, args.json)


def _score_row(arch: str, scores: dict[str, tuple[float, str, str]]) -> dict[str, Any]:
    """One row of score's output from ``key -> (value, status, reason)`` (see ``_SCORE_EPILOG``)."""
    row: dict[str, Any] = {"arch": arch}
    row.update({key: value for key, (value, _, _) in scores.items()})
    row["status"] = {key: status for key, (_, status, _) in scores.items()}
    row["reason"] = {key: reason or "no reason recorded" for key, (_, status, reason) in scores.items()
                     if status != "ok"}
    return row


def _print_scores(rows: list[dict[str, Any]], keys: list[str], as_json: bool) -> None:
    if as_json:
        print(_json(rows))
        return
    widths = [max(14, len(k)) for k in keys]
    print("  ".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True)) + "  arch")
    for row in rows:
        print("  ".join(f"{_fmt(row[k]):>{w}}" for k, w in zip(keys, widths, strict=True)) + "  " + row["arch"])
    notes = [f"{key} {row['arch']}: {row['status'][key]}: {reason}"
             for row in rows for key, reason in row["reason"].items()]
    if notes:
        print()
        print("\n".join(notes))


def _check_model(model: Any, spec: str, input_shape: tuple[int, int, int], classes: int) -> None:
    """One forward pass of two zero inputs: refuse, in one line, a model that does not take ``input_shape``
    or returns fewer logits than ``classes``. The model's modes and state are left as they were."""
    import torch

    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros((2, *input_shape)))
    except Exception as exc:  # noqa: BLE001  (the user's model)
        shape = ", ".join(map(str, input_shape))
        raise ZeronasUserError(f"--model: {spec!r} cannot run on inputs of shape (N, {shape}) ({one_line(exc)}); "
                               "pass the --input-shape C,H,W it takes") from None
    finally:
        for module, training in modes:
            module.training = training
    if isinstance(out, torch.Tensor) and out.ndim == 2 and out.shape[1] < classes:
        raise ZeronasUserError(f"--model: {spec!r} returns {out.shape[1]} outputs per sample, fewer than the "
                               f"{classes} classes; pass --classes {out.shape[1]} (labels are taken modulo it)")


def _cmd_score_model(args: argparse.Namespace) -> None:
    """``score --model MODULE:FUNCTION``: one user network, each proxy on its own --dataset batch."""
    import torch.nn.functional as F

    from zeronas.data import load_batch
    from zeronas.model_factory import load_model
    from zeronas.runner.evaluator import resolve_proxy_instances
    from zeronas.scoring import score_detailed

    if args.archs or args.file is not None:
        raise ZeronasUserError("pass architectures (or --file) or --model, not both")
    dataset = get_dataset(args.dataset)
    input_shape = args.input_shape or tuple(dataset.input_shape)
    classes = args.classes or dataset.num_classes
    if input_shape[0] != dataset.input_shape[0]:
        raise ZeronasUserError(f"--input-shape has {input_shape[0]} channels but {dataset.name} images have "
                               f"{dataset.input_shape[0]}; pass --input-shape {dataset.input_shape[0]},H,W")
    proxies = resolve_proxy_instances(args.proxies, _options(args))
    model = load_model(args.model, seed=args.seed)
    _check_model(model, args.model, input_shape, classes)
    by_recipe: dict[Any, list[Any]] = {}
    for proxy in proxies:
        by_recipe.setdefault(proxy.data, []).append(proxy)
    details: dict[str, Any] = {}
    for recipe, group in by_recipe.items():
        batch = load_batch(dataset.name, batch_size=recipe.batch_size, seed=args.seed,
                           normalization=recipe.normalization, augment=recipe.augment, data_dir=args.data_dir)
        inputs, targets = batch.inputs, batch.targets
        if tuple(inputs.shape[2:]) != tuple(input_shape[1:]):
            inputs = F.interpolate(inputs, size=tuple(input_shape[1:]), mode="bilinear", align_corners=False)
        if classes < dataset.num_classes:
            targets = targets % classes
        details.update(score_detailed(model, inputs, targets, group, seed=args.seed))
    keys = [proxy.key for proxy in proxies]
    row = _score_row(args.model, {k: (float(details[k].value), details[k].status, details[k].reason) for k in keys})
    _print_scores([row], keys, args.json)


def _capped_sample(benchmark: Any, datasets: Sequence[str], metric: str | None, sample: int | None) -> int | None:
    """``sample``, or None (every cell) with a one-line warning when it exceeds the population."""
    if sample is None:
        return None
    total = max(len(benchmark.population(d, metric)) for d in datasets)
    if sample <= total:
        return sample
    print(f"zeronas: warning: --sample {sample} exceeds the {total:,} cells with ground truth; using all of them",
          file=sys.stderr)
    return None


def _cmd_correlate(args: argparse.Namespace) -> None:
    from zeronas.experiments import CorrelateConfig, correlate
    from zeronas.runner import ResultStore, make_executor

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    options = _options(args)
    sample = None if args.all else _capped_sample(benchmark, [args.dataset], args.metric,
                                                  args.sample or benchmark.default_sample)
    config = CorrelateConfig(benchmark=args.benchmark, dataset=args.dataset, sample=sample, seed=args.seed,
                             proxies=tuple(args.proxies), options=options, metric=args.metric,
                             nan_policy=args.nan_policy, ensemble=tuple(args.ensemble or ()),
                             aggregation=args.aggregation,
                             share_classes=args.all if args.dedup is None else args.dedup)
    tables = _tables_choice(args)
    with ResultStore(args.results) as store, make_executor(args.workers) as executor:
        result = correlate(config, store=store, executor=executor, data_dir=args.data_dir,
                           progress=not args.no_progress, tables=tables)
    if args.json:
        print(_json({name: c.as_dict() for name, c in result.correlations.items()}))
        return
    over = "over finite scores" if args.nan_policy == "drop" else "with NaN scores ranked worst"
    shared = f" ({result.classes} isomorphism classes, one score each)" if result.classes else ""
    print(f"{args.benchmark} {args.dataset}: {result.cells} cells{shared}, seed {args.seed}, against {result.metric}; "
          f"correlations oriented (positive = ranks well) {over}")
    width = max(16, *(len(name) + 2 for name in result.correlations))
    print(f"{'proxy':<{width}}{'spearman':>10}{'kendall':>10}{'n':>7}{'nan':>6}  higher is better")
    for name, c in result.correlations.items():
        print(f"{name:<{width}}{_fmt(c.spearman):>10}{_fmt(c.kendall):>10}{c.n:>7}{c.nan:>6}  {c.higher_is_better}")


def _cmd_report(args: argparse.Namespace) -> None:
    from zeronas.experiments import DEFAULT_PROXIES, ReproductionConfig
    from zeronas.report import make_report

    benchmark = get_benchmark(args.benchmark, args.data_dir)
    datasets = tuple(args.datasets or benchmark.datasets)
    for dataset in datasets:
        benchmark.check_dataset(dataset)
    config = ReproductionConfig(
        benchmark=args.benchmark, datasets=datasets, sample=_capped_sample(benchmark, datasets, None, args.sample),
        seeds=args.seeds, proxies=tuple(args.proxies or DEFAULT_PROXIES), ensemble=not args.no_ensemble,
        ensemble_members=tuple(args.ensemble_members) if args.ensemble_members else None,
        selection_sample=args.selection_sample, aggregation=args.aggregation, nan_policy=args.nan_policy,
        resamples=args.resamples,
    )
    command = "zeronas " + shlex.join(args.argv)
    tables = _tables_choice(args)
    m, paths = make_report(args.out, config, results=args.results,
                           study_linear_regions=not args.no_linear_region_study, data_dir=args.data_dir,
                           command=command, workers=args.workers, progress=not args.no_progress,
                           tables=tables)
    if args.json:
        summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
        print(_json({"paths": {k: str(v) for k, v in paths.items()}, **summary}))
        return
    print(f"report: {paths['markdown']} and {paths['html']} ({m.seconds:.0f} s)")
    print(f"{'proxy':<24}" + "".join(f"{d:>12}" for d in m.datasets) + "   Spearman rho, seed 0")
    for name in m.proxies:
        print(f"{name:<24}" + "".join(f"{_fmt(m.metrics[d][name]['spearman'].value):>12}" for d in m.datasets))


def _cmd_campaign(args: argparse.Namespace) -> None:
    from zeronas.campaign import run_campaign
    from zeronas.runner.executors import make_executor

    if args.archs is not None and args.sample is not None:
        raise ZeronasUserError("give --archs FILE or --sample N, not both")
    if args.address is not None and args.executor != "ray":
        raise ZeronasUserError("--address joins a Ray cluster; add --executor ray")
    benchmark = get_benchmark(args.benchmark, args.data_dir)
    datasets = args.datasets or list(benchmark.datasets)
    for dataset in datasets:
        benchmark.check_dataset(dataset)
    archs = None
    if args.archs is not None:
        items = _read_archs(argparse.Namespace(archs=[], file=args.archs))
        archs = [_parse_located(benchmark.space, item, origin) for item, origin in items]
    with make_executor(args.workers, kind=args.executor, address=args.address) as executor:
        result = run_campaign(benchmark, datasets=datasets, proxies=args.proxies, options=_options(args),
                              seeds=args.seeds, out=args.out, archs=archs, sample=args.sample,
                              sample_seed=args.sample_seed, dedup=args.dedup, part=args.part, executor=executor,
                              data_dir=args.data_dir, progress=not args.no_progress)
    if args.json:
        print(_json(result.as_dict()))
        return
    tables = result.compaction.get("tables", {})
    print(f"{args.out}: {result.architectures} architectures ({result.scored_architectures} scored per dataset and "
          f"seed), {result.jobs_run} networks scored now, {result.records_written} records, {result.seconds:.0f} s")
    for name, rows in tables.items():
        print(f"  {name}: {rows} rows")


def _cmd_search(args: argparse.Namespace) -> None:
    from zeronas.experiments.search import SearchConfig, compare, markdown_summary, run_search_experiment, write_outputs
    from zeronas.search import NB201_SEARCH_COST_SCALE, get_searcher

    algorithm_options = {name: value for name, value in (("population", args.population), ("sample", args.sample_size),
                                                          ("learning_rate", args.learning_rate)) if value is not None}
    if args.compare_vanilla and (args.proxy is None or args.algorithm == "argmax"):
        raise ZeronasUserError("--compare-vanilla compares a proxy-assisted search with the same algorithm alone; "
                               "add --proxy and --assist")
    if args.members and args.proxy != "ensemble":
        raise ZeronasUserError("--members names the ensemble's proxies; add --proxy ensemble")
    if algorithm_options:
        searcher = None if args.algorithm == "argmax" else get_searcher(args.algorithm)
        accepted = inspect.signature(searcher.__init__).parameters if searcher is not None else {}
        wrong = [n for n in algorithm_options if n not in accepted]
        if wrong:
            flags = ", ".join("--" + {"sample": "sample-size"}.get(n, n).replace("_", "-") for n in wrong)
            verb = "does" if len(wrong) == 1 else "do"
            raise ZeronasUserError(f"{flags} {verb} not apply to --algorithm {args.algorithm}")
    members = {"members": tuple(args.members)} if args.members else {}
    foreign = sorted({name for name, _, _ in args.option} - {args.proxy})
    if foreign and args.proxy is not None:
        raise ZeronasUserError(f"--option configures --proxy {args.proxy}, not {', '.join(foreign)}")
    proxy_options = {key: value for _, key, value in args.option}
    config = SearchConfig(benchmark=args.benchmark, dataset=args.dataset, algorithm=args.algorithm, proxy=args.proxy,
                          proxy_options=proxy_options, assist=args.assist, budget=args.budget,
                          budget_unit=args.budget_unit, runs=args.runs, seed=args.seed, charge_proxy=args.charge_proxy,
                          cost_scale=args.cost_scale if args.cost_scale is not None else NB201_SEARCH_COST_SCALE,
                          algorithm_options=algorithm_options, tables=_tables_choice(args), workers=args.workers,
                          **members)
    if args.proxy is not None:
        get_proxy_class(args.proxy) if args.proxy != "ensemble" else None
    result = run_search_experiment(config, data_dir=args.data_dir)
    results, comparisons, vanilla = [result], {}, None
    if args.compare_vanilla:
        from dataclasses import replace

        vanilla = run_search_experiment(replace(config, proxy=None, assist=None), data_dir=args.data_dir)
        comparisons = {result.config.label: compare(result, vanilla)}
        results.append(vanilla)
    if args.out is not None:
        write_outputs(args.out, results, comparisons)
    if args.json:
        payload = result.as_dict()
        if vanilla is not None:
            payload["vanilla"] = vanilla.as_dict()
            payload["difference"] = comparisons[result.config.label]
        print(_json(payload))
        return
    print(markdown_summary(results, comparisons), end="")
    print(f"{config.runs} runs, {sum(r.seconds for r in results):.1f} s" +
          (f"; written to {args.out}" if args.out is not None else ""))


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # type: ignore[no-untyped-def]
    return f"zeronas: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    from zeronas.runner.executors.base import raise_interrupted
    from zeronas.runner.executors.worker_process import retain_freed_memory

    retain_freed_memory()  # the command scores in this process too (one worker, live search)
    warnings.formatwarning = _one_line_warning
    parser = _build_parser()
    # SIGTERM (timeout, kill, a batch scheduler) unwinds like Ctrl-C for the whole command, so
    # stores and worker pools close on the way out, also between scoring runs.
    previous = signal.getsignal(signal.SIGTERM) if _in_main_thread() else None
    if previous is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        commands = {"list": _cmd_list, "score": _cmd_score, "correlate": _cmd_correlate, "report": _cmd_report,
                    "campaign": _cmd_campaign, "search": _cmd_search}
        commands[args.command](args)
    except ZeronasUserError as exc:
        print(f"zeronas: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print("zeronas: interrupted", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", signal.SIGINT))
    finally:
        if previous is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return 0


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
