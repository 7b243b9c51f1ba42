"""A computed leaderboard as text and files: the terminal table with its footer, and the CSVs.

Only reads ``Leaderboard`` objects (utils/ranking/leaderboard.py), never
computes a number: the table, the footer saying how it was made (also the
HTML report's), our CSV and the original tool's.
"""
from __future__ import annotations

import csv
import datetime
import io
import math
from dataclasses import replace
from pathlib import Path

from utils.ranking.comparison import (INDISTINGUISHABLE, POWER, SIMULATED_BENCHMARKS, SIZE_FACTORS,
                                      PairComparison)
from utils.plumbing.store import atomic_write
from utils.ranking.judges import JudgeAgreement
from utils.ranking.judgment_checks import FLAGS
from utils.ranking.missing import MissingCategory
from utils.ranking.quality import separability, unmeasured
from utils.ranking.results import NO_VERDICTS, Leaderboard, ModelResult
from utils.ranking.settings import RunSettings


# ---------------------------------------------------------------- the table


def _interval(row: ModelResult, show_elo: bool) -> tuple[float, float, float, int]:
    if show_elo:
        return row.rating, row.rating_lower - row.rating, row.rating_upper - row.rating, 0
    return row.score, row.lower - row.score, row.upper - row.score, 1


def _number(x: float, decimals: int) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.{decimals}f}"


def render_table(board: Leaderboard, show_elo: bool = False) -> str:
    """The ranked table, the style coefficients, the footer saying how it was made, missing questions."""
    s = board.settings
    out = io.StringIO()
    if board.category is not None:
        n = board.rows[0].questions if board.rows else 0
        out.write(f"##### category: {board.category} | baseline: {s.baseline} | {n} questions #####\n")
    if board.style_coefficients:
        # the original's names and its rounding to 3 decimals, so the lines can be compared
        out.write(f"Style Coefficients: { {k: round(v, 3) for k, v in board.style_coefficients.items()} }\n")
    label = "rating" if show_elo else "score"
    conf = f"{s.confidence:g}% CI"
    for row in board.rows:
        value, lo, hi, d = _interval(row, show_elo)
        ci = f"(-{_number(abs(lo) if math.isfinite(lo) else lo, d)}, +{_number(hi, d)})"
        if row.is_baseline or row.no_verdicts:  # fixed at 50% (v0.1: its bootstrap interval is a point), or none
            ci = "-"
        coverage = "-" if row.is_baseline else f"{row.covered}/{row.questions}"
        mark = ""
        if "incomplete-coverage" in row.flags:
            mark += " !"
        for flag in row.flags:  # judgment_checks.finding_flags: judgments not to be taken as they stand
            if flag.startswith(FLAGS):
                mark += f" [{flag}]"
        if row.unreliable:
            mark += " UNRELIABLE"
        if row.no_verdicts:
            mark += " NO VERDICTS"
        shown = "n/a" if row.no_verdicts else _number(value, d)
        tokens = "n/a" if row.avg_tokens is None else row.avg_tokens
        out.write(f"{row.model:<30} | {label}: {shown:^6} | {conf}: {ci:^16} | "
                  f"average #tokens: {tokens:<5} | coverage: {coverage}{mark}\n")
    out.write(footer(board) + "\n")
    out.write(separability_line(board) + "\n")
    notes = [(r.model, f) for r in board.rows for f in r.flags if f.startswith("unreliable")]
    for model, flag in notes:
        out.write(f"UNRELIABLE {model}: {flag[len('unreliable: '):]}\n")
    for row in board.rows:
        if row.no_verdicts:
            why = next(f for f in row.flags if f.startswith(NO_VERDICTS))[len(NO_VERDICTS) + 2:]
            out.write(f"NO VERDICTS {row.model}: {why}; no score, not ranked\n")
    for model, gone in board.missing_questions.items():
        shown = ", ".join(gone[:20]) + (f", ... ({len(gone) - 20} more)" if len(gone) > 20 else "")
        out.write(f"! {model}: no counted verdict on {len(gone)} of {board.row(model).questions} questions (not judged "
                  f"yet, as after a --first trial, or judged without a label): {shown}\n")
    return out.getvalue()


