"""Arena-Hard v2.0's method: per-category weighted win rates, each category against its own baseline.

docs/design.md#rating-v2. Reads the judgments as outcome rows
(utils/ranking/battles.py), resolves the categories and their baselines
(utils/ranking/categories.py), and computes one ``Leaderboard`` per category
that has counted judgments: the weighted win rate with a per-model bootstrap,
or with style control v2.0's Bradley-Terry fit (utils/ranking/rating_v2.py).
A category of the question file that cannot be scored is a
``MissingCategory`` with the commands that fix it (utils/ranking/missing.py).
It saves nothing but the --csv and --html asked for.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.names import check_name, judgment_dir
from utils.ranking.answer_info import AnswerInfo, answer_feature_table, length_warnings, missing_features
from utils.ranking.battles import OutcomeRows, game_verdicts, outcome_rows
from utils.ranking.categories import V2_BASELINES, CategoryIndex, category_index, v2_categories
from utils.ranking.fitting import bootstrap_fits, fit_kinds
from utils.ranking.judges import JudgeAgreement, judge_agreement
from utils.ranking.judgment_checks import flag_boards, run_findings
from utils.ranking.memory import check_memory
from utils.ranking.methods.base import (DEFAULT_ENDPOINT_FILE, Outcome, RatingMethod, Warn, check_compared, families,
                                        label_patterns, rating_method)
from utils.ranking.missing import MissingCategory, missing_category
from utils.ranking.rating import (INIT_RATING, TINY_RIDGE, FitLayout, battle_kinds, percentile_interval,
                                  rating_from_win_rate, ratings_from_coefficients, win_rate)
from utils.ranking.rating_v2 import (V2_CONTROLS, bootstrap_joint_question_means, bootstrap_question_means,
                                     bootstrap_unit_means, standardise, style_features, weighted_win_rates)
from utils.ranking.results import FEW_QUESTIONS, ZERO_WIDTH, Leaderboard, ModelResult, PairedData, no_verdict_row, \
    question_outcomes
from utils.ranking.run import ReadRequest, RunData
from utils.ranking.settings import CONTROLS, RunSettings
from utils.vocabulary.verdicts import TARGET, TIE, WINNER_A, WINNER_B

NAME = "arena-hard-v2"


@rating_method
class ArenaHardV2(RatingMethod):
    name = NAME
    title = "Arena-Hard v2.0"
    defaults = RunSettings(bench="arena-hard-v2.0", judges=("gpt-4.1",), baseline="", confidence=90.0,
                           rating_method=NAME)
    bench_prefix = "arena-hard-v2"
    # v0.1's flags about battles and its files, which v2 has none of
    refused_flags = ("--load-battles", "--load-bootstrap", "--first-game-only", "--output", "--show-elo")
    baseline_help = "CATEGORY=MODEL sets one category's (repeatable), MODEL every category's"

    def reads(self, settings: RunSettings, args: argparse.Namespace) -> ReadRequest:
        explicit, everyone = baseline_flags(args.baseline)
        wanted = [*V2_BASELINES.values(), *explicit.values(), *([everyone] if everyone else [])]
        return ReadRequest(settings.bench, Path(args.data_dir), settings.judges, list(dict.fromkeys(wanted)),
                           texts=bool(args.html), patterns=label_patterns(args.config, settings.judges),
                           cache=not args.from_bundles)

    def compute(self, run: RunData, settings: RunSettings, args: argparse.Namespace, warn: Warn) -> Outcome:
        rows = outcome_rows(run.records, settings.weight, {q.uid: q.category for q in run.questions})
        index = category_index(run.questions, rows)
        wanted, baselines = v2_categories(index, tuple(args.category or ()), *baseline_flags(args.baseline),
                                          args.config, run.data_dir, settings.bench)
        answers = run.answers_of([*rows.models, *filter(None, baselines.values())])
        check_memory(settings.rounds, len(rows.models) + 1, len(wanted), warn)
        check_compared(args.compare, rows.models)
        paired = bool(args.compare or args.pairs or args.html)
        boards, missing = _tables(rows, settings, index, wanted, baselines, answers, args, warn, paired)
        shown = list(dict.fromkeys(r.model for board in boards for r in board.rows))
        for warning in length_warnings(answers, shown, run.data_dir, settings.bench):
            warn(warning)
        outcome = Outcome(flag_boards(boards, run_findings(run, settings), warn), missing)
        if len(settings.judges) > 1:
            outcome.agreement = _agreement(run, rows, outcome.boards, index, answers, families(args, warn))
        return outcome

    def game_units(self, records, weight: int) -> tuple[np.ndarray, np.ndarray]:
        """v2.0's outcome units: a record with a null or unlabelled game counts not at all."""
        rows = outcome_rows(records, weight)
        return rows.score, rows.count


