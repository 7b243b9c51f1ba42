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
saves nothing but the --csv / --html asked for. The flags are in
utils/ranking/flags.py, the methods in utils/ranking/methods/, what a run
reads (once) in utils/ranking/run.py, the tables and CSVs in
utils/ranking/tables.py. --compare A B and --pairs PATH compare models head
to head from the paired bootstrap rounds (utils/ranking/comparison.py);
pooled judges get each judge's own table, kappa and self-preference flags
(utils/ranking/judges.py).
"""
from __future__ import annotations

import gc
import sys
from pathlib import Path

# A run of seconds whose objects (parsed judgments, answers' features, bootstrap rounds) live to its end and make
# no reference cycles worth collecting: the cycle collector would only walk them again and again, from the
# imports on (about a tenth of a v0.1 run, a third of a v2.0 run with style control, at the same peak memory).
if __name__ == "__main__":
    gc.disable()

from utils.plumbing.cli import run_cli  # noqa: E402 - the imports too, after the collector is off
from utils.plumbing.errors import InputError  # noqa: E402
from utils.ranking.flags import check_outputs, parse_args  # noqa: E402
from utils.ranking.run import read_run  # noqa: E402
from utils.ranking.tables import (render_comparison, render_judges, render_table,  # noqa: E402
                                  write_csv, write_original_csv, write_pairs_csv)


def main(argv=None) -> int:
    args = parse_args(argv, __doc__.split("\n\n")[0])
    check_outputs(args)
    method = args.rating
    settings = method.settings(args, args.config)
    run = read_run(method.reads(settings, args), _warn)
    outcome = method.compute(run, settings, args, _warn)
    try:
        _show(args, method, run, outcome)
    finally:  # a battles file still being written when something failed is not kept
        if outcome.battles_writing is not None:
            outcome.battles_writing.discard()
    return 0


def _show(args, method, run, outcome) -> None:
    """Print the tables and what goes with them, save the run's files, and write the outputs asked for."""
    if args.method_note:  # above the tables: which method scored them and why, when no --method chose it
        print(args.method_note)
    sys.stdout.write("\n".join(render_table(board, show_elo=args.show_elo) for board in outcome.boards))
    for gap in outcome.missing:
        print(*gap.lines(), sep="\n")
    comparisons = _comparisons(args, outcome.boards, run)
    if outcome.agreement is not None:
        sys.stdout.write(render_judges(outcome.agreement))
    if not args.from_bundles:  # their data directory is a temporary one
        method.save(outcome, run, args, _warn)
    _write_outputs(args, outcome, run, comparisons)


def _comparisons(args, boards: list, run) -> list[list] | None:
    """Print --compare for each table that has both models (and the anytime-valid interval of a decision between
    them, when gen_judgment.py --until-decided made one), and return every pair of every table when --pairs or
    --html asks for them (None when nothing does)."""
    from utils.ranking.comparison import compare_board  # only when comparisons are asked for
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
        _decided(run, boards[0].settings, a, b)
    if not (args.pairs or args.html):
        return None
    return [compare_board(board, seed=seed) for board in boards]


def _decided(run, settings, a: str, b: str) -> None:
    """Beside the bootstrap: the anytime-valid interval of a gen_judgment.py --until-decided run of A and B."""
    from utils.deciding.report import compare_text  # only with --compare
    text = compare_text(run, settings.judges, a, b)
    if text:
        sys.stdout.write(text)


def _write_outputs(args, outcome, run, comparisons: list[list] | None) -> None:
    """The --csv, --pairs, --html and --output files asked for, each announced."""
    boards = outcome.boards
    if args.csv:
        costs = run.costs(r.model for b in boards for r in b.rows)
        _writing(lambda: write_csv(boards, Path(args.csv), costs, outcome.missing), Path(args.csv), "--csv")
        print(f"wrote {args.csv}")
    if args.pairs:
        _writing(lambda: write_pairs_csv(boards, comparisons, Path(args.pairs)), Path(args.pairs), "--pairs")
        print(f"wrote {args.pairs}")
    if args.html:
        from utils.report.html_report import write_html_report  # matplotlib and friends: only when asked for
        from utils.report.inputs import report_inputs
        inputs = report_inputs(boards, run, comparisons, outcome.agreement, outcome.missing)
        path = _writing(lambda: write_html_report(Path(args.html), boards, inputs), Path(args.html), "--html")
        print(f"wrote {path}")
    if args.output:  # the original tool's CSV (a flag of v0.1's only)
        path = _writing(lambda: write_original_csv(boards[0], Path("leaderboard"), show_elo=args.show_elo),
                        Path("leaderboard"), "--output")
        print(f"wrote {path}")


def _writing(write, path: Path, flag: str):
    """``write()``, with a failure to write ``path`` reported as the InputError of ``flag``."""
    try:
        return write()
    except OSError as err:
        raise InputError(f"cannot write the file ({err.strerror or err})", path, key=flag) from None


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    run_cli(main, quick_exit=True)