def separability_line(board: Leaderboard) -> str:
    """How many model pairs the intervals tell apart (the rule of utils.ranking.quality), and which models a
    zero-width interval keeps from being told apart from any (each also flagged UNRELIABLE)."""
    intervals = {r.model: (r.lower, r.upper) if math.isfinite(r.lower) else (r.score, r.score)
                 for r in board.rows if not r.no_verdicts}
    exact = {r.model for r in board.rows if r.is_baseline}
    share, pairs = separability(intervals, exact)
    if share is None:
        return "separability: n/a (fewer than two models)"
    line = (f"separability: {share:.1%} of {pairs} model pairs have non-overlapping "
            f"{board.settings.confidence:g}% intervals of non-zero width (the baseline's fixed 50 excepted)")
    flat = unmeasured(intervals, exact)
    return line + (f"; {', '.join(flat)}: zero width, apart from no model" if flat else "")


def footer(board: Leaderboard) -> str:
    """The line under the table saying how it was made (its method wrote it: utils/ranking/methods/)."""
    return board.footer


# ---------------------------------------------------------------- CSV files


SETTINGS_COLUMNS = ("method", "confidence", "weight", "first_game_only", "bootstrap_unit", "resampling", "rounds",
                    "seed", "judges", "baseline", "bench", "categories")


def _settings_values(s: RunSettings, method_text: str) -> list:
    return [method_text, s.confidence, s.weight, s.first_game_only, s.bootstrap_unit,
            "poisson" if s.poisson else "multinomial", s.rounds, s.seed, " ".join(s.judges), s.baseline, s.bench,
            " ".join(s.categories)]


COST_COLUMNS = ("answer_cost_usd", "judge_cost_usd")


def write_csv(boards: list[Leaderboard], path: Path, costs: dict[str, dict] | None = None,
              missing: list[MissingCategory] | None = None) -> None:
    """Our CSV: win rates and ratings with bounds, tokens, coverage, flags, costs, and the run settings per row.

    Tables of several categories (v2) go into one file, with a first column
    ``category`` and a last one ``missing_reason``: a category without a table
    (``missing``) gets one row, its model and numbers empty, saying why and what
    fixes it. Win rates keep the decimals their method gives (v2's points
    carry no bootstrap noise: 4; v0.1's 2). A model without verdicts has its numbers empty
    and "no verdicts: ..." in ``flags``; an unknown length is empty too.
    ``costs``: model -> ``COST_COLUMNS`` (utils.asking.accounts.model_costs),
    the whole benchmark's costs of the model; empty where unknown.
    """
    by_category = any(b.category is not None for b in boards)
    d = max(b.decimals for b in boards)
    header = [*(["category"] if by_category else []), "model", "score", "lower", "upper", "avg_tokens", "rating",
              "rating_lower", "rating_upper", "covered_questions", "questions", "battles", "flags", *COST_COLUMNS,
              *SETTINGS_COLUMNS, *(["missing_reason"] if by_category else [])]
    rows = []
    for b in boards:
        for r in b.rows:
            numbers = ["", "", "", r.avg_tokens, "", "", ""] if r.no_verdicts else \
                [round(r.score, d), round(r.lower, d), round(r.upper, d), r.avg_tokens, round(r.rating, 1),
                 round(r.rating_lower, 1), round(r.rating_upper, 1)]
            spent = (costs or {}).get(r.model, {})
            rows.append([*([b.category] if by_category else []), r.model, *numbers, r.covered, r.questions,
                         r.battles, "; ".join(r.flags), *(_cost(spent.get(c)) for c in COST_COLUMNS),
                         *_settings_values(b.settings, b.method_text), *([""] if by_category else [])])
    for m in missing or ():
        settings = replace(boards[0].settings, baseline=m.baseline or "", categories=(m.category,))
        rows.append([m.category, "", *[""] * 7, 0, m.questions, 0, "", *[""] * len(COST_COLUMNS),
                     *_settings_values(settings, boards[0].method_text), m.text])
    _write_csv(path, [header, *rows])