def describe(settings: RunSettings) -> str:
    """The method's name as the footer and the CSV give it."""
    if settings.style is None:
        return "Arena-Hard v2.0 weighted win rate"
    return f"Arena-Hard v2.0 Bradley-Terry, style control ({CONTROLS[settings.style]}; unpenalised, converged)"


def footer(board: Leaderboard) -> str:
    """The line under a v2.0 table: how its numbers were made."""
    s = board.settings
    pool = "each model's own" if s.style is None else "all the category's"
    unit = {"battle": "outcome units", "question": "questions"}[s.bootstrap_unit]
    draw = "Poisson" if s.poisson else "multinomial"
    point = "point on all data" if s.style is None else \
        "point: the converged fit on all data (the original stops after 50 float32 L-BFGS steps)"
    return (f"-- {describe(s)} | {point} | {s.confidence:g}% percentile bootstrap: {s.rounds} rounds, {draw} "
            f"resampling of {pool} {unit}, seed {s.seed} | strong verdicts x{s.weight} | {board.battles} units | "
            f"judge {', '.join(s.judges)} | baseline {s.baseline} | category {board.category} | "
            f"{board.dropped_rows} rows dropped (a null game or no accepted label)")


def _presented(board: Leaderboard) -> Leaderboard:
    """The board with how v2.0 presents it: its footer, its name, win rates to 4 decimals (its points carry no
    bootstrap noise), outcome units."""
    board.method_text, board.decimals, board.unit = describe(board.settings), 4, "units"
    board.footer = footer(board)
    return board


def baseline_flags(flags: list[str]) -> tuple[dict[str, str], str | None]:
    """--baseline CATEGORY=MODEL (each category's) and --baseline MODEL (every category's, the last one given)."""
    explicit = dict(b.split("=", 1) for b in flags if "=" in b)
    everyone = next((b for b in reversed(flags) if "=" not in b), None)
    for model in [*explicit.values(), *([everyone] if everyone else [])]:
        check_name(model, "--baseline")
    return explicit, everyone


def _tables(rows: OutcomeRows, settings: RunSettings, index: CategoryIndex, wanted: list[str],
            baselines: dict[str, str | None], answers: dict, args, warn: Warn, paired: bool
            ) -> tuple[list[Leaderboard], list[MissingCategory]]:
    """The table of each wanted category that has counted judgments, and why each other one has none.

    A category asked for by --category without a table is an error saying why and what fixes it.
    """
    boards, missing = [], []
    for category in wanted:
        board = None if baselines[category] is None else \
            compute_v2_leaderboard(rows, replace(settings, baseline=baselines[category], categories=(category,)),
                                   index, answers, args.data_dir, paired=paired)
        for warning in board.warnings if board else ():
            warn(warning)
        if board is not None and board.battles:
            boards.append(board)
            continue
        from utils.plumbing.fix_commands import RunFiles  # the commands' module loads YAML: only for a gap
        files = RunFiles(args.setting_file, args.endpoint_file or DEFAULT_ENDPOINT_FILE, Path(args.data_dir))
        gap = missing_category(category, index.questions.get(category, []), baselines[category],
                               board.dropped_rows if board else 0, answers, files, settings.bench,
                               _judged_models(rows, baselines), list(settings.judges))
        if args.category:
            raise InputError(f"no counted judgments in category {category!r}: {gap.text}", key="--category")
        missing.append(gap)
    if not boards:
        raise InputError("no category has counted judgments: " + " | ".join(f"{m.category}: {m.text}" for m in missing),
                         judgment_dir(args.data_dir, settings.bench, settings.judges[0]))
    return boards, missing


