"""Is model A better than model B, and do the judges agree? Head-to-head comparisons and Cohen's kappa.

Pure functions on numpy arrays (docs/design.md#comparisons), plus
``compare_board``, which applies them to a computed ``Leaderboard``:

* ``paired_difference``: the difference of two models' scores in the same
  bootstrap rounds. Both scores of a round come from one resampling of the
  data, so what they share (the baseline, the questions drawn) cancels in
  the difference instead of widening its interval, as comparing the two
  separate intervals would.
* ``questions_needed``: how many questions a benchmark would need to
  separate a pair at its current difference, by simulating benchmarks of a
  few sizes from the pair's per-question outcomes.
* ``cohen_kappa``: agreement of two raters beyond chance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from utils.ranking.rating import percentile_interval
from utils.ranking.results import Leaderboard

# Below this many points no benchmark size is estimated for a difference; a pair whose whole interval lies within
# this many points of 0 is called indistinguishable
INDISTINGUISHABLE = 0.5
# A benchmark size "separates" a pair when at least this share of the benchmarks simulated at that size do
POWER = 0.8
SIMULATED_BENCHMARKS = 300
# The sizes simulated, as multiples of the table's questions
SIZE_FACTORS = (1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
# A percentile bound needs rounds beyond it: below this many in each tail an interval claims nothing
TAIL_ROUNDS = 2


def significance_rounds(confidence: float) -> int:
    """The fewest bootstrap rounds whose ``confidence`` % interval has TAIL_ROUNDS rounds beyond each bound
    (80 at 95 %, 40 at 90 %): with fewer, no difference is called significant."""
    return math.ceil(TAIL_ROUNDS * 200.0 / (100.0 - confidence) - 1e-9)


@dataclass
class PairComparison:
    """Model A against model B in one table: the difference of their scores with its paired interval."""
    model_a: str
    model_b: str
    diff: float  # score A - score B, in points (the table's scores)
    lower: float  # interval bounds of the difference, points (NaN: no paired rounds)
    upper: float
    share_a_better: float  # share of the paired rounds in which A's score exceeds B's (NaN: none)
    rounds: int  # bootstrap rounds in which both models have a score
    # questions a benchmark would need to separate them (set for pairs that are not separated and not
    # indistinguishable): a simulated size, or NaN when even the largest size simulated does not; None: not estimated
    needed: float | None = None
    table_questions: int = 0  # the questions with games in the table, the size ``needed`` compares with
    min_rounds: int = 0  # the paired rounds a significance claim needs (significance_rounds)

    @property
    def too_few_rounds(self) -> bool:
        """Fewer paired rounds than an interval at this level needs: its bounds say nothing."""
        return self.rounds < self.min_rounds

    @property
    def flat(self) -> bool:
        """The interval of the difference has zero width: every paired round gave the same difference, which is
        a resampling that saw no variation, not certainty (utils.ranking.quality.measured)."""
        return self.lower == self.upper

    @property
    def significant(self) -> bool:
        """The interval of the difference has width and excludes 0, and enough rounds stand behind it."""
        return (self.lower > 0 or self.upper < 0) and not self.flat and not self.too_few_rounds

    @property
    def indistinguishable(self) -> bool:
        """Not significant, and the difference is below INDISTINGUISHABLE points (no benchmark size is estimated)."""
        return not self.significant and abs(self.diff) < INDISTINGUISHABLE

    @property
    def equivalent(self) -> bool:
        """Indistinguishable and its whole interval within INDISTINGUISHABLE points of 0: the data rule out any
        difference worth the name, not only the point estimate (a wide interval around 0 rules out nothing)."""
        return self.indistinguishable and -INDISTINGUISHABLE <= self.lower and self.upper <= INDISTINGUISHABLE


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float, float, int]:
    """(lower, upper, share of rounds with a > b, paired rounds) of the per-round differences a - b.

    ``a`` and ``b`` hold two models' bootstrap scores by round index, NaN
    where a model had no score in that round; such rounds are left out of
    both. The bounds are percentiles as for the table's intervals
    (``percentile_interval``); with fewer than two paired rounds they are NaN.
    A round where the two are equal counts as not a > b.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    both = ~(np.isnan(a) | np.isnan(b))
    d = a[both] - b[both]
    if len(d) < 2:
        return math.nan, math.nan, float((d > 0).mean()) if len(d) else math.nan, len(d)
    lo, hi = percentile_interval(d, confidence)
    return float(lo), float(hi), float((d > 0).mean()), len(d)


def question_residuals(won: np.ndarray, total: np.ndarray) -> np.ndarray:
    """(Q, M) each question's share in the deviation of each model's win rate from its value on all questions.

    ``won`` and ``total`` (Q, M) are a model's weighted wins (a tie half) and
    weighted games on each question. The win rate is R = sum(won) / sum(total);
    to first order, resampling questions moves it by the mean over the drawn
    questions of u = 100 (won - R total) / t, in points, with t the model's
    mean weight per question it has games on. u sums to 0 over a model's
    questions. A model without games (the baseline, fixed at 50) gets 0.
    """
    won, total = np.asarray(won, float), np.asarray(total, float)
    games = total.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, won.sum(0) / games, 0.0)
        per_question = np.where(games > 0, games / np.maximum((total > 0).sum(0), 1), 1.0)
    return 100.0 * (won - rate * total) / per_question


def critical_value(confidence: float) -> float:
    """z such that a normal variable lies within +-z with probability ``confidence`` %."""
    from statistics import NormalDist  # with fractions behind it: loaded for the few runs that ask
    return NormalDist().inv_cdf(0.5 + confidence / 200.0)


