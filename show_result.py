"""Rank models from their judgments: scores against the baseline, with bootstrap intervals.

    python show_result.py [--bench-name arena-hard-v0.1] [--judge-name gpt-4-1106-preview] [--style-control] ...
    python show_result.py --bench-name arena-hard-v2.0 [--category hard_prompt creative_writing] [--style-control] ...

Reads data/<bench>/model_judgment/<judge>/*.jsonl (either file layout) and
prints the table. The method follows the benchmark unless --method names
one (arena-hard-v2* is scored as v2.0, any other as v0.1), and the output
says which. --method arena-hard-v0.1 fits Bradley-Terry over battles, saves
them and the bootstrap results to data/<bench>/results/<judge>/
(arena_hard_battles.jsonl, bootstrapping_results.jsonl; pooled judges:
<judge1>+<judge2>); --method arena-hard-v2 prints one table per category,
each against its own baseline, with Arena-Hard v2.0's weighted win rates,
accounts for each category it cannot score (utils/ranking/missing.py) and
saves nothing but the --csv / --html asked for. What a
run reads is in utils/ranking/inputs.py, the math in utils/ranking/leaderboard.py
(over rating.py and rating_v2.py), the tables and CSVs in utils/ranking/tables.py.
--compare A B and --pairs PATH compare models head to head from the paired
bootstrap rounds (utils/ranking/comparison.py); pooled judges get each judge's
own table, kappa and self-preference flags (utils/ranking/judges.py).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from pathlib import Path

from utils.asking.accounts import model_costs
from utils.plumbing.cli import run_cli
from utils.plumbing.fix_commands import RunFiles
from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.plumbing.names import battles_file, bootstrap_results_file, check_name, judgment_dir
from utils.ranking.answer_info import answers_of, length_warnings
from utils.ranking.battles import save_battles
from utils.ranking.bootstrap_file import write_bootstrap
from utils.ranking.inputs import check_memory, read_judgment_findings, read_v01_inputs, read_v2_inputs
from utils.ranking.judgment_checks import findings_warnings, flag_board
from utils.ranking.leaderboard import (METHODS, V01_METHOD, V2_BASELINES, V2_METHOD, RunSettings, category_index,
                                       compute_leaderboard, compute_v2_leaderboard, method_for_bench, v2_categories)
from utils.ranking.comparison import compare_board
from utils.ranking.judges import JUDGES_FILE, configured_families, v01_agreement, v2_agreement, write_judges_file
from utils.ranking.missing import missing_category
from utils.ranking.tables import render_comparison, render_judges, render_table, write_csv, write_original_csv, \
    write_pairs_csv
from utils.plumbing.store import check_writable

DEFAULTS = {method: RunSettings.for_method(method) for method in METHODS}
# flags whose default differs by method: argparse leaves them out, ``_method_defaults`` fills them in
PER_METHOD = {"bench_name": lambda s: s.bench, "judge_name": lambda s: s.judges[0],
              "baseline": lambda s: [s.baseline] if s.baseline else [], "confidence": lambda s: s.confidence}
# v0.1 flags about battles and its files, which v2 has none of
V01_ONLY = ("--load-battles", "--load-bootstrap", "--first-game-only", "--output", "--show-elo")
DEFAULT_ENDPOINT_FILE = "config/api_config.yaml"


def _default_help(key: str) -> str:
    def show(v):
        return " ".join(v) if isinstance(v, list) else f"{v:g}" if isinstance(v, float) else v
    return "default: " + ", ".join(f"{show(PER_METHOD[key](s)) or 'per category'} with {m}" for m, s in DEFAULTS.items())


def _parser() -> argparse.ArgumentParser:
    d = DEFAULTS[V01_METHOD]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--method", choices=METHODS, default=argparse.SUPPRESS,
                   help="whose leaderboard math: v0.1's Bradley-Terry over battles, or v2.0's per-category win rates "
                        f"(default: {V2_METHOD} when the benchmark, from --bench-name or else the --setting-file's "
                        f"bench_name, is {V2_METHOD}*; else {V01_METHOD})")
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


def parse_args(argv=None) -> argparse.Namespace:
    """The flags, checked, with the --setting-file judge config loaded (``args.config``, None without one) and the
    method chosen (``args.method``; ``args.method_note`` says why when no --method chose it)."""
    args = _parser().parse_args(argv)
    if args.from_bundles:  # checked and unpacked into one temporary data directory (docs/bundles.md)
        from utils.bundles.merge import open_bundles
        open_bundles(args)
    args.given = {key for key in PER_METHOD if hasattr(args, key)}  # the per-method flags given on the command line
    args.config = None
    if args.setting_file:
        from utils.plumbing.config import load_judge_settings
        args.config, _ = load_judge_settings(args.setting_file, "", ())  # only its bench, judges, baselines matter
        if "bench_name" not in args.given:
            args.bench_name = args.config.bench_name
    args.method_note = None if hasattr(args, "method") else _choose_method(args)
    for key, default in PER_METHOD.items():
        if not hasattr(args, key):
            setattr(args, key, default(DEFAULTS[args.method]))
    if args.method == V2_METHOD:
        for flag in V01_ONLY:
            if getattr(args, flag[2:].replace("-", "_")) not in (None, False):
                raise InputError("has no meaning with --method arena-hard-v2, which reads the judgments directly "
                                 "and writes no battles or bootstrap files", key=flag)
    else:
        if len(args.baseline) > 1:
            raise InputError("give one baseline with --method arena-hard-v0.1", key="--baseline")
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
        args.method = V01_METHOD
        return (f"method {args.method} (the default; --bench-name {DEFAULTS[V2_METHOD].bench} or --method "
                f"{V2_METHOD} for Arena-Hard v2.0)")
    args.method = method_for_bench(args.bench_name)
    source = f"--bench-name {args.bench_name}" if "bench_name" in args.given else \
        f"bench_name {args.bench_name} of {args.setting_file}"
    return f"method {args.method} (from {source}; --method to change)"


def run_settings(args: argparse.Namespace, config=None) -> RunSettings:
    """The settings the flags ask for; ``config`` (the --setting-file judge config) names judges and a baseline the
    flags leave open."""
    style = "style" if args.style_control else "length" if args.length_control_only else \
        "markdown" if args.markdown_control_only else None
    judges = args.judge_names or ([args.judge_name] if config is None or "judge_name" in args.given
                                  else list(config.judge_models))
    twice = [judge for judge in dict.fromkeys(judges) if judges.count(judge) > 1]
    if twice:
        raise InputError(f"names {twice[0]} twice: each judge's verdicts count once", key="--judge-names")
    if args.method == V2_METHOD:
        baseline = ""  # one per category
    else:
        baseline = args.baseline[0] if config is None or "baseline" in args.given else config.prompt.baseline_model
    return RunSettings(bench=args.bench_name, judges=tuple(judges), baseline=baseline,
                       weight=args.weight, first_game_only=args.first_game_only,
                       style=style, rounds=args.num_rounds, confidence=args.confidence, seed=args.seed,
                       bootstrap_unit=args.bootstrap_unit, poisson=args.resampling == "poisson",
                       categories=tuple(args.category or ()), rating_method=args.method)


def main(argv=None) -> int:
    args = parse_args(argv)
    # the files asked for are checked now, not found unwritable after a long bootstrap
    for flag, path in (("--csv", args.csv), ("--html", args.html)):
        if path:
            check_writable(Path(path), flag)
    if args.output:
        check_writable(Path("leaderboard") / "arena_hard_leaderboard.csv", "--output")
    if args.pairs:
        check_writable(Path(args.pairs), "--pairs")
    config = args.config
    settings, data_dir = run_settings(args, config), Path(args.data_dir)
    if settings.v2:
        return main_v2(args, settings, data_dir, config)
    battles_path = _as_given(battles_file(data_dir, settings.bench, settings.judges))
    boot_path = _as_given(bootstrap_results_file(data_dir, settings.bench, settings.judges))
    inputs = read_v01_inputs(settings, data_dir, _warn, _given(args.load_battles, battles_path),
                             _given(args.load_bootstrap, boot_path))
    if args.compare:
        _check_compared(args.compare, [inputs.battles.models])
    # judgments were read: which are stale or filed under the wrong question is found on the other core meanwhile
    checking = None if args.load_battles is not None else \
        ForkedChild(lambda: read_judgment_findings(settings, data_dir, inputs.answers))
    with checking or contextlib.nullcontext():
        board = compute_leaderboard(inputs.battles, inputs.settings, inputs.avg_tokens, inputs.question_ids,
                                    inputs.features, inputs.saved_bootstrap)
        if checking is not None:
            board = _flagged([board], checking.result(), settings)[0]
    _say_method(args)
    sys.stdout.write(render_table(board, show_elo=args.show_elo))
    comparisons = _comparisons(args, [board])
    agreement = None
    if len(settings.judges) > 1:
        if args.load_battles is not None:
            _warn("warning: battles loaded from a file do not say which judge gave them: no judge agreement")
        else:
            agreement = v01_agreement(inputs, board, data_dir, _families(args))
            sys.stdout.write(render_judges(agreement))
    not_saved: list[str] = []  # files of data/ that could not be written, and why
    if args.load_battles is None and len(inputs.battles):
        _save(lambda: save_battles(inputs.battles, battles_path), battles_path, not_saved)
    if args.load_bootstrap is None:
        _save(lambda: write_bootstrap(board, boot_path), boot_path, not_saved)
    if agreement is not None:
        judges_path = boot_path.with_name(JUDGES_FILE)
        _save(lambda: write_judges_file(agreement, judges_path), judges_path, not_saved)
    if not_saved:
        _warn(f"warning: could not save {'; '.join(not_saved)}: the table above is complete, but --load-battles "
              "and --load-bootstrap will not find this run's files")
    _write_outputs(args, [board], data_dir, comparisons, agreement)
    if args.output:
        path = _writing(lambda: write_original_csv(board, Path("leaderboard"), show_elo=args.show_elo),
                        Path("leaderboard"), "--output")
        print(f"wrote {path}")
    return 0


def main_v2(args, settings: RunSettings, data_dir: Path, config) -> int:
    """Arena-Hard v2.0: one table per category, each against its own baseline."""
    inputs = read_v2_inputs(settings, data_dir, _warn)
    index = category_index(inputs.questions, inputs.rows)
    wanted, baselines = v2_categories(index, tuple(args.category or ()), *_v2_baseline_flags(args.baseline), config,
                                      data_dir, settings.bench)
    answers = answers_of([*inputs.rows.models, *filter(None, baselines.values())], inputs.read, data_dir,
                         settings.bench)
    check_memory(settings.rounds, len(inputs.rows.models) + 1, len(wanted), _warn)
    if args.compare:
        _check_compared(args.compare, [inputs.rows.models])
    boards, missing = _v2_tables(args, settings, inputs.rows, index, wanted, baselines, answers, data_dir)
    shown = list(dict.fromkeys(r.model for board in boards for r in board.rows))
    for warning in length_warnings(answers, shown, data_dir, settings.bench):
        _warn(warning)
    boards = _flagged(boards, read_judgment_findings(settings, data_dir, {**inputs.read, **answers}), settings)
    _say_method(args)
    sys.stdout.write("\n".join(render_table(board) for board in boards))
    for gap in missing:
        print(*gap.lines(), sep="\n")
    comparisons = _comparisons(args, boards)
    agreement = None
    if len(settings.judges) > 1:
        agreement = v2_agreement(inputs, boards, index, answers, data_dir, _families(args))
        sys.stdout.write(render_judges(agreement))
    _write_outputs(args, boards, data_dir, comparisons, agreement, missing)
    return 0


def _v2_tables(args, settings: RunSettings, rows, index, wanted: list[str], baselines: dict[str, str | None],
               answers: dict, data_dir: Path) -> tuple[list, list]:
    """The table of each wanted category that has counted judgments, and why each other one has none.

    A category asked for by --category without a table is an error saying why and what fixes it.
    """
    paired = bool(args.compare or args.pairs or args.html)
    boards, missing = [], []
    for category in wanted:
        board = None if baselines[category] is None else \
            compute_v2_leaderboard(rows, replace(settings, baseline=baselines[category], categories=(category,)),
                                   index, answers, data_dir, paired=paired)
        for warning in board.warnings if board else ():
            _warn(warning)
        if board is not None and board.battles:
            boards.append(board)
            continue
        gap = missing_category(category, index.questions.get(category, []), baselines[category],
                               board.dropped_rows if board else 0, answers, _run_files(args), settings.bench,
                               _judged_models(rows, baselines), list(settings.judges))
        if args.category:
            raise InputError(f"no counted judgments in category {category!r}: {gap.text}", key="--category")
        missing.append(gap)
    if not boards:
        raise InputError("no category has counted judgments: " + " | ".join(f"{m.category}: {m.text}" for m in missing),
                         judgment_dir(data_dir, settings.bench, settings.judges[0]))
    return boards, missing


def _run_files(args) -> RunFiles:
    """The files of this run, for the commands a message prints (utils/plumbing/fix_commands.py)."""
    return RunFiles(args.setting_file, args.endpoint_file or DEFAULT_ENDPOINT_FILE, Path(args.data_dir))


def _judged_models(rows, baselines: dict[str, str | None]) -> list[str]:
    """The models the judgment rows judge, but the baselines: those a gen_judgment.py command should name."""
    judged = [rows.models[m] for m in sorted(set(rows.model.tolist()))]
    return [m for m in judged if m not in set(baselines.values())]


def _say_method(args) -> None:
    """Above the tables: which method scored them and why, when no --method chose it."""
    if args.method_note:
        print(args.method_note)


def _flagged(boards: list, findings: dict, settings: RunSettings) -> list:
    """The boards with stale and wrongly filed judgments flagged per model, after a warning for each."""
    for warning in findings_warnings(findings, "+".join(settings.judges)):
        _warn(warning)
    return [flag_board(board, findings) for board in boards]


def _check_compared(models: list[str], known: list[list[str]]) -> None:
    """Before the bootstrap: both models of --compare have counted verdicts."""
    for model in models:
        if not any(model in names for names in known):
            raise InputError(f"model {model!r} has no counted verdict here", key="--compare")


def _comparisons(args, boards: list) -> list[list] | None:
    """Print --compare for each table that has both models, and return every pair of every table when --pairs or
    --html asks for them (None when nothing does)."""
    seed = boards[0].settings.seed
    if args.compare:
        a, b = args.compare
        shown = 0
        for board in boards:
            scored = {r.model for r in board.rows if not r.no_verdicts}
            if a in scored and b in scored:
                sys.stdout.write(render_comparison(board, compare_board(board, [(a, b)], seed)[0]))
                shown += 1
        if not shown:
            raise InputError(f"no table has scores for both {a!r} and {b!r}", key="--compare")
    if not (args.pairs or args.html):
        return None
    return [compare_board(board, seed=seed) for board in boards]


def _families(args) -> dict[str, str]:
    """Entry name -> family of the --endpoint-file (or the default api_config.yaml when it is there)."""
    return configured_families(args.endpoint_file or DEFAULT_ENDPOINT_FILE, bool(args.endpoint_file), _warn)


def _v2_baseline_flags(flags: list[str]) -> tuple[dict[str, str], str | None]:
    """--baseline CATEGORY=MODEL (each category's) and --baseline MODEL (every category's, the last one given)."""
    explicit = dict(b.split("=", 1) for b in flags if "=" in b)
    everyone = next((b for b in reversed(flags) if "=" not in b), None)
    for model in [*explicit.values(), *([everyone] if everyone else [])]:
        check_name(model, "--baseline")
    return explicit, everyone


def _as_given(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it, as --data-dir usually is given."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _given(flag: str | None, default: Path) -> Path | None:
    """The file a --load-... flag names: None without the flag, ``default`` when it names none."""
    return None if flag is None else Path(flag) if flag else default


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def _save(write, path: Path, not_saved: list[str]) -> None:
    """Run ``write`` and say so; if the file cannot be written, note why in ``not_saved`` instead of failing the run."""
    try:
        write()
    except OSError as err:
        not_saved.append(f"{path} ({err.strerror or err})")
    else:
        print(f"wrote {path}")


def _writing(write, path: Path, flag: str):
    """``write()``, with a failure to write ``path`` reported as the InputError of ``flag``."""
    try:
        return write()
    except OSError as err:
        raise InputError(f"cannot write the file ({err.strerror or err})", path, key=flag) from None


def _write_outputs(args, boards: list, data_dir: Path, comparisons: list[list] | None = None,
                   agreement=None, missing: list | None = None) -> None:
    """The --csv, --pairs and --html files asked for, each announced (``missing``: v2's categories without a
    table, a CSV row each)."""
    if args.csv:
        s = boards[0].settings
        costs = model_costs(data_dir, s.bench, s.judges, dict.fromkeys(r.model for b in boards for r in b.rows))
        _writing(lambda: write_csv(boards, Path(args.csv), costs, missing), Path(args.csv), "--csv")
        print(f"wrote {args.csv}")
    if args.pairs:
        _writing(lambda: write_pairs_csv(boards, comparisons, Path(args.pairs)), Path(args.pairs), "--pairs")
        print(f"wrote {args.pairs}")
    if args.html:
        from utils.report.html_report import write_html_report  # matplotlib and friends: only when asked for
        from utils.report.inputs import gather_report_inputs
        inputs = gather_report_inputs(boards, data_dir)
        inputs.pairs, inputs.judges = comparisons, agreement
        path = _writing(lambda: write_html_report(Path(args.html), boards, inputs), Path(args.html), "--html")
        print(f"wrote {path}")


if __name__ == "__main__":
    run_cli(main)