def _judged_models(rows: OutcomeRows, baselines: dict[str, str | None]) -> list[str]:
    """The models the judgment rows judge, but the baselines: those a gen_judgment.py command should name."""
    judged = [rows.models[m] for m in sorted(set(rows.model.tolist()))]
    return [m for m in judged if m not in set(baselines.values())]


def _agreement(run: RunData, rows: OutcomeRows, boards: list[Leaderboard], index: CategoryIndex, answers: dict,
               configured: dict[str, str]) -> JudgeAgreement:
    """The judge figures of a v2 run: each judge's rows of every table shown, computed alone."""
    s, records = boards[0].settings, run.records
    shown = {q for b in boards for q in index.questions.get(b.category, [])}
    on_shown = records.on_questions(shown) if shown else np.ones(len(records), bool)
    alone: dict[str, list[Leaderboard | None]] = {}
    verdicts = {}
    for judge in s.judges:
        mine = records.of_judge(judge)
        tables = [compute_v2_leaderboard(rows.only(mine), replace(b.settings, judges=(judge,), rounds=0,
                                                                  bootstrap_loaded_from=None),  # scores alone
                                         index, answers, run.data_dir) for b in boards]
        alone[judge] = [t if t.battles else None for t in tables]
        verdicts[judge] = game_verdicts(records, mine & on_shown, 2)
    return judge_agreement(boards, alone, verdicts, configured)


# ---------------------------------------------------------------- computing


def compute_v2_leaderboard(rows: OutcomeRows, settings: RunSettings, index: CategoryIndex,
                           answers: dict[str, AnswerInfo | None], data_dir, paired: bool = False) -> Leaderboard:
    """One category's Arena-Hard v2.0 table: ``settings.categories`` is (category,), ``settings.baseline`` its baseline.

    The point is the full-data value (the weighted win rate, or the converged
    style-controlled fit); the interval the bootstrap's percentiles.
    ``paired`` also computes what head-to-head comparisons need
    (``Leaderboard.paired``; see ``_v2_paired``).
    """
    category, baseline = settings.categories[0], settings.baseline
    models = list(rows.models) + ([baseline] if baseline not in rows.models else [])
    M, base = len(models), models.index(baseline)
    kept, usable, warnings = _v2_selection(rows, category, baseline, index)
    dropped = int((usable & ~kept).sum())
    games = np.repeat(np.flatnonzero(kept), 2)
    model, question = rows.model[games], rows.question[games]
    score, count = rows.score[kept].ravel(), rows.count[kept].ravel()
    if count.sum() == 0:  # the caller decides whether that is an error (asked for) or a note (found)
        return _presented(Leaderboard([], settings, {}, {}, 0, category, dropped, warnings))
    coefs: dict[str, float] = {}
    if settings.style is None:
        point = weighted_win_rates(model, score, count, M)
        boot = _v2_plain_bootstrap(model, question, score, count, M, settings)
    else:
        point, boot, coefs = _v2_style_fit(model, question, score, count, models, base, rows.questions,
                                           settings, answers, data_dir)
    pairs = _v2_paired(model, question, score, count, models, base, boot, settings) if paired else None
    point[base], boot[:, base] = 0.5, np.nan
    results, missing = _v2_results(models, base, point, boot, model, question, count, rows.questions,
                                   index.questions.get(category, []), answers, settings.confidence)
    judged = np.bincount(rows.model[usable], minlength=M)
    shown = {r.model for r in results}
    for m in sorted(np.flatnonzero(judged).tolist(), key=lambda m: models[m]):
        if models[m] not in shown:  # judged in this category, but no row of it counted
            info = answers.get(models[m])
            results.append(no_verdict_row(models[m], f"none of its {judged[m]} judgment rows has an accepted "
                                          "label in both games", info.avg_tokens if info else None,
                                          results[0].questions))
    return _presented(Leaderboard(results, settings, coefs, missing, int(count.sum()), category, dropped, warnings,
                                  pairs))


