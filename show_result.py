"""Rank models from their judgments: scores against the baseline, with bootstrap intervals.

    python show_result.py [--bench-name arena-hard-v0.1] [--judge-name gpt-4-1106-preview] [--style-control] ...
    python show_result.py --method arena-hard-v2 [--category hard_prompt creative_writing] [--style-control] ...

Reads data/<bench>/model_judgment/<judge>/*.jsonl (either file layout) and
prints the table. --method arena-hard-v0.1 (the default) fits Bradley-Terry
over battles, saves them to data/arena_hard_battles.jsonl and the bootstrap
results to data/bootstrapping_results.jsonl; --method arena-hard-v2 prints one
table per category, each against its own baseline, with Arena-Hard v2.0's
weighted win rates and saves nothing but the --csv / --html asked for. The
math is in utils/ranking/rating.py and utils/ranking/rating_v2.py, the tables and CSVs in
utils/ranking/leaderboard.py.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import orjson

from utils.cli import run_cli
from utils.errors import InputError
from utils.names import check_name, judgment_dir, question_file, stem_to_name
from utils.ranking.battles import (Background, battle_features, judgment_files, length_warnings, load_battles,
                                   read_answer_info, read_answers_info, read_judgment_battles, read_judgment_outcomes,
                                   save_battles)
from utils.ranking.leaderboard import (V2_BASELINES, RunSettings, bootstrap_records, category_baselines, category_index,
                                       check_bootstrap_memory, compute_leaderboard, compute_v2_leaderboard,
                                       read_saved_bootstrap, render_table, saved_rounds, write_csv, write_original_csv)
from utils.records import read_questions
from utils.store import atomic_write, check_writable

BATTLES_FILE = "arena_hard_battles.jsonl"
BOOTSTRAP_FILE = "bootstrapping_results.jsonl"

# What each method assumes when a flag is not given: the original tools' defaults.
METHOD_DEFAULTS = {
    "arena-hard-v0.1": {"bench_name": "arena-hard-v0.1", "judge_name": "gpt-4-1106-preview",
                        "baseline": ["gpt-4-0314"], "confidence": 95.0},
    "arena-hard-v2": {"bench_name": "arena-hard-v2.0", "judge_name": "gpt-4.1", "baseline": [], "confidence": 90.0},
}
# v0.1 flags about battles and its files, which v2 has none of
V01_ONLY = ("--load-battles", "--load-bootstrap", "--first-game-only", "--output", "--show-elo")


def _default_help(key: str) -> str:
    def show(v):
        return " ".join(v) if isinstance(v, list) else f"{v:g}" if isinstance(v, float) else v
    return "default: " + ", ".join(f"{show(d[key]) or 'per category'} with {m}" for m, d in METHOD_DEFAULTS.items())


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--method", choices=tuple(METHOD_DEFAULTS), default="arena-hard-v0.1",
                   help="whose leaderboard math: v0.1's Bradley-Terry over battles, or v2.0's per-category win rates")
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
    p.add_argument("--load-battles", action="store_true", help="read data/arena_hard_battles.jsonl instead of judgments")
    p.add_argument("--load-bootstrap", action="store_true", help="reuse data/bootstrapping_results.jsonl")
    p.add_argument("--show-elo", action="store_true", help="show Elo-scale ratings instead of win rates")
    p.add_argument("--weight", type=int, default=3, help="how many battles a strong verdict (>>) counts as")
    p.add_argument("--num-rounds", type=int, default=100,
                   help="bootstrap rounds (at least 2; refused when their results would not fit in memory)")
    p.add_argument("--output", action="store_true", help="also write leaderboard/arena_hard_leaderboard_YYYYMMDD.csv")
    p.add_argument("--first-game-only", action="store_true", help="ignore game 2 (the swapped positions)")
    style = p.add_mutually_exclusive_group()
    style.add_argument("--style-control", action="store_true", help="control for answer length and markdown")
    style.add_argument("--length-control-only", action="store_true", help="control for answer length only")
    style.add_argument("--markdown-control-only", action="store_true", help="control for markdown only")
    # ours
    p.add_argument("--data-dir", default="data", help="where the benchmarks live")
    p.add_argument("--csv", metavar="PATH", help="write the table with bounds, ratings, coverage and settings")
    p.add_argument("--confidence", type=float, default=argparse.SUPPRESS,
                   help=f"interval level in percent ({_default_help('confidence')})")
    p.add_argument("--seed", type=int, default=42, help="bootstrap seed, 0 or more (same inputs and seed, same table)")
    p.add_argument("--bootstrap-unit", choices=("battle", "question"), default="battle",
                   help="resample single battles (the original; arena-hard-v2: single outcome units) or whole "
                        "questions with all their battles")
    p.add_argument("--resampling", choices=("multinomial", "poisson"), default="multinomial",
                   help="how a bootstrap round draws: a fixed-size multinomial sample, or Poisson(1) counts")
    p.add_argument("--judge-names", nargs="+", metavar="JUDGE", help="pool the battles of several judges")
    p.add_argument("--category", nargs="+",
                   help="only questions of these categories; with arena-hard-v2, one table for each (a category or "
                        "a subcategory such as coding), and without it one for every category judged")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report: table, plot, every question")
    p.add_argument("--setting-file", metavar="JUDGE_CONFIG.yaml",
                   help="arena-hard-v2: take each category's baseline from this judge config")
    args = p.parse_args(argv)
    for key, value in METHOD_DEFAULTS[args.method].items():
        if not hasattr(args, key):
            setattr(args, key, value)
    if args.method == "arena-hard-v2":
        for flag in V01_ONLY:
            if getattr(args, flag[2:].replace("-", "_")):
                raise InputError("has no meaning with --method arena-hard-v2, which reads the judgments directly "
                                 "and writes no battles or bootstrap files", key=flag)
    else:
        if args.setting_file:
            raise InputError("only with --method arena-hard-v2 (per-category baselines)", key="--setting-file")
        if len(args.baseline) > 1:
            raise InputError("give one baseline with --method arena-hard-v0.1", key="--baseline")
        args.baseline = args.baseline[0]
    if args.num_rounds < 2 and not args.load_bootstrap:
        raise InputError(f"must be at least 2 (an interval needs several bootstrap rounds; 100 is usual), got "
                         f"{args.num_rounds}", key="--num-rounds")
    if args.seed < 0:
        raise InputError(f"must be 0 or more (numpy's random generators take no negative seed), got {args.seed}",
                         key="--seed")
    if not 0 < args.confidence < 100:
        raise InputError(f"must be between 0 and 100, got {args.confidence}", key="--confidence")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    # the files asked for are checked now, not found unwritable after a long bootstrap
    for flag, path in (("--csv", args.csv), ("--html", args.html)):
        if path:
            check_writable(Path(path), flag)
    if args.output:
        check_writable(Path("leaderboard") / "arena_hard_leaderboard.csv", "--output")
    data_dir = Path(args.data_dir)
    style = "style" if args.style_control else "length" if args.length_control_only else \
        "markdown" if args.markdown_control_only else None
    settings = RunSettings(bench=args.bench_name, judges=tuple(args.judge_names or [args.judge_name]),
                           baseline=args.baseline if isinstance(args.baseline, str) else "",
                           weight=args.weight, first_game_only=args.first_game_only,
                           style=style, rounds=args.num_rounds, confidence=args.confidence, seed=args.seed,
                           bootstrap_unit=args.bootstrap_unit, poisson=args.resampling == "poisson",
                           categories=tuple(args.category or ()), rating_method=args.method)
    if settings.v2:
        return main_v2(args, settings, data_dir)

    qfile = question_file(data_dir, args.bench_name)
    questions = read_questions(qfile) if qfile.is_file() else []
    question_ids = [q.uid for q in questions] if questions else None  # before --category: every known id
    wanted = set(args.category or ())
    if wanted:
        questions = [q for q in questions if q.category in wanted]
    category_of = {q.uid: q.category for q in questions}

    style_from_battles: dict = {}
    answers: dict = {}
    not_saved: list[str] = []  # files of data/ that could not be written, and why
    if args.load_battles:
        battles, style_from_battles = load_battles(data_dir / BATTLES_FILE)
        if wanted and category_of:
            battles = battles.only_questions(set(category_of))
    else:
        keep = None
        if wanted:
            keep = lambda qid, rec: category_of.get(qid, rec.get("category")) in wanted  # noqa: E731
        files = judgment_files(data_dir, args.bench_name, list(settings.judges))
        # the answers of the models the judgment files are named after, read on the other core meanwhile
        expected = [args.baseline] + [stem_to_name(f.stem) for f in files]
        with Background(lambda: read_answers_info(data_dir, args.bench_name, expected)) as reading_answers:
            battles = read_judgment_battles(files, args.baseline, args.weight, args.first_game_only, keep,
                                            question_ids)
            answers = reading_answers.result()
        for warning in battles.skipped.warnings(qfile):
            print(warning, file=sys.stderr)
        if len(battles):
            _save(lambda: save_battles(battles, data_dir / BATTLES_FILE), data_dir / BATTLES_FILE, not_saved)

    shown = list(dict.fromkeys([*battles.models, *battles.judged]))
    for m in shown:
        if m not in answers:
            answers[m] = read_answer_info(data_dir, args.bench_name, m)
        elif isinstance(answers[m], InputError):
            raise answers[m]
    answers = {m: answers[m] for m in shown}
    avg_tokens = {m: info.avg_tokens for m, info in answers.items() if info}
    features = None
    if style and len(battles):
        features = battle_features(battles, answers, style_from_battles, data_dir, args.bench_name)

    loaded = None
    boot_path = data_dir / BOOTSTRAP_FILE
    if args.load_bootstrap:
        if not boot_path.is_file():
            raise InputError("bootstrap results not found (run once without --load-bootstrap)", boot_path)
        loaded = read_saved_bootstrap(boot_path, args.baseline)
        settings.bootstrap_loaded_from = str(boot_path)
        settings.rounds = saved_rounds(loaded)
    else:
        _check_memory(settings.rounds, len(battles.models), 1)
    for warning in length_warnings(answers, shown, data_dir, args.bench_name):
        print(warning, file=sys.stderr)

    board = compute_leaderboard(battles, settings, avg_tokens, [q.uid for q in questions] or None, features, loaded)
    sys.stdout.write(render_table(board, show_elo=args.show_elo))

    if not args.load_bootstrap:
        records = bootstrap_records(board)
        _save(lambda: atomic_write(boot_path, b"".join(orjson.dumps(r) + b"\n" for r in records), durable=False),
              boot_path, not_saved)
    if not_saved:
        print(f"warning: could not save {'; '.join(not_saved)}: the table above is complete, but --load-battles "
              "and --load-bootstrap will not find this run's files", file=sys.stderr)
    _write_outputs(args, [board], data_dir)
    if args.output:
        path = _writing(lambda: write_original_csv(board, Path("leaderboard"), show_elo=args.show_elo),
                        Path("leaderboard"), "--output")
        print(f"wrote {path}")
    return 0


def _save(write, path: Path, not_saved: list[str]) -> None:
    """Run ``write``; if the file cannot be written, note why in ``not_saved`` instead of failing the run."""
    try:
        write()
    except OSError as err:
        not_saved.append(f"{path} ({err.strerror or err})")


def _writing(write, path: Path, flag: str):
    """``write()``, with a failure to write ``path`` reported as the InputError of ``flag``."""
    try:
        return write()
    except OSError as err:
        raise InputError(f"cannot write the file ({err.strerror or err})", path, key=flag) from None


def _write_outputs(args, boards: list, data_dir: Path) -> None:
    """The --csv and --html files asked for."""
    if args.csv:
        _writing(lambda: write_csv(boards, Path(args.csv)), Path(args.csv), "--csv")
    if args.html:
        from utils.report.html_report import write_html_report  # matplotlib and friends: only when asked for
        from utils.report.inputs import gather_report_inputs
        inputs = gather_report_inputs(boards, data_dir)
        path = _writing(lambda: write_html_report(Path(args.html), boards, inputs), Path(args.html), "--html")
        print(f"wrote {path}")


def _check_memory(rounds: int, models: int, tables: int) -> None:
    """Refuse a bootstrap that cannot fit in this machine's memory; warn about one that takes much of it."""
    warning = check_bootstrap_memory(rounds, models, tables)
    if warning:
        print(warning, file=sys.stderr)


