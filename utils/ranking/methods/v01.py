"""Arena-Hard v0.1's method: Bradley-Terry over battles against one baseline (docs/design.md#rating-v01).

Reads the judgments (or a battles file: --load-battles, and saved bootstrap
results: --load-bootstrap), turns them into battles (utils/ranking/battles.py),
fits the ratings and their bootstrap (utils/ranking/rating.py, fitting.py)
into one ``Leaderboard``, flags it with the findings about its judgments, and
with several judges computes each judge's own table for their agreement. It
keeps the battles and the bootstrap results under data/<bench>/results/<judges>/
(and judges.json with several judges).
"""
from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.forked import StagedWrite
from utils.plumbing.names import battles_file, bootstrap_results_file
from utils.ranking.answer_info import length_warnings
from utils.ranking.battles import (Battles, battle_features, battles_from, battles_text, game_shares,
                                  game_verdicts)
from utils.ranking.bootstrap_file import saved_rounds, write_bootstrap
from utils.ranking.fitting import bootstrap_fits, fit_kinds, one_sided
from utils.ranking.judges import JUDGES_FILE, JudgeAgreement, judge_agreement, write_judges_file
from utils.ranking.judgment_checks import flag_boards, run_findings
from utils.ranking.memory import check_memory
from utils.ranking.methods.base import (Outcome, RatingMethod, Warn, check_compared, families, label_patterns,
                                        rating_method)
from utils.ranking.rating import (FEATURE_COLUMNS, INIT_RATING, STYLE_FEATURES, TINY_RIDGE, BattleKinds,
                                  FitLayout, battle_kinds, percentile_interval, ratings_from_coefficients,
                                  style_matrix, win_rate)
from utils.ranking.results import FEW_QUESTIONS, ZERO_WIDTH, Leaderboard, ModelResult, PairedData, no_verdict_row, \
    question_outcomes
from utils.ranking.run import ReadRequest, RunData
from utils.ranking.settings import CONTROLS, RunSettings
from utils.vocabulary.benchmarks import OFFICIAL_BASELINES
from utils.vocabulary.verdicts import NO_LABEL_ADVICE, TARGET

NAME = "arena-hard-v0.1"