def _v2_paired(model, question, score, count, models: list[str], base: int, boot: np.ndarray,
               settings: RunSettings) -> PairedData:
    """The paired rounds and per-question outcomes of a v2 table, for head-to-head comparisons.

    The style-controlled bootstrap resamples all the category's units together,
    so its rounds are paired as they stand. The plain bootstrap resamples each
    model on its own (v2.0's choice), so two models' rounds are independent
    draws and their difference would ignore what the models share: the same
    questions. Comparisons get rounds of their own then, seeded apart from the
    table's: each round draws the category's questions with replacement (or
    Poisson(1) copies) and every model's win rate is taken on the same drawn
    questions, whatever ``--bootstrap-unit`` says.
    """
    M = len(models)
    if settings.style is None:
        rng = np.random.default_rng([settings.seed, 1])
        rounds = bootstrap_joint_question_means(model, question, score, count, M, settings.rounds, rng,
                                                settings.poisson)
    else:
        rounds = boot.copy()
    rounds *= 100.0
    rounds[:, base] = 50.0
    won, total = question_outcomes(question, model, count * score, count, M, base)
    return PairedData(models, rounds, won, total, by_question=settings.style is None or
                      settings.bootstrap_unit == "question")


def _v2_selection(rows: OutcomeRows, category: str, baseline: str, index: CategoryIndex
                  ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows counted in ``category``, the rows of its models there (counted or dropped), and warnings about rows
    of another baseline.

    A row belongs to the category when its own category is it or its
    question's subcategory is it; it counts when it was judged against this
    baseline (or names none), is not the baseline's own, and both games carry
    an accepted label.
    """
    own = np.array([c == category for c in rows.categories] + [False], bool)[rows.category]
    sub = np.array([index.subcategory_of.get(q) == category for q in rows.questions] + [False], bool)
    member = own | sub[rows.question]
    base = rows.models.index(baseline) if baseline in rows.models else -2  # -2: no row names it
    other = member & (rows.baseline >= 0) & (rows.baseline != base)
    warnings = []
    for source in np.unique(rows.source[other]).tolist():
        here = other & (rows.source == source)
        names = sorted({rows.models[b] for b in rows.baseline[here].tolist()})
        warnings.append(f"warning: {rows.sources[source]}: {int(here.sum())} rows of category {category!r} were "
                        f"judged against {', '.join(names)}, not its baseline {baseline}: not counted")
    usable = member & ~other & (rows.model != base)
    return usable & rows.complete, usable, warnings


def _v2_plain_bootstrap(model, question, score, count, M: int, settings: RunSettings) -> np.ndarray:
    """(rounds, M) bootstrap win rates: each model's units (or questions) resampled within the model."""
    rng = np.random.default_rng(settings.seed)
    if settings.bootstrap_unit == "question":
        return bootstrap_question_means(model, question, score, count, M, settings.rounds, rng, settings.poisson)
    return bootstrap_unit_means(model, score, count, M, settings.rounds, rng, settings.poisson)


def _v2_style_fit(model, question, score, count, models: list[str], base: int, questions: list[str],
                  settings: RunSettings, answers: dict, data_dir) -> tuple[np.ndarray, np.ndarray, dict]:
    """Win rates of the converged style-controlled fit, its pooled bootstrap win rates, the feature coefficients.

    Bradley-Terry with the model as A and the baseline as B, the outcome as a
    soft label and v2's standardised features; no penalty beyond the tiny
    ridge that keeps a clean sweep finite.
    """
    M = len(models)
    winner = np.select([score == 1.0, score == 0.0], [WINNER_A, WINNER_B], TIE)
    kinds = battle_kinds(model, np.full(len(model), base), winner, question, count, by_question=True)
    table = answer_feature_table(models, questions, answers)
    mine, theirs = table[kinds.model_a, kinds.question], table[base, kinds.question]
    bad = np.isnan(mine).any(1) | np.isnan(theirs).any(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        who = models[kinds.model_a[i]] if np.isnan(mine[i]).any() else models[base]
        raise missing_features(who, questions[kinds.question[i]], answers, data_dir, settings.bench)
    X = standardise(style_features(mine, theirs, settings.style), kinds.count)
    target = np.take(TARGET, kinds.winner)
    layout = FitLayout.build(kinds.model_a, kinds.model_b, target, M, X, l2=TINY_RIDGE, fixed=base)
    theta = fit_kinds(kinds, layout)
    boot, _ = bootstrap_fits(kinds, layout, theta, settings, M, base, len(questions))
    point = win_rate(ratings_from_coefficients(theta, M, base))
    coefs = {n: float(c) for n, c in zip(V2_CONTROLS[settings.style], theta[M:])}
    return point, win_rate(boot), coefs


def _v2_results(models: list[str], base: int, point, boot, model, question, count, questions: list[str],
                category_questions: list[str], answers: dict, confidence: float
                ) -> tuple[list[ModelResult], dict]:
    """The rows of a v2 table (best first) and the questions each model has no counted unit on."""
    M = len(models)
    units = np.bincount(model, weights=count, minlength=M)
    lo, hi = percentile_interval(boot, confidence) if len(boot) else (np.full(M, np.nan), np.full(M, np.nan))
    results, missing = [], {}
    all_q = category_questions or list(dict.fromkeys(questions[q] for q in question.tolist()))
    in_table = set(all_q)
    # each model's questions: the distinct (model, question) pairs, sorted by model
    Q = max(1, len(questions))
    pairs = np.unique(np.asarray(model, np.int64) * Q + question)
    starts = np.searchsorted(pairs // Q, np.arange(M + 1))
    for m in [m for m in range(M) if units[m] > 0 or m == base]:
        name = models[m]
        info = answers.get(name)
        if m == base:  # fixed at 50 %, as in v0.1; in every counted game, so on every question with one
            judged = {questions[q] for q in np.unique(question).tolist()} & in_table
            results.append(ModelResult(name, 50.0, 50.0, 50.0, INIT_RATING, INIT_RATING, INIT_RATING,
                                       info.avg_tokens if info else None, len(judged), len(all_q), int(units.sum()),
                                       is_baseline=True))
            continue
        seen = {questions[q] for q in (pairs[starts[m]:starts[m + 1]] % Q).tolist()}
        gone = [q for q in all_q if q not in seen]
        results.append(_v2_row(name, point[m], lo[m], hi[m], boot[:, m], len(seen & in_table), len(all_q),
                               int(units[m]), info.avg_tokens if info else None, bool(gone)))
        if gone:
            missing[name] = gone
    results.sort(key=lambda r: (-r.score, r.model))
    return results, missing


def _v2_row(name: str, p: float, lo: float, hi: float, boot: np.ndarray, covered: int, questions: int,
            units: int, avg_tokens: int | None, incomplete: bool) -> ModelResult:
    """One model's row: win rates in %, and the Elo-scale ratings they stand for."""
    flags, reasons = ["incomplete-coverage"] if incomplete else [], []
    if p in (0.0, 1.0):
        reasons.append("wins or loses every counted game")
    if covered < FEW_QUESTIONS:
        reasons.append(f"only {covered} judged questions")
    if np.isnan(boot).all():
        reasons.append("no bootstrap results")
    elif lo == hi:
        reasons.append(ZERO_WIDTH)
    if reasons:
        flags.append("unreliable: " + "; ".join(reasons))
    rating = rating_from_win_rate(np.clip([p, lo, hi], 1e-12, 1 - 1e-12))
    return ModelResult(name, 100 * float(p), 100 * float(lo), 100 * float(hi), *map(float, rating), avg_tokens,
                       covered, questions, units, flags=tuple(flags),
                       results=[100 * x for x in boot.tolist() if not math.isnan(x)])