def main_v2(args, settings: RunSettings, data_dir: Path) -> int:
    """Arena-Hard v2.0: one table per category, each against its own baseline."""
    qfile = question_file(data_dir, args.bench_name)
    questions = read_questions(qfile) if qfile.is_file() else []
    files = judgment_files(data_dir, args.bench_name, list(settings.judges))
    expected = [*V2_BASELINES.values(), *(stem_to_name(f.stem) for f in files)]
    with Background(lambda: read_answers_info(data_dir, args.bench_name, expected)) as reading_answers:
        rows = read_judgment_outcomes(files, args.weight, {q.uid: q.category for q in questions},
                                      [q.uid for q in questions] if questions else None)
        answers = reading_answers.result()
    for warning in rows.skipped.warnings(qfile):
        print(warning, file=sys.stderr)
    index = category_index(questions, rows)
    wanted, baselines = _v2_categories(args, index)
    for model in dict.fromkeys([*rows.models, *baselines.values()]):
        if model not in answers:
            answers[model] = read_answer_info(data_dir, args.bench_name, model)
        if isinstance(answers[model], InputError):
            raise answers[model]
    _check_memory(settings.rounds, len(rows.models) + 1, len(wanted))
    computed = [compute_v2_leaderboard(rows, replace(settings, baseline=baselines[c], categories=(c,)), index,
                                       answers, data_dir) for c in wanted]
    boards = []
    for board in computed:
        for warning in board.warnings:
            print(warning, file=sys.stderr)
        if board.battles == 0:
            why = (f"no counted judgments in category {board.category!r} against baseline {board.settings.baseline!r}"
                   f" ({board.dropped_rows} rows dropped for a null game or no accepted label)")
            if args.category:
                raise InputError(why, key="--category")
            print(f"warning: {why}: no table", file=sys.stderr)
        else:
            boards.append(board)
    if not boards:
        raise InputError("no category has counted judgments",
                         judgment_dir(data_dir, args.bench_name, settings.judges[0]))
    shown = list(dict.fromkeys(r.model for board in boards for r in board.rows))
    for warning in length_warnings(answers, shown, data_dir, args.bench_name):
        print(warning, file=sys.stderr)
    sys.stdout.write("\n".join(render_table(board) for board in boards))
    _write_outputs(args, boards, data_dir)
    return 0


def _v2_categories(args, index) -> tuple[list[str], dict[str, str]]:
    """The categories to show (--category, or every one judged) and the baseline of each."""
    explicit = dict(b.split("=", 1) for b in args.baseline if "=" in b)
    everyone = next((b for b in reversed(args.baseline) if "=" not in b), None)
    for model in [*explicit.values(), *([everyone] if everyone else [])]:
        check_name(model, "--baseline")
    wanted = list(dict.fromkeys(args.category or index.present))
    if not wanted:
        raise InputError("no judgment row names a category, and no question file gives one (expected "
                         f"{question_file(args.data_dir, args.bench_name)})", key="category")
    for flag, names in (("--category", wanted), ("--baseline", list(explicit))):
        unknown = [c for c in names if c not in index.known]
        if unknown:
            raise InputError(f"unknown category {unknown[0]!r} (categories here: {', '.join(index.known) or 'none'})",
                             key=flag)
    config = None
    if args.setting_file:
        from utils.config import load_judge_settings
        config, _ = load_judge_settings(args.setting_file, "", ())  # only its baselines matter here
    return wanted, category_baselines(wanted, index, explicit, everyone, config)


if __name__ == "__main__":
    run_cli(main)