@rating_method
class ArenaHardV01(RatingMethod):
    name = NAME
    title = "Arena-Hard v0.1"
    defaults = RunSettings(bench="arena-hard-v0.1", judges=("gpt-4-1106-preview",),
                           baseline=OFFICIAL_BASELINES["arena-hard-v0.1"]["arena-hard-v0.1"],  # gpt-4-0314
                           confidence=95.0, rating_method=NAME)
    bench_prefix = ""  # every benchmark another method does not claim
    baseline_help = "the one baseline"

    def baseline_of(self, args: argparse.Namespace, config) -> str:
        if len(args.baseline) > 1:
            raise InputError("give one baseline with --method arena-hard-v0.1", key="--baseline")
        return args.baseline[0] if config is None or "baseline" in args.given else config.prompt.baseline_model

    def reads(self, settings: RunSettings, args: argparse.Namespace) -> ReadRequest:
        battles_path, boot_path = _files(settings, Path(args.data_dir))
        return ReadRequest(settings.bench, Path(args.data_dir), settings.judges, [settings.baseline],
                           _given(args.load_battles, battles_path), _given(args.load_bootstrap, boot_path),
                           settings.baseline, texts=bool(args.html), patterns=label_patterns(args.config, settings.judges),
                           cache=not args.from_bundles)

    def compute(self, run: RunData, settings: RunSettings, args: argparse.Namespace, warn: Warn) -> Outcome:
        keep, question_ids = _selection(run, settings)
        if run.loaded_battles is not None:
            battles = run.loaded_battles
            if settings.categories and question_ids:
                battles = battles.only_questions(set(question_ids))
        else:
            battles = battles_from(run.records, settings.baseline, settings.weight, settings.first_game_only, keep)
        check_compared(args.compare, battles.models)
        # the battles file is written by a second process while the table is fitted (save() finishes it); not
        # for a bundle's temporary data directory, nor for battles that came from the file
        writing = StagedWrite(_files(settings, run.data_dir)[0], lambda: battles_text(battles)) \
            if run.records is not None and len(battles) and not args.from_bundles else None
        try:
            board = self._board(run, settings, battles, question_ids, warn)
        except BaseException:
            if writing is not None:
                writing.discard()
            raise
        outcome = Outcome([board], battles_writing=writing)
        settings = board.settings
        avg_tokens = {r.model: r.avg_tokens for r in board.rows}
        if run.records is not None:
            outcome.boards = flag_boards(outcome.boards, run_findings(run, settings), warn)
        if len(settings.judges) > 1:
            if run.records is None:
                warn("warning: battles loaded from a file do not say which judge gave them: no judge agreement")
            else:
                outcome.agreement = _agreement(run, outcome.boards[0], keep, question_ids, avg_tokens,
                                               families(args, warn))
        return outcome

    def _board(self, run: RunData, settings: RunSettings, battles: Battles, question_ids: list[str] | None,
               warn: Warn) -> Leaderboard:
        """The table of ``battles``: their answers' lengths and features, the saved bootstrap when reused."""
        answers = run.answers_of([*battles.models, *battles.judged])
        features = None
        if settings.style and len(battles):
            features = battle_features(battles, answers, run.battle_styles, run.data_dir, run.bench)
        if run.saved_bootstrap is not None:
            settings = replace(settings, bootstrap_loaded_from=str(run.request.bootstrap_file),
                               rounds=saved_rounds(run.saved_bootstrap))
        else:
            check_memory(settings.rounds, len(battles.models), 1, warn)
        for warning in length_warnings(answers, list(answers), run.data_dir, run.bench):
            warn(warning)
        avg_tokens = {m: info.avg_tokens for m, info in answers.items() if info}
        return compute_leaderboard(battles, settings, avg_tokens, question_ids, features, run.saved_bootstrap)

    def game_units(self, records, weight: int) -> tuple[np.ndarray, np.ndarray]:
        """v0.1's battles: each game with a label counts on its own (``weight`` times when strong)."""
        return game_shares(records, weight)

    def save(self, outcome: Outcome, run: RunData, args: argparse.Namespace, warn: Warn) -> None:
        """The battles (unless they were loaded), the bootstrap results (unless reused) and, with several judges,
        judges.json; a file that cannot be written is a warning, the tables being complete."""
        board = outcome.boards[0]
        battles_path, boot_path = _files(board.settings, run.data_dir)
        not_saved: list[str] = []  # files of data/ that could not be written, and why
        if outcome.battles_writing is not None:
            _save(outcome.battles_writing.finish, battles_path, not_saved)
        if run.saved_bootstrap is None:
            _save(lambda: write_bootstrap(board, boot_path), boot_path, not_saved)
        if outcome.agreement is not None:
            judges_path = boot_path.with_name(JUDGES_FILE)
            _save(lambda: write_judges_file(outcome.agreement, judges_path), judges_path, not_saved)
        if not_saved:
            warn(f"warning: could not save {'; '.join(not_saved)}: the table above is complete, but --load-battles "
                 "and --load-bootstrap will not find this run's files")


def describe(settings: RunSettings) -> str:
    """The method's name as the footer and the CSV give it."""
    if settings.style is None:
        return "Bradley-Terry"
    return f"Bradley-Terry, style control ({CONTROLS[settings.style]}; L2, C=1.0)"


def footer(board: Leaderboard) -> str:
    """The line under a v0.1 table: how its numbers were made."""
    s = board.settings
    unit = {"battle": "battles", "question": "questions"}[s.bootstrap_unit]
    draw = "Poisson" if s.poisson else "multinomial"
    source = f"loaded from {s.bootstrap_loaded_from}" if s.bootstrap_loaded_from else \
        f"{s.rounds} rounds, {draw} resampling of {unit}, seed {s.seed}"
    games = "first game only" if s.first_game_only else "both games"
    cats = f" | category {', '.join(s.categories)}" if s.categories else ""
    return (f"-- {describe(s)} | {s.confidence:g}% percentile bootstrap: {source} | strong verdicts x{s.weight}, "
            f"{games} | {board.battles} battles | judge {', '.join(s.judges)} | baseline {s.baseline}{cats}")