def _cost(usd: float | None) -> str | float:
    return "" if usd is None else round(usd, 6)


def write_original_csv(board: Leaderboard, directory: Path, show_elo: bool = False,
                       today: datetime.date | None = None) -> Path:
    """leaderboard/arena_hard_leaderboard_YYYYMMDD.csv with the original tool's columns."""
    today = today or datetime.date.today()
    path = directory / f"arena_hard_leaderboard_{today:%Y%m%d}.csv"
    rows: list[list] = [["model", "score", "rating_q025", "rating_q975", "CI", "avg_tokens", "date"]]
    for r in board.rows:
        if r.no_verdicts:  # no number to give in the original's columns; our table and CSV list it
            continue
        if show_elo:
            score, lo, hi = int(r.rating), int(r.rating_lower), int(r.rating_upper)
        else:
            score, lo, hi = round(r.score, 2), round(r.lower, 2), round(r.upper, 2)
        rows.append([r.model, score, lo, hi, f"(-{score - lo:.2f}, +{hi - score:.2f})", r.avg_tokens,
                     today.isoformat()])
    _write_csv(path, rows)
    return path


def _write_csv(path: Path, rows: list[list]) -> None:
    """The rows as one CSV file, written through a temporary file: a reader never sees half a table."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    atomic_write(path, text.getvalue().encode("utf-8"), durable=False)



# ---------------------------------------------------------------- head-to-head comparisons


def _signed(x: float, decimals: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:+.{decimals}f}"


def no_claim_reason(c: PairComparison) -> str:
    """Why no significance claim is made for a pair ("" when one is): too few paired rounds at its level."""
    return f"{c.rounds} paired rounds, at least {c.min_rounds} needed" if c.too_few_rounds else ""


def needed_text(c: PairComparison) -> str:
    """What the questions-needed simulation says about a pair that is not separated (utils.ranking.comparison)."""
    if c.too_few_rounds:
        return f"no significance claim: {no_claim_reason(c)}"
    if c.equivalent:
        return f"indistinguishable: the difference and its whole interval are within {INDISTINGUISHABLE:g} points of 0"
    if c.indistinguishable:
        return (f"less than {INDISTINGUISHABLE:g} points apart, but the interval leaves room for either to be better "
                "by more; no benchmark size is estimated for so small a difference")
    if c.needed is None:
        return ""
    largest = max(round(c.table_questions * f) for f in SIZE_FACTORS)
    if not math.isfinite(c.needed):
        return (f"even {largest} questions would not separate them at this difference (in {POWER:.0%} of "
                f"{SIMULATED_BENCHMARKS} simulated benchmarks; this table has {c.table_questions})")
    return (f"about {int(c.needed)} questions would separate them at this difference ({POWER:.0%} of "
            f"{SIMULATED_BENCHMARKS} simulated benchmarks of that size do; this table has {c.table_questions})")


def render_comparison(board: Leaderboard, c: PairComparison) -> str:
    """--compare A B in one table: the difference with its paired interval, and what it means."""
    s = board.settings
    where = f" | category {board.category}" if board.category is not None else ""
    out = [f"##### {c.model_a} vs {c.model_b}: paired bootstrap, {s.confidence:g}% interval{where} #####"]
    if not math.isfinite(c.lower):
        out.append(f"{c.model_a} - {c.model_b}: {_signed(c.diff)} points; no interval: {c.rounds} bootstrap rounds "
                   "hold both scores (saved results of our layout leave out the rounds a model sat out, so they "
                   "cannot be lined up)")
        return "\n".join(out) + "\n"
    out.append(f"{c.model_a} - {c.model_b}: {_signed(c.diff)} points, {s.confidence:g}% interval "
               f"{_signed(c.lower)} to {_signed(c.upper)}; {c.model_a} ahead in {c.share_a_better:.1%} of "
               f"{c.rounds} paired rounds")
    if c.too_few_rounds:
        out.append(f"no significance claim: {no_claim_reason(c)} for a {s.confidence:g}% interval to have rounds "
                   "beyond its bounds (--num-rounds)")
    elif c.significant:
        better = c.model_a if c.lower > 0 else c.model_b
        out.append(f"significant: {better} is better (the interval excludes 0)")
    elif c.flat and not c.indistinguishable:
        out.append("not significant: the interval has zero width (every paired round gives the same difference, "
                   "a bootstrap that saw no variation; see the UNRELIABLE notes)")
    else:
        out.append("not significant (the interval contains 0)" + (f"; {needed_text(c)}" if needed_text(c) else ""))
    if board.paired is not None and not board.paired.by_question:
        out.append("note: resampling single battles treats the two games of a question as unrelated, which "
                   "usually makes this interval too narrow; --bootstrap-unit question resamples whole questions")
    return "\n".join(out) + "\n"


PAIRS_COLUMNS = ("model_a", "model_b", "diff", "lower", "upper", "share_a_better", "significant", "no_claim_reason")


def write_pairs_csv(boards: list[Leaderboard], comparisons: list[list[PairComparison]], path: Path) -> None:
    """Every pair of every table: the difference A - B and its bounds in points, the share of paired rounds A is
    ahead in (a fraction), and whether the interval excludes 0: ``true``, ``false``, or empty with the reason
    when too few rounds allow no claim (a reader must not take "no claim" for "not significant"). v2's tables
    add a first column ``category``."""
    by_category = any(b.category is not None for b in boards)
    d = max(b.decimals for b in boards)
    rows: list[list] = [[*(["category"] if by_category else []), *PAIRS_COLUMNS]]
    for board, pairs in zip(boards, comparisons):
        for c in pairs:
            rows.append([*([board.category] if by_category else []), c.model_a, c.model_b, _rounded(c.diff, d),
                         _rounded(c.lower, d), _rounded(c.upper, d), _rounded(c.share_a_better, 4),
                         "" if c.too_few_rounds else "true" if c.significant else "false", no_claim_reason(c)])
    _write_csv(path, rows)


def _rounded(x: float, d: int):
    return "" if x is None or not math.isfinite(x) else round(x, d)


# ---------------------------------------------------------------- judge agreement


def _kappa(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def render_judges(agreement: JudgeAgreement) -> str:
    """Each judge's own scores and shifts, kappa of every two judges, self-preference flags."""
    judges = agreement.judges
    out = [f"##### judges: {', '.join(judges)} pooled; each alone, and its shift from the pooled score #####"]
    for t in agreement.tables:
        if t.category is not None:
            out.append(f"category {t.category} (baseline {t.baseline})")
        width = max([len("model"), *map(len, t.pooled)])
        cols = [max(len(j), 16) for j in judges]
        out.append(f"{'model':<{width}} | {'pooled':>6} | " + " | ".join(f"{j:>{w}}" for j, w in zip(judges, cols)))
        for model, pooled in t.pooled.items():
            cells = []
            for j, w in zip(judges, cols):
                shift = t.shift(j, model)
                cell = "-" if shift is None else f"{t.alone[j][model]:.1f} ({shift:+.1f})"
                cells.append(f"{cell:>{w}}")
            out.append(f"{model:<{width}} | {pooled:>6.1f} | " + " | ".join(cells))
    for k in agreement.kappas:
        out.append(f"kappa {k.judge_a} vs {k.judge_b}: {_kappa(k.labels)} on the five verdicts, {_kappa(k.direction)} "
                   f"on the direction (baseline better / tie / model better), over {k.games} games both judged")
    for s in agreement.self_preference:
        source = " and ".join(sorted({agreement.families[s.judge][1], agreement.families[s.model][1]}))
        who = f"{s.model} (the baseline)" if s.is_baseline else s.model
        out.append(f"SELF-PREFERENCE? judge {s.judge} and {who} are both {s.family} (family from {source}): "
                   "a judge may favour its own family")
    out.extend(f"note: {n}" for n in agreement.notes)
    return "\n".join(out) + "\n"
