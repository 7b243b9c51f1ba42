"""From battles (v0.1) or outcome rows (v2.0) to a leaderboard: computing only, no printing, no files.

``compute_leaderboard`` runs the math of utils.ranking.rating on a set of
battles, ``compute_v2_leaderboard`` that of utils.ranking.rating_v2 on one
category's outcome rows; both return a ``Leaderboard``: one ``ModelResult``
per model (win rate against the baseline with its interval, the Elo-scale
rating with its interval, average answer length, coverage, flags) plus the
settings that produced it. Everything else (utils/ranking/tables.py's table
and CSVs, the bootstrap file, the HTML report) only reads that object.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from utils.plumbing.config import OFFICIAL_BASELINES
from utils.plumbing.errors import InputError
from utils.plumbing.names import question_file
from utils.ranking.answer_info import AnswerInfo, answer_feature_table, missing_features
from utils.ranking.battles import Battles, OutcomeRows
from utils.ranking.bootstrap_file import saved_rounds
from utils.ranking.rating import (FEATURE_COLUMNS, INIT_RATING, STYLE_FEATURES, TINY_RIDGE, BattleKinds,
                                  battle_kinds, bootstrap_weights, fit_bradley_terry, per_model, percentile_interval,
                                  rating_from_win_rate, ratings_from_coefficients, style_matrix, win_rate)
from utils.ranking.rating_v2 import (V2_CONTROLS, bootstrap_joint_question_means, bootstrap_question_means,
                                     bootstrap_unit_means, standardise, style_features, weighted_win_rates)
from utils.vocabulary.verdicts import TARGET, TIE, WINNER_A, WINNER_B

if TYPE_CHECKING:
    from utils.plumbing.config import JudgeSettings
    from utils.vocabulary.records import Question

FEW_QUESTIONS = 20  # below this many judged questions an interval says little


V01_METHOD, V2_METHOD = "arena-hard-v0.1", "arena-hard-v2"  # show_result.py --method
METHODS = (V01_METHOD, V2_METHOD)


def method_for_bench(bench: str) -> str:
    """The rating method a benchmark is scored with when none is asked for: v2.0's for arena-hard-v2*, else v0.1's."""
    return V2_METHOD if bench.startswith(V2_METHOD) else V01_METHOD


@dataclass
class RunSettings:
    """How the numbers were made; printed under the table and stored in the CSV.

    The field defaults are the run's defaults (show_result's flags take
    theirs from here): Arena-Hard v0.1's, and ``for_method`` gives v2.0's.
    """
    bench: str = "arena-hard-v0.1"
    judges: tuple[str, ...] = ("gpt-4-1106-preview",)
    baseline: str = OFFICIAL_BASELINES["arena-hard-v0.1"]["arena-hard-v0.1"]  # gpt-4-0314
    weight: int = 3
    first_game_only: bool = False
    style: str | None = None  # None, "style" (length + markdown), "length", "markdown"
    rounds: int = 100
    confidence: float = 95.0
    seed: int = 42
    bootstrap_unit: str = "battle"  # "battle" (the original) or "question"
    poisson: bool = False
    categories: tuple[str, ...] = ()
    bootstrap_loaded_from: str | None = None
    rating_method: str = V01_METHOD  # or V2_METHOD

    @classmethod
    def for_method(cls, method: str) -> RunSettings:
        """The settings of a run of ``method`` that sets nothing else: the original tools' defaults.

        Arena-Hard v2.0 has its own benchmark and judge, a baseline per
        category (``V2_BASELINES``, so none here) and 90% intervals.
        """
        if method == V2_METHOD:
            return cls(bench="arena-hard-v2.0", judges=("gpt-4.1",), baseline="", confidence=90.0, rating_method=method)
        if method != V01_METHOD:
            raise ValueError(f"unknown rating method {method!r}")
        return cls()

    @property
    def v2(self) -> bool:
        return self.rating_method == V2_METHOD

    @property
    def method(self) -> str:
        controls = {"style": "length + markdown", "length": "length", "markdown": "markdown"}.get(self.style or "")
        if self.v2:
            if self.style is None:
                return "Arena-Hard v2.0 weighted win rate"
            return f"Arena-Hard v2.0 Bradley-Terry, style control ({controls}; unpenalised, converged)"
        if self.style is None:
            return "Bradley-Terry"
        return f"Bradley-Terry, style control ({controls}; L2, C=1.0)"


@dataclass
class ModelResult:
    model: str
    score: float  # win rate against the baseline, %
    lower: float  # interval bounds of the win rate, %
    upper: float
    rating: float  # Elo scale, baseline = 1000
    rating_lower: float
    rating_upper: float
    avg_tokens: int | None  # None: no answer file, or no answer with a known length
    covered: int  # questions with at least one counted verdict
    questions: int  # questions in the benchmark (after --category)
    battles: int  # counted battles the model is in
    is_baseline: bool = False
    flags: tuple[str, ...] = ()  # "incomplete-coverage", "unreliable: ...", "no verdicts: ..." notes
    # bootstrap win rates in %, one per round; a round without the model (it can happen on tiny data) is left out
    results: list[float] = field(default_factory=list)

    @property
    def unreliable(self) -> bool:
        return any(f.startswith("unreliable") for f in self.flags)

    @property
    def no_verdicts(self) -> bool:
        """Judged, but not one verdict counted: no score, not ranked (its row comes last)."""
        return any(f.startswith(NO_VERDICTS) for f in self.flags)


NO_VERDICTS = "no verdicts"


def no_verdict_row(model: str, why: str, avg_tokens: int | None, questions: int) -> ModelResult:
    """The row of a model whose judgment records hold no counted verdict: every number unknown."""
    nan = math.nan
    return ModelResult(model, nan, nan, nan, nan, nan, nan, avg_tokens, 0, questions, 0,
                       flags=(f"{NO_VERDICTS}: {why}",))


@dataclass
class PairedData:
    """What head-to-head comparisons of a table's models need beyond its rows (utils/ranking/comparison.py).

    ``rounds`` holds every model's bootstrap score by round index, so that
    column i and column j of a row come from the same resampling: NaN where a
    model had no score in a round, or where its saved rounds cannot be lined up
    (our bootstrap file leaves a model's empty rounds out). The baseline is 50
    in every round. ``won`` and ``total`` are each model's weighted wins (a tie
    half) and weighted games per question, for the questions-needed simulation;
    the baseline's are 0, its score being fixed.
    """
    models: list[str]
    rounds: np.ndarray  # (R, M) win rates against the baseline, %
    won: np.ndarray  # (Q, M) over the questions of the table with at least one game
    total: np.ndarray  # (Q, M)


def question_outcomes(question, model, won, games, n_models: int, baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """(won, total), each (Q, M), over the questions with games: the sums of ``won`` and ``games`` per question and
    model (the baseline's set to 0)."""
    present, q = np.unique(np.asarray(question, np.int64), return_inverse=True)
    shape = (len(present), n_models)
    flat = q.reshape(-1) * n_models + np.asarray(model, np.int64)
    out = [np.bincount(flat, weights=np.asarray(x, float), minlength=shape[0] * shape[1]).reshape(shape)
           for x in (won, games)]
    for x in out:
        x[:, baseline] = 0.0
    return out[0], out[1]


@dataclass
class Leaderboard:
    rows: list[ModelResult]  # best first
    settings: RunSettings
    style_coefficients: dict[str, float] = field(default_factory=dict)
    missing_questions: dict[str, list[str]] = field(default_factory=dict)  # model -> question ids
    battles: int = 0  # counted battles (v2: counted outcome units)
    category: str | None = None  # v2: the category this table is for
    dropped_rows: int = 0  # v2: judgment rows left out whole (a null game or no accepted label)
    warnings: list[str] = field(default_factory=list)  # v2: rows not counted, for the script to print
    paired: PairedData | None = None  # for head-to-head comparisons (None: not computed)

    def row(self, model: str) -> ModelResult:
        return next(r for r in self.rows if r.model == model)


# ---------------------------------------------------------------- computing


def _fit_args(settings: RunSettings, baseline: int) -> dict:
    if settings.style is None:
        return {"l2": TINY_RIDGE, "fixed": baseline}
    return {"l2": 1.0, "fixed": None}  # scikit-learn's default L2 with C = 1.0, as v0.1 fitted it


def _one_sided(kinds: BattleKinds, weights: np.ndarray, n_models: int,
               total: np.ndarray | None = None) -> np.ndarray:
    """(R, n_models) True where a model's weighted battles all went one way (or it had none).

    Such a sample has no finite maximum-likelihood rating: the unpenalised fit
    ends at the tiny ridge's bound, which is why the model gets flagged.
    ``total`` (R, n_models), the weighted battles of each model, if already known.
    """
    share = np.take(TARGET, kinds.winner)[:, None]
    wins = per_model(kinds.model_a, weights * share, n_models) + \
        per_model(kinds.model_b, weights * (1.0 - share), n_models)
    if total is None:
        total = _battles_per_model(kinds, weights, n_models)
    return (wins == 0) | (wins == total)


def _battles_per_model(kinds: BattleKinds, weights: np.ndarray, n_models: int) -> np.ndarray:
    """(R, n_models) weighted battles each model is in."""
    return per_model(kinds.model_a, weights, n_models) + per_model(kinds.model_b, weights, n_models)


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

    # point estimate on all battles; each battle enters twice (see utils.ranking.rating)
    theta = fit_bradley_terry(kinds.model_a, kinds.model_b, target, 2.0 * kinds.count, M, X, **fit)
    point = ratings_from_coefficients(theta, M, base)
    coefs = {n: float(c) for n, c in zip(names, theta[M:])}
    if loaded_bootstrap is not None:
        boot, one_sided_rounds = _saved_ratings(loaded_bootstrap, models), np.zeros(M, int)
    else:
        boot, one_sided_rounds = _bootstrap(kinds, target, X, fit, theta, settings, M, base, len(battles.questions))
    boot[:, base] = INIT_RATING
    lo, hi = percentile_interval(boot, settings.confidence) if len(boot) else (point * np.nan, point * np.nan)

    all_q, covered_sets = _coverage(battles, question_ids)
    n_battles = np.bincount(np.concatenate([battles.model_a, battles.model_b]),
                            weights=np.concatenate([battles.count, battles.count]), minlength=M)
    full_one_sided = _one_sided(kinds, kinds.count[:, None], M)[0]
    boot_win_rates = win_rate(boot)  # (rounds, M), NaN where a model sat out a round
    rows, missing = [], {}
    for m, name in enumerate(models):
        gone = [] if m == base else [q for q in all_q if q not in covered_sets[m]]
        if gone:
            missing[name] = gone
        flags = () if m == base else _v01_flags(bool(gone), full_one_sided[m], int(one_sided_rounds[m]), boot[:, m],
                                                len(covered_sets[m]), bool(lo[m] == hi[m]))
        rows.append(ModelResult(
            model=name, score=100 * float(win_rate(point[m])),
            lower=100 * float(win_rate(lo[m])), upper=100 * float(win_rate(hi[m])),
            rating=float(point[m]), rating_lower=float(lo[m]), rating_upper=float(hi[m]),
            avg_tokens=(avg_tokens or {}).get(name), covered=len(covered_sets[m]), questions=len(all_q),
            battles=int(n_battles[m]), is_baseline=m == base, flags=flags,
            results=[100 * x for x in boot_win_rates[:, m].tolist() if not math.isnan(x)]))
    rows.sort(key=lambda r: (-r.score, r.model))
    for name in sorted(set(battles.judged) - set(models)):
        rows.append(no_verdict_row(name, f"every verdict of its {battles.judged[name]} judgment records is missing "
                                   "or unreadable", (avg_tokens or {}).get(name), len(all_q)))
    return Leaderboard(rows, settings, coefs, missing, battles.total,
                       paired=_v01_paired(battles, base, boot_win_rates, loaded_bootstrap))


def _v01_paired(battles: Battles, base: int, boot_win_rates: np.ndarray,
                loaded: dict[str, np.ndarray] | None) -> PairedData:
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
    return PairedData(list(battles.models), rounds, won, total)


def _check_battles(battles: Battles, settings: RunSettings) -> None:
    """Refuse battles that cannot make a table: none counted, or none of the baseline."""
    if len(battles) == 0 or battles.total == 0:
        raise InputError("no counted battles: every verdict is missing (or --category matched nothing)",
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


def _coverage(battles: Battles, question_ids: list[str] | None) -> tuple[list[str], list[set[str]]]:
    """The questions of the benchmark (``question_ids``, else those of the battles) and, per model, those of
    them it has a counted battle on."""
    counted = battles.count > 0
    covered: list[set] = [set() for _ in battles.models]
    Q = max(1, len(battles.questions))
    pairs = np.unique(np.concatenate([battles.model_a[counted], battles.model_b[counted]]) * Q +
                      np.tile(battles.question[counted], 2))  # (model, question) with a counted battle
    for m, q in zip((pairs // Q).tolist(), (pairs % Q).tolist()):
        covered[m].add(battles.questions[q])
    if not question_ids:
        return list(battles.questions), covered
    benchmark = set(question_ids)
    return list(question_ids), [questions & benchmark for questions in covered]


ZERO_WIDTH = "a zero-width interval (the bootstrap never varied its score)"


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


# What a bootstrap holds in memory. Each round leaves one number per model and table, kept in a few arrays,
# the rows' lists of results and (v0.1) their JSON text: measured at about 80 bytes a number with 21 models
# (v0.1, 20 000 to 80 000 rounds) and 40 (v2). The rest is bounded whatever the rounds: the data and the
# fits, which run in chunks of about 2**23 numbers (several arrays of 64 MB).
BYTES_PER_ROUND_AND_MODEL = 100
BOUNDED_BYTES = 512 << 20


def bootstrap_memory(rounds: int, models: int, tables: int = 1) -> int:
    """Bytes a run of ``rounds`` bootstrap rounds over ``models`` models in ``tables`` tables will need, about."""
    return BOUNDED_BYTES + rounds * models * tables * BYTES_PER_ROUND_AND_MODEL


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system that says
        return None


def check_bootstrap_memory(rounds: int, models: int, tables: int = 1, physical: int | None = None) -> str | None:
    """Refuse (InputError) a bootstrap whose estimated memory exceeds the machine's physical memory.

    Returns a warning when it would take half of it or 1 GiB or more, else
    None. ``physical`` defaults to this machine's.
    """
    physical = physical_memory() if physical is None else physical
    need = bootstrap_memory(rounds, models, tables)
    if not physical or not models:
        return None
    per_round = models * tables * BYTES_PER_ROUND_AND_MODEL
    fit = max(0, (physical - BOUNDED_BYTES) // per_round)
    size = f"{rounds} rounds of {models} models{f' in {tables} tables' if tables > 1 else ''}"
    if need > physical:
        raise InputError(f"{size} would need about {_gb(need)} of memory, more than this machine's {_gb(physical)}: "
                         f"at most {fit} rounds fit", key="--num-rounds")
    if need >= min(physical // 2, 1 << 30):
        return (f"warning: --num-rounds: {size} will need about {_gb(need)} of memory (this machine has "
                f"{_gb(physical)}; at most {fit} rounds fit)")
    return None


def _gb(n: int) -> str:
    return f"{n / 2 ** 30:.1f} GiB"


def _bootstrap(kinds, target, X, fit: dict, theta, settings: RunSettings, M: int, base: int,
               n_questions: int) -> tuple[np.ndarray, np.ndarray]:
    """(rounds, M) bootstrap ratings (NaN where a model is absent) and, per model, the rounds with one outcome.

    Rounds are weight vectors over the battle kinds, solved together in chunks
    that keep the (kinds x rounds) arrays around 8 million numbers (64 MB); each chunk
    starts from the full-data solution, a few Newton steps away.
    """
    rng = np.random.default_rng(settings.seed)
    chunk = max(1, min(settings.rounds, int(2 ** 23 // max(1, len(kinds)))))
    parts, one_sided_rounds = [], np.zeros(M, int)
    for start in range(0, settings.rounds, chunk):
        r = min(chunk, settings.rounds - start)
        W = bootstrap_weights(kinds, r, rng, settings.bootstrap_unit, settings.poisson, n_questions=n_questions)
        th = fit_bradley_terry(kinds.model_a, kinds.model_b, target, 2.0 * W, M, X, init=theta, **fit)
        ratings = ratings_from_coefficients(th, M, base)
        # a model missing from a sample has no rating in it (NaN, skipped by the percentiles)
        total = _battles_per_model(kinds, W, M)
        absent = total == 0
        ratings[absent] = np.nan
        one_sided_rounds += (_one_sided(kinds, W, M, total) & ~absent).sum(0)
        parts.append(ratings)
    return np.vstack(parts), one_sided_rounds


def _per_kind(features, battles: Battles, kinds: BattleKinds) -> tuple[np.ndarray, np.ndarray]:
    """Features of the answers behind each battle kind (kinds are keyed by model pair and question)."""
    fa, fb = features
    M, Q = len(battles.models), max(1, len(battles.questions))
    battle_key = (battles.model_a * M + battles.model_b) * Q + battles.question
    kind_key = (kinds.model_a * M + kinds.model_b) * Q + kinds.question
    order = np.argsort(battle_key, kind="stable")
    rows = order[np.searchsorted(battle_key[order], kind_key)]  # the first battle row of each kind's key
    return fa[rows], fb[rows]


# ---------------------------------------------------------------- Arena-Hard v2.0

# v2.0's baseline of each category (utils.plumbing.config.OFFICIAL_BASELINES), for categories that neither --baseline nor a
# judge config names
V2_BASELINES = {**OFFICIAL_BASELINES["arena-hard-v2.0"], **OFFICIAL_BASELINES["arena-hard-v0.1"]}


@dataclass
class CategoryIndex:
    """The categories of a v2 run: which exist, which have judgments, and the questions of each."""
    present: list[str]  # categories with judgment rows: question-file order, then any only the rows name
    known: list[str]  # every category and subcategory that can be asked for
    parent: dict[str, str]  # subcategory -> the category of its first question
    questions: dict[str, list[str]]  # category or subcategory -> its question ids, in file order
    subcategory_of: dict[str, str]  # question id -> its subcategory (cluster)
    every: list[str] = field(default_factory=list)  # every category: the question file's, then any only rows name


def category_index(questions: list[Question], rows: OutcomeRows) -> CategoryIndex:
    """Categories from the question file and the judgment rows (a row's own category comes first)."""
    by_name: dict[str, list[str]] = {}
    parent: dict[str, str] = {}
    for q in questions:
        by_name.setdefault(q.category, []).append(q.uid)
        if q.cluster and q.cluster != q.category:
            by_name.setdefault(q.cluster, []).append(q.uid)
            parent.setdefault(q.cluster, q.category)
    row_categories = [rows.categories[c] for c in np.unique(rows.category).tolist()]
    for name in row_categories:  # categories only the rows name: their questions are the rows'
        if name not in by_name:
            in_category = rows.category == rows.categories.index(name)
            by_name[name] = list(dict.fromkeys(rows.questions[q] for q in rows.question[in_category].tolist()))
    order = [q.category for q in questions] + row_categories
    present = [c for c in dict.fromkeys(order) if c in row_categories and c]
    return CategoryIndex(present, [c for c in by_name if c], parent, by_name, {q.uid: q.cluster for q in questions},
                         [c for c in dict.fromkeys(order) if c])


def v2_categories(index: CategoryIndex, asked: tuple[str, ...], explicit: dict[str, str], everyone: str | None,
                  config: JudgeSettings | None, data_dir, bench: str) -> tuple[list[str], dict[str, str | None]]:
    """The categories to show (``asked`` by --category, or every one of the benchmark) and the baseline of each.

    ``explicit`` and ``everyone`` are the --baseline CATEGORY=MODEL and
    --baseline MODEL flags, ``config`` the judge config of --setting-file (see
    ``category_baselines``). A category that was neither asked for nor judged
    may have no baseline known (None): it has no table either way.
    """
    wanted = list(dict.fromkeys(asked or index.every))
    if not wanted:
        raise InputError("no judgment row names a category, and no question file gives one (expected "
                         f"{question_file(data_dir, bench)})", key="category")
    for flag, names in (("--category", wanted), ("--baseline", list(explicit))):
        unknown = [c for c in names if c not in index.known]
        if unknown:
            raise InputError(f"unknown category {unknown[0]!r} (categories here: {', '.join(index.known) or 'none'})",
                             key=flag)
    needed = [c for c in wanted if c in asked or c in index.present]
    baselines = category_baselines(needed, index, explicit, everyone, config)
    for category in wanted:
        if category not in baselines:
            try:
                baselines[category] = category_baselines([category], index, explicit, everyone, config)[category]
            except InputError:
                baselines[category] = None
    return wanted, {c: baselines[c] for c in wanted}


def category_baselines(wanted: list[str], index: CategoryIndex, explicit: dict[str, str], everyone: str | None,
                       config: JudgeSettings | None) -> dict[str, str]:
    """The baseline of each wanted category.

    In order: ``--baseline CATEGORY=MODEL``, a plain ``--baseline MODEL``, the
    judge config's entry for the category, the baseline of the category a
    subcategory belongs to (coding and math are judged as hard_prompt), the
    judge config's top-level ``baseline_model``, v2.0's own table.
    """
    def resolve(category: str) -> str:
        if category in explicit:
            return explicit[category]
        if everyone:
            return everyone
        if config is not None and category in config.categories:
            return config.prompt_for(category).baseline_model
        up = index.parent.get(category)
        if up and up != category:
            return resolve(up)
        if config is not None and config.prompt.baseline_model:
            return config.prompt.baseline_model
        if category in V2_BASELINES:
            return V2_BASELINES[category]
        raise InputError(f"no baseline known for category {category!r}: give --baseline {category}=MODEL",
                         key="--baseline")
    return {c: resolve(c) for c in wanted}


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
        return Leaderboard([], settings, {}, {}, 0, category, dropped, warnings)
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
    return Leaderboard(results, settings, coefs, missing, int(count.sum()), category, dropped, warnings, pairs)


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
    return PairedData(models, rounds, won, total)


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
    fit = {"l2": TINY_RIDGE, "fixed": base}
    theta = fit_bradley_terry(kinds.model_a, kinds.model_b, target, 2.0 * kinds.count, M, X, **fit)
    boot, _ = _bootstrap(kinds, target, X, fit, theta, settings, M, base, len(questions))
    point = win_rate(ratings_from_coefficients(theta, M, base))
    coefs = {n: float(c) for n, c in zip(V2_CONTROLS[settings.style], theta[M:])}
    return point, win_rate(boot), coefs


def _v2_results(models: list[str], base: int, point, boot, model, question, count, questions: list[str],
                category_questions: list[str], answers: dict, confidence: float
                ) -> tuple[list[ModelResult], dict]:
    """The rows of a v2 table (best first) and the questions each model has no counted unit on."""
    M = len(models)
    units = np.bincount(model, weights=count, minlength=M)
    lo, hi = percentile_interval(boot, confidence)
    results, missing = [], {}
    all_q = category_questions or list(dict.fromkeys(questions[q] for q in question.tolist()))
    for m in [m for m in range(M) if units[m] > 0 or m == base]:
        name = models[m]
        info = answers.get(name)
        if m == base:  # fixed at 50 %, as in v0.1; in every counted game, so on every question with one
            judged = {questions[q] for q in np.unique(question).tolist()} & set(all_q)
            results.append(ModelResult(name, 50.0, 50.0, 50.0, INIT_RATING, INIT_RATING, INIT_RATING,
                                       info.avg_tokens if info else None, len(judged), len(all_q), int(units.sum()),
                                       is_baseline=True))
            continue
        seen = {questions[q] for q in np.unique(question[model == m]).tolist()}
        gone = [q for q in all_q if q not in seen]
        results.append(_v2_row(name, point[m], lo[m], hi[m], boot[:, m], len(seen & set(all_q)), len(all_q),
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