def _selection(run: RunData, settings: RunSettings) -> tuple[np.ndarray | None, list[str] | None]:
    """The records that count for --category (a mask; None: all) and the benchmark's question ids after it
    (coverage's denominator; None without a question file)."""
    questions = run.questions
    if not settings.categories:
        return None, [q.uid for q in questions] or None
    wanted = set(settings.categories)
    known = list(dict.fromkeys(q.category for q in questions))
    unknown = [c for c in settings.categories if c not in known]
    if questions and unknown:
        raise InputError(f"no question of {run.question_path} is in category {unknown[0]!r} (its categories: "
                         f"{', '.join(known)})", key="--category")
    chosen = {q.uid for q in questions if q.category in wanted}
    keep = None
    if run.records is not None:  # its question's category, else (an id the question file lacks) the record's own
        records = run.records
        own = np.array([c in wanted for c in records.categories] + [False], bool)[records.category]
        keep = records.on_questions(chosen) | own
    return keep, [q.uid for q in questions if q.category in wanted] or None


def _agreement(run: RunData, board: Leaderboard, keep, question_ids, avg_tokens: dict,
               configured: dict[str, str]) -> JudgeAgreement:
    """The judge figures of a v0.1 run read from judgments: each judge's battles fitted alone."""
    s, records = board.settings, run.records
    selected = np.ones(len(records), bool) if keep is None else keep
    alone: dict[str, list[Leaderboard | None]] = {}
    verdicts = {}
    for judge in s.judges:
        mine = selected & records.of_judge(judge)
        battles = battles_from(records, s.baseline, s.weight, s.first_game_only, mine)
        table = None
        if battles.total and s.baseline in battles.models:
            features = battle_features(battles, run.answers_of(battles.models), {}, run.data_dir, s.bench) \
                if s.style else None
            own = replace(s, judges=(judge,), bootstrap_loaded_from=None, rounds=0)  # its scores: no bootstrap
            table = compute_leaderboard(battles, own, avg_tokens,
                                        question_ids, features)
        alone[judge] = [table]
        verdicts[judge] = game_verdicts(records, mine, 1 if s.first_game_only else 2)
    return judge_agreement([board], alone, verdicts, configured)


def _files(settings: RunSettings, data_dir: Path) -> tuple[Path, Path]:
    """This run's battles file and bootstrap results file, as the user gave the data directory."""
    return (_as_given(battles_file(data_dir, settings.bench, settings.judges)),
            _as_given(bootstrap_results_file(data_dir, settings.bench, settings.judges)))