def questions_needed(residual: np.ndarray, member: np.ndarray, delta: np.ndarray, confidence: float,
                     sizes: Sequence[int], rng: np.random.Generator, sims: int = SIMULATED_BENCHMARKS,
                     power: float = POWER) -> np.ndarray:
    """(P,) for each pair, the smallest of ``sizes`` at which ``power`` of ``sims`` simulated benchmarks separate it.

    ``residual`` (Q, P) holds each question's contribution to the pair's
    difference (u_A - u_B of ``question_residuals``), ``member`` (Q, P) marks
    the questions either model of the pair has games on, ``delta`` (P,) is the
    difference the pair is simulated at, in points. A simulated benchmark of n
    questions draws n of the Q questions with replacement (one multinomial
    draw per benchmark, shared by every pair); for a pair, with k of its
    questions among them, m and s are the mean and the standard error of their
    residuals, and the benchmark separates the pair when |m + delta| > z s
    (z of ``confidence``): a paired interval that excludes 0. NaN where no
    size reaches ``power``.
    """
    residual, member = np.asarray(residual, float), np.asarray(member, float)
    delta = np.asarray(delta, float)
    Q, P = residual.shape
    z = critical_value(confidence)
    out = np.full(P, np.nan)
    if Q == 0 or P == 0:
        return out
    residual = residual * member
    squared = residual ** 2
    for n in sorted(int(s) for s in sizes):
        todo = np.isnan(out)
        if not todo.any():
            break
        counts = rng.multinomial(n, np.full(Q, 1.0 / Q), size=sims).astype(float)
        k = counts @ member[:, todo]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (counts @ residual[:, todo]) / k
            var = np.maximum((counts @ squared[:, todo]) / k - mean ** 2, 0.0) * k / (k - 1.0)
            separated = (k > 1) & (np.abs(mean + delta[todo]) > z * np.sqrt(var / k))
        reached = separated.mean(0) >= power
        out[np.flatnonzero(todo)[reached]] = n
    return out


def cohen_kappa(a: Sequence[int], b: Sequence[int], categories: int) -> float | None:
    """Cohen's kappa of two raters' labels (integers 0 .. categories - 1) of the same items.

    kappa = (p_o - p_e) / (1 - p_e), with p_o the share of items both label
    alike and p_e = sum_k p_a(k) p_b(k) the share expected by chance from each
    rater's own label frequencies. None without items, or when p_e = 1 (both
    raters always give one and the same label: kappa is undefined).
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    n = len(a)
    if n == 0:
        return None
    table = np.bincount(a * categories + b, minlength=categories * categories).reshape(categories, categories) / n
    observed = float(np.trace(table))
    chance = float(table.sum(1) @ table.sum(0))
    if chance >= 1.0 - 1e-12:
        return None
    return (observed - chance) / (1.0 - chance)


# ---------------------------------------------------------------- on a computed table


def compare_board(board: Leaderboard, pairs: Sequence[tuple[str, str]] | None = None, seed: int = 0,
                  estimate_needed: bool = True) -> list[PairComparison]:
    """Head-to-head comparisons in one table: the ``pairs`` given (A, B), or every pair of its scored models.

    Every pair is listed once, the model higher in the table as A. The
    difference is the table's scores' difference; its interval and the share
    come from the table's paired bootstrap rounds (``board.paired``). Pairs
    that are neither separated nor indistinguishable get the questions a
    benchmark would need (``questions_needed``, seeded with ``seed``) unless
    ``estimate_needed`` is false.
    """
    data = board.paired
    scored = [r for r in board.rows if not r.no_verdicts]
    if pairs is None:
        pairs = [(a.model, b.model) for i, a in enumerate(scored) for b in scored[i + 1:]]
    row = {r.model: r for r in scored}
    index = {m: i for i, m in enumerate(data.models)} if data is not None else {}
    out = []
    for a, b in pairs:
        if data is not None and a in index and b in index:
            lo, hi, share, n = paired_difference(data.rounds[:, index[a]], data.rounds[:, index[b]],
                                                 board.settings.confidence)
        else:
            lo = hi = share = math.nan
            n = 0
        out.append(PairComparison(a, b, row[a].score - row[b].score, lo, hi, share, n,
                                  min_rounds=significance_rounds(board.settings.confidence)))
    if estimate_needed and data is not None:
        _estimate_needed(out, data, board.settings.confidence, seed)
    return out


def _estimate_needed(comparisons: list[PairComparison], data, confidence: float, seed: int) -> None:
    """Fill ``needed`` of the pairs that are neither separated nor indistinguishable, all simulated together."""
    open_ = [c for c in comparisons if not c.significant and not c.indistinguishable and not c.flat and c.rounds > 0
             and not c.too_few_rounds]
    if not open_:
        return
    index = {m: i for i, m in enumerate(data.models)}
    u = question_residuals(data.won, data.total)
    has = data.total > 0
    a = np.array([index[c.model_a] for c in open_])
    b = np.array([index[c.model_b] for c in open_])
    questions = int(has.any(1).sum())
    sizes = sorted({max(2, round(questions * f)) for f in SIZE_FACTORS})
    needed = questions_needed(u[:, a] - u[:, b], has[:, a] | has[:, b], np.array([c.diff for c in open_]),
                              confidence, sizes, np.random.default_rng([seed, 16]))
    for c, n in zip(open_, needed.tolist()):
        c.needed, c.table_questions = n, questions
