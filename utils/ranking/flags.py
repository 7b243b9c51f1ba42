"""show_result.py's command line: its flags, each method's defaults for them, and the checks before anything is read.

The flags whose default differs by method (benchmark, judge, baseline,
interval level) take it from the method chosen (utils/ranking/methods/): the
one --method names, else the benchmark's. ``parse_args`` returns the flags
with ``rating`` (the method), ``config`` (the --setting-file judge config) and
``method_note`` (why that method, when no --method chose it).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from utils.plumbing.cli import DefaultsShown
from utils.plumbing.errors import InputError
from utils.plumbing.store import check_writable
from utils.ranking.categories import V2_BASELINES
from utils.ranking.methods import method_for_bench, method_named, methods
from utils.ranking.methods.base import DEFAULT_ENDPOINT_FILE
from utils.ranking.settings import DEFAULT_METHOD, RunSettings

# flags whose default differs by method: argparse leaves them out, ``parse_args`` fills them in
PER_METHOD = {"bench_name": lambda s: s.bench, "judge_name": lambda s: s.judges[0],
              "baseline": lambda s: [s.baseline] if s.baseline else [], "confidence": lambda s: s.confidence}
def _claims() -> str:
    """Which benchmarks each method is the default of, for --help."""
    return "; ".join(f"{m.name} for {m.bench_prefix}*" if m.bench_prefix else f"{m.name} for any other"
                     for m in sorted(methods().values(), key=lambda m: -len(m.bench_prefix)))


def _default_help(key: str) -> str:
    def show(v):
        return " ".join(v) if isinstance(v, list) else f"{v:g}" if isinstance(v, float) else v
    return "default: " + ", ".join(f"{show(PER_METHOD[key](m.defaults)) or 'per category'} with {name}"
                                   for name, m in methods().items())


def _parser(description: str) -> argparse.ArgumentParser:
    d = RunSettings()
    p = argparse.ArgumentParser(description=description, formatter_class=DefaultsShown)
    p.add_argument("--method", choices=list(methods()), default=argparse.SUPPRESS,
                   help="whose leaderboard math: v0.1's Bradley-Terry over battles, or v2.0's per-category win rates "
                        "(default: the method of the benchmark, from --bench-name or else the --setting-file's "
                        f"bench_name: {_claims()})")
    # the original tool's flags, with its defaults (per method where they differ: no default shown here)
    p.add_argument("--bench-name", default=argparse.SUPPRESS,
                   help=f"data/<bench>/ holds the questions and judgments ({_default_help('bench_name')})")
    p.add_argument("--judge-name", default=argparse.SUPPRESS,
                   help=f"read model_judgment/<judge>/ ({_default_help('judge_name')})")
    p.add_argument("--baseline", action="append", default=argparse.SUPPRESS, metavar="[CATEGORY=]MODEL",
                   help="the model every answer was compared with; with arena-hard-v2, CATEGORY=MODEL sets one "
                        "category's (repeatable) and MODEL every category's "
                        f"(v2.0's own: {', '.join(f'{c}={m}' for c, m in V2_BASELINES.items())}; "
                        f"{_default_help('baseline')})")
    p.add_argument("--load-battles", nargs="?", const="", metavar="PATH",
                   help="read battles instead of judgments: PATH (ours, or the original tool's "
                        "data/arena_hard_battles.jsonl), else the last run's data/<bench>/results/<judges>/"
                        "arena_hard_battles.jsonl")
    p.add_argument("--load-bootstrap", nargs="?", const="", metavar="PATH",
                   help="reuse saved bootstrap results: PATH (ours or the original tool's), else the last run's "
                        "data/<bench>/results/<judges>/bootstrapping_results.jsonl")
    p.add_argument("--show-elo", action="store_true", help="show Elo-scale ratings instead of win rates")
    p.add_argument("--weight", type=int, default=d.weight, help="how many battles a strong verdict (>>) counts as")
    p.add_argument("--num-rounds", type=int, default=d.rounds,
                   help="bootstrap rounds (at least 2; refused when their results would not fit in memory)")
    p.add_argument("--output", action="store_true", help="also write leaderboard/arena_hard_leaderboard_YYYYMMDD.csv")
    p.add_argument("--first-game-only", action="store_true", help="ignore game 2 (the swapped positions)")
    style = p.add_mutually_exclusive_group()
    style.add_argument("--style-control", action="store_true", help="control for answer length and markdown")
    style.add_argument("--length-control-only", action="store_true", help="control for answer length only")
    style.add_argument("--markdown-control-only", action="store_true", help="control for markdown only")
    _our_flags(p, d)
    return p


def _our_flags(p: argparse.ArgumentParser, d: RunSettings) -> None:
    """The flags the original tool does not have."""
    p.add_argument("--data-dir", default="data", help="where the benchmarks live")
    p.add_argument("--csv", metavar="PATH", help="write the table with bounds, ratings, coverage and settings")
    p.add_argument("--confidence", type=float, default=argparse.SUPPRESS,
                   help=f"interval level in percent ({_default_help('confidence')})")
    p.add_argument("--seed", type=int, default=d.seed,
                   help="bootstrap seed, 0 or more (same inputs and seed, same table)")
    p.add_argument("--bootstrap-unit", choices=("battle", "question"), default=d.bootstrap_unit,
                   help="resample single battles (the original; arena-hard-v2: single outcome units) or whole "
                        "questions with all their battles")
    p.add_argument("--resampling", choices=("multinomial", "poisson"), default="poisson" if d.poisson else "multinomial",
                   help="how a bootstrap round draws: a fixed-size multinomial sample, or Poisson(1) counts")
    p.add_argument("--judge-names", nargs="+", metavar="JUDGE", help="pool the battles of several judges")
    p.add_argument("--category", nargs="+",
                   help="only questions of these categories; with arena-hard-v2, one table for each (a category or "
                        "a subcategory such as coding), and without it one for every category of the question file "
                        "(a NOT SCORED line, with the commands that fix it, for one without counted judgments)")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report: table, plot, every question")
    p.add_argument("--setting-file", metavar="JUDGE_CONFIG.yaml",
                   help="a judge config: its bench_name unless --bench-name is given, its judge_model (one or a "
                        "list) unless --judge-name or --judge-names is given; arena-hard-v0.1: its baseline_model "
                        "unless --baseline is given; arena-hard-v2: each category's baseline")
    p.set_defaults(setting_shown=None)  # how messages name --setting-file when the run supplied it (--from-bundles)
    p.add_argument("--compare", nargs=2, metavar=("A", "B"),
                   help="is A better than B: the difference of their scores, its interval from the paired bootstrap "
                        "rounds, the share of rounds A is ahead, and how many questions would separate them")
    p.add_argument("--pairs", metavar="PATH",
                   help="write the head-to-head comparison of every pair of models as CSV")
    p.add_argument("--from-bundles", nargs="+", metavar="BUNDLE",
                   help="score result bundles (python -m utils.bundle pack) together instead of --data-dir; refused "
                        "when they differ in questions, baselines, judge or judge prompt")
    p.add_argument("--endpoint-file", metavar="API_CONFIG.yaml",
                   help=f"with pooled judges: the family: of each entry, to flag a judge that rates its own family "
                        f"(without it {DEFAULT_ENDPOINT_FILE} when it exists, and names where no entry says)")


def parse_args(argv=None, description: str = "") -> argparse.Namespace:
    """The flags, checked, with the --setting-file judge config loaded (``args.config``, None without one) and the
    method chosen (``args.method``; ``args.method_note`` says why when no --method chose it)."""
    args = _parser(description).parse_args(argv)
    if args.from_bundles:  # checked and unpacked into one temporary data directory (docs/bundles.md)
        from utils.bundles.merge import open_bundles
        open_bundles(args)
    args.given = {key for key in PER_METHOD if hasattr(args, key)}  # the per-method flags given on the command line
    args.config = None
    if args.setting_file:
        from utils.plumbing.config import load_judge_settings
        # only its bench, judges and baselines matter: the models ranked are those with judgments
        args.config, _ = load_judge_settings(args.setting_file, "", (), models_needed=False)
        if "bench_name" not in args.given:
            args.bench_name = args.config.bench_name
    args.method_note = None if hasattr(args, "method") else _choose_method(args)
    args.rating = method_named(args.method)
    for key, default in PER_METHOD.items():
        if not hasattr(args, key):
            setattr(args, key, default(args.rating.defaults))
    for flag in args.rating.refused_flags:
        if getattr(args, flag[2:].replace("-", "_")) not in (None, False):
            raise InputError(f"has no meaning with --method {args.method}, which reads the judgments directly "
                             "and writes no battles or bootstrap files", key=flag)
    if args.num_rounds < 2 and args.load_bootstrap is None:
        raise InputError(f"must be at least 2 (an interval needs several bootstrap rounds; 100 is usual), got "
                         f"{args.num_rounds}", key="--num-rounds")
    if args.seed < 0:
        raise InputError(f"must be 0 or more (numpy's random generators take no negative seed), got {args.seed}",
                         key="--seed")
    if not 0 < args.confidence < 100:
        raise InputError(f"must be between 0 and 100, got {args.confidence}", key="--confidence")
    if args.compare and args.compare[0] == args.compare[1]:
        raise InputError(f"name two different models, got {args.compare[0]!r} twice", key="--compare")
    if args.endpoint_file and not Path(args.endpoint_file).is_file():
        raise InputError("file not found", args.endpoint_file, key="--endpoint-file")
    return args


def _choose_method(args: argparse.Namespace) -> str:
    """Set ``args.method`` from the benchmark named (method_for_bench) and return the line that says so."""
    if not hasattr(args, "bench_name"):
        args.method = DEFAULT_METHOD
        others = [m for m in methods().values() if m.name != DEFAULT_METHOD]
        return (f"method {args.method} (the default; "
                + "; ".join(f"--bench-name {m.defaults.bench} or --method {m.name} for {m.title}" for m in others)
                + ")")
    args.method = method_for_bench(args.bench_name).name
    source = f"--bench-name {args.bench_name}" if "bench_name" in args.given else \
        f"bench_name {args.bench_name} of {args.setting_shown or args.setting_file}"
    return f"method {args.method} (from {source}; --method to change)"



def check_outputs(args: argparse.Namespace) -> None:
    """The files asked for are checked now, not found unwritable after a long bootstrap."""
    for flag, path in (("--csv", args.csv), ("--html", args.html), ("--pairs", args.pairs)):
        if path:
            check_writable(Path(path), flag)
    if args.output:
        check_writable(Path("leaderboard") / "arena_hard_leaderboard.csv", "--output")