def _as_given(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it, as --data-dir usually is given."""
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _given(flag: str | None, default: Path) -> Path | None:
    """The file a --load-... flag names: None without the flag, ``default`` when it names none."""
    return None if flag is None else Path(flag) if flag else default


def _save(write, path: Path, not_saved: list[str]) -> None:
    """Run ``write`` and say so; if the file cannot be written, note why in ``not_saved`` instead of failing the run."""
    try:
        write()
    except OSError as err:
        not_saved.append(f"{path} ({err.strerror or err})")
    else:
        print(f"wrote {path}")


# ---------------------------------------------------------------- computing


def _fit_args(settings: RunSettings, baseline: int) -> dict:
    if settings.style is None:
        return {"l2": TINY_RIDGE, "fixed": baseline}
    return {"l2": 1.0, "fixed": None}  # scikit-learn's default L2 with C = 1.0, as v0.1 fitted it


def compute_leaderboard(battles: Battles, settings: RunSettings, avg_tokens: dict[str, int | None] | None = None,
                        question_ids: list[str] | None = None, features: tuple[np.ndarray, np.ndarray] | None = None,
                        loaded_bootstrap: dict[str, np.ndarray] | None = None) -> Leaderboard:
    """Fit, bootstrap and assemble the leaderboard.

    ``features`` are the raw style features of both answers per battle row
    (needed when ``settings.style`` is set); ``question_ids`` the benchmark's
    questions (coverage denominators); ``loaded_bootstrap`` maps a model to
    saved bootstrap ratings, replacing the resampling. A model of
    ``battles.judged`` without any battle gets a "no verdicts" row at the
    bottom; a model missing from ``avg_tokens`` has its length unknown.
    """
    _check_battles(battles, settings)
    models, M = battles.models, len(battles.models)
    base = models.index(settings.baseline)
    by_question = settings.style is not None or settings.bootstrap_unit == "question"
    kinds = battle_kinds(battles.model_a, battles.model_b, battles.winner, battles.question, battles.count,
                         by_question=by_question)
    X, names = _style_design(battles, kinds, features, settings.style)
    target = np.take(TARGET, kinds.winner)
    fit = _fit_args(settings, base)

    layout = FitLayout.build(kinds.model_a, kinds.model_b, target, M, X, **fit)
    theta = fit_kinds(kinds, layout)  # the point estimate on all battles
    point = ratings_from_coefficients(theta, M, base)
    coefs = {n: float(c) for n, c in zip(names, theta[M:])}
    if loaded_bootstrap is not None:
        boot, one_sided_rounds = _saved_ratings(loaded_bootstrap, models), np.zeros(M, int)
    else:
        boot, one_sided_rounds = bootstrap_fits(kinds, layout, theta, settings, M, base, len(battles.questions))
    boot[:, base] = INIT_RATING
    lo, hi = percentile_interval(boot, settings.confidence) if len(boot) else (point * np.nan, point * np.nan)

    all_q, covered = _coverage(battles, question_ids)
    n_covered = covered.sum(axis=1).tolist()
    n_battles = np.bincount(np.concatenate([battles.model_a, battles.model_b]),
                            weights=np.concatenate([battles.count, battles.count]), minlength=M)
    full_one_sided = one_sided(kinds, kinds.count[:, None], M)[0]
    boot_win_rates = win_rate(boot)  # (rounds, M), NaN where a model sat out a round
    rows, missing = [], {}
    for m, name in enumerate(models):
        gone = [] if m == base or n_covered[m] == len(all_q) else [all_q[q] for q in np.flatnonzero(~covered[m])]
        if gone:
            missing[name] = gone
        flags = () if m == base else _v01_flags(bool(gone), full_one_sided[m], int(one_sided_rounds[m]), boot[:, m],
                                                n_covered[m], bool(lo[m] == hi[m]))
        rows.append(ModelResult(
            model=name, score=100 * float(win_rate(point[m])),
            lower=100 * float(win_rate(lo[m])), upper=100 * float(win_rate(hi[m])),
            rating=float(point[m]), rating_lower=float(lo[m]), rating_upper=float(hi[m]),
            avg_tokens=(avg_tokens or {}).get(name), covered=n_covered[m], questions=len(all_q),
            battles=int(n_battles[m]), is_baseline=m == base, flags=flags,
            results=[100 * x for x in boot_win_rates[:, m].tolist() if not math.isnan(x)]))
    rows.sort(key=lambda r: (-r.score, r.model))
    for name in sorted(set(battles.judged) - set(models)):
        rows.append(no_verdict_row(name, f"every verdict of its {battles.judged[name]} judgment records is missing "
                                   "or unreadable", (avg_tokens or {}).get(name), len(all_q)))
    board = Leaderboard(rows, settings, coefs, missing, battles.total,
                        paired=_v01_paired(battles, base, boot_win_rates, loaded_bootstrap, settings),
                        method_text=describe(settings))
    board.footer = footer(board)
    return board


def _v01_paired(battles: Battles, base: int, boot_win_rates: np.ndarray,
                loaded: dict[str, np.ndarray] | None, settings: RunSettings) -> PairedData:
    """The rounds and per-question outcomes of a v0.1 table, for head-to-head comparisons.

    Every round of the bootstrap is one weighting of all battles, so the
    models' columns are paired as they stand. Saved rounds of our layout leave
    out a model's empty rounds: a model with fewer saved rounds than the most
    cannot be lined up, and its column is NaN.
    """
    rounds = 100.0 * boot_win_rates
    if loaded is not None:
        full = saved_rounds(loaded)
        for m, name in enumerate(battles.models):
            if m != base and len(loaded.get(name, ())) != full:
                rounds[:, m] = np.nan
    share_a = np.take(TARGET, battles.winner)
    won, total = question_outcomes(np.concatenate([battles.question, battles.question]),
                                   np.concatenate([battles.model_a, battles.model_b]),
                                   np.concatenate([battles.count * share_a, battles.count * (1.0 - share_a)]),
                                   np.concatenate([battles.count, battles.count]), len(battles.models), base)
    return PairedData(list(battles.models), rounds, won, total, by_question=settings.bootstrap_unit == "question")


def _check_battles(battles: Battles, settings: RunSettings) -> None:
    """Refuse battles that cannot make a table: none counted, or none of the baseline."""
    if len(battles) == 0 or battles.total == 0:
        raise InputError("no counted battles: every verdict is missing (or --category matched nothing); when the "
                         f"judge's texts hold no label (see its diagnostics.json): {NO_LABEL_ADVICE}",
                         battles.sources[0] if len(battles.sources) == 1 else None)
    if settings.baseline not in battles.models:
        raise InputError(f"baseline {settings.baseline!r} is not in any battle (models: "
                         f"{', '.join(sorted(battles.models)[:8])}{', ...' if len(battles.models) > 8 else ''})",
                         key="--baseline")


def _style_design(battles: Battles, kinds: BattleKinds, features: tuple[np.ndarray, np.ndarray] | None,
                  style: str | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """v0.1's standardised style features of every battle kind (None without style control), and their names."""
    if style is None:
        return None, ()
    if features is None:
        raise ValueError("style control needs the answers' features")
    names = STYLE_FEATURES[style]
    cols = [FEATURE_COLUMNS[n] for n in names]
    # one feature row per kind: identical (a, b, question) share their answers
    fa, fb = _per_kind(features, battles, kinds)
    return style_matrix(fa[:, cols], fb[:, cols], kinds.count), names


def _saved_ratings(loaded: dict[str, np.ndarray], models: list[str]) -> np.ndarray:
    """(rounds, M) saved bootstrap ratings; models may have different numbers of saved rounds (rounds without
    them are not saved): padded with NaN."""
    boot = np.full((saved_rounds(loaded), len(models)), np.nan)
    for m, name in enumerate(models):
        saved = loaded.get(name, np.zeros(0))
        boot[:len(saved), m] = saved
    return boot


def _coverage(battles: Battles, question_ids: list[str] | None) -> tuple[list[str], np.ndarray]:
    """The questions of the benchmark (``question_ids``, else those of the battles) and whether each model has a
    counted battle on each of them: (models, questions), in the order of both."""
    counted = battles.count > 0
    on = np.zeros((len(battles.models), len(battles.questions) + 1), bool)  # the last column: no such question
    on[battles.model_a[counted], battles.question[counted]] = True
    on[battles.model_b[counted], battles.question[counted]] = True
    if not question_ids:
        return list(battles.questions), on[:, :-1]
    column = {q: i for i, q in enumerate(battles.questions)}
    return list(question_ids), on[:, [column.get(q, -1) for q in question_ids]]


def _v01_flags(incomplete: bool, one_sided: bool, one_sided_rounds: int, boot: np.ndarray, covered: int,
               flat: bool) -> tuple[str, ...]:
    """A model's notes: missing questions, and why its numbers are unreliable (``boot``: its bootstrap ratings;
    ``flat``: its interval has zero width)."""
    rounds, no_results = len(boot), len(boot) > 0 and bool(np.isnan(boot).all())
    reasons = []
    if one_sided:
        reasons.append("wins or loses every counted battle")
    if one_sided_rounds:
        reasons.append(f"{one_sided_rounds} of {rounds} bootstrap samples hold one outcome only")
    if covered < FEW_QUESTIONS:
        reasons.append(f"only {covered} judged questions")
    if no_results:
        reasons.append("no bootstrap results")
    elif flat:
        reasons.append(ZERO_WIDTH)
    return (*(["incomplete-coverage"] if incomplete else []), *(["unreliable: " + "; ".join(reasons)] if reasons
                                                               else []))


def _per_kind(features, battles: Battles, kinds: BattleKinds) -> tuple[np.ndarray, np.ndarray]:
    """Features of the answers behind each battle kind (kinds are keyed by model pair and question)."""
    fa, fb = features
    M, Q = len(battles.models), max(1, len(battles.questions))
    battle_key = (battles.model_a * M + battles.model_b) * Q + battles.question
    kind_key = (kinds.model_a * M + kinds.model_b) * Q + kinds.question
    order = np.argsort(battle_key, kind="stable")
    rows = order[np.searchsorted(battle_key[order], kind_key)]  # the first battle row of each kind's key
    return fa[rows], fb[rows]
