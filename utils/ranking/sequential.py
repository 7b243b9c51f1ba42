"""Deciding between two models before every question is judged: an anytime-valid confidence sequence.

Pure numpy, no I/O (docs/deciding.md). Two models A and B are each judged
against the baseline on a benchmark's N questions, taken in a seeded random
order. Each question gives a *paired difference* d = score_A - score_B of
the two models' per-question scores (``question_scores``), in points, so d
lies in [-100, 100]. The quantity decided on is the benchmark-level
difference Delta = mean of d over all N questions: what the whole benchmark
would show. After any number of questions the sequence gives an interval
that holds Delta with probability at least 1 - alpha *at every question at
once*, so the procedure may stop whenever the interval says enough, however
often it was looked at; once all N questions are judged it is the exact
Delta.

The construction is the hedged betting confidence sequence for sampling
without replacement (Waudby-Smith & Ramdas, arXiv 2006.04347 and
2010.09686): for a candidate value m of Delta, a gambler bets on each new
question's difference against what m implies for the questions still
unjudged; under the true m no strategy makes money on average, so by
Ville's inequality its wealth reaches 2/alpha with probability at most
alpha/2. The candidates at which a bet on "higher" or on "lower" has made
that much are ruled out; the rest is the interval.

After each round the procedure (``until_decided``) reports A better (the
interval lies above 0), B better (below 0), equivalent (inside the user's
margin, which wins over a winner) or undecided.

An order drawn with weights from the answers' features (``weighted_order``)
keeps the guarantee when the sequence is given the weights: each difference
is then scaled by the inverse of its chance of being picked. With
``population=None`` the same bets are made against m itself: the sequence for
the mean of an endless stream of questions like these (what the models would
score beyond this benchmark). It never collapses; the simulation
(bench/decide_sim.py) shows what each costs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from utils.ranking.rating_v2 import weighted_win_rates
from utils.vocabulary.deciding import DEFAULT_ALPHA, DEFAULT_MARGIN, DEFAULT_ROUND  # noqa: F401 - the module's defaults

# A per-question score is a win rate in points, so a paired difference lies in [-HALF, HALF]
HALF = 100.0
# A question on which a model has no counted game: no evidence either way, a tie
NO_GAMES_SCORE = 50.0

# How boldly the bets follow the data (docs/deciding.md#bets): the plug-in bet of the betting paper, tuned for
# a sample of about BET_HORIZON questions, and never more than BET_CAP of what could be lost on one question.
# bench/decide_sim.py chose them; any predictable bet keeps the guarantee, these only make it decide sooner.
BET_HORIZON = 250
BET_CAP = 0.5



class Decision(str, Enum):
    """What the interval says about A - B after a round; the value is the word printed."""
    A_BETTER = "A better"  # the interval lies above 0 (and not inside the margin)
    B_BETTER = "B better"
    EQUIVALENT = "equivalent"  # the interval lies inside (-margin, +margin)
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Rounds:
    """The sequence at the end of each round, and where and why it stopped.

    ``lower[i]``, ``upper[i]``, ``judged[i]`` and ``decisions[i]`` belong to
    round i (points, questions judged so far); ``stopped`` is the index of the
    round the procedure stops after: the first decided round, else the last.
    """
    lower: np.ndarray
    upper: np.ndarray
    judged: np.ndarray
    decisions: tuple[Decision, ...]
    stopped: int

    @property
    def decision(self) -> Decision:
        return self.decisions[self.stopped]

    @property
    def questions(self) -> int:
        """Questions judged when the procedure stops."""
        return int(self.judged[self.stopped])


# ---------------------------------------------------------------- per-question scores


def question_scores(question, share, count, n_questions: int) -> np.ndarray:
    """(n_questions,) each question's weighted win rate of a model against its baseline, in points.

    One entry per counted game: ``question`` its index, ``share`` the model's
    share of the game (1 a win, 0.5 a tie, 0 a loss: utils.vocabulary.verdicts'
    model_outcome), ``count`` how many times it counts (``weight`` for a strong
    verdict). This is the table's win rate restricted to one question (both
    games, every judge); a question without counted games scores
    NO_GAMES_SCORE.
    """
    rates = weighted_win_rates(question, share, count, n_questions)
    return np.where(np.isnan(rates), NO_GAMES_SCORE, 100.0 * rates)


def random_order(n_questions: int, seed: int) -> np.ndarray:
    """The order in which the questions are judged: a permutation drawn from ``seed`` alone.

    The guarantee needs every order equally likely and the draw independent of
    the verdicts, so nothing but the seed goes in.
    """
    return np.random.default_rng([seed, 24]).permutation(n_questions)  # a stream apart from the bootstraps' [seed, k]


def weighted_order(weights, seed: int) -> np.ndarray:
    """An order drawn without replacement with each next question picked with probability proportional to its weight.

    For ``--order informative``: the weights come from what is known before
    any verdict (the answers' features), so questions likely to separate the
    models tend to come first while every order stays possible. Sorting by
    exponential draws divided by the weights gives exactly that successive
    sampling (each step picks among the remaining questions in proportion to
    their weights). The sequence must then be told the weights
    (``weights=`` in judging order) to undo the tilt.
    """
    w = np.asarray(weights, float)
    if w.ndim != 1 or not np.all(w > 0) or not np.all(np.isfinite(w)):
        raise ValueError("sampling weights must be positive finite numbers")
    return np.argsort(np.random.default_rng([seed, 24, 1]).exponential(size=len(w)) / w, kind="stable")


def point_estimate(differences, population: int | None = None, weights=None) -> float:
    """The benchmark-level difference's estimate from the differences judged so far, in points (what a round prints).

    Under a uniform order the mean of the judged differences. Under a weighted
    order (``weights`` of all ``population`` questions in judging order) that
    mean leans towards the heavy questions, so each question gives instead
    (S + n r d) / N, S the sum judged before it, n the questions then
    unjudged, r its tilt factor: an unbiased guess of the whole mean whatever
    the order drew; the estimate is their average.
    """
    d = _checked(differences).reshape(-1)
    if weights is None or population is None:
        return float(d.mean())
    factor, _ = _tilt(weights, population, len(d))
    unjudged = population - np.arange(len(d))
    return float(np.mean((np.cumsum(d) - d + unjudged * factor * d) / population))


# ---------------------------------------------------------------- the confidence sequence


def _checked(differences) -> np.ndarray:
    d = np.asarray(differences, float)
    if d.shape[-1:] in ((), (0,)):
        raise ValueError("no paired differences")
    if np.isnan(d).any() or np.abs(d).max() > HALF:
        raise ValueError(f"paired differences must lie in [-{HALF:g}, {HALF:g}] points")
    return d


def _tilt(weights, population: int | None, T: int) -> tuple[np.ndarray, np.ndarray]:
    """(..., T) each judged question's inverse-probability factor, and the largest factor any question could have had.

    At question t, with W the weight and n the number of the questions not yet
    judged, question i was picked with probability w_i / W, so r = W / (n w_i)
    times its difference has, on average over the pick, the mean of the
    unjudged differences (Horvitz-Thompson): what the bets compare with. Under
    a uniform order every r is 1. ``weights`` (..., population): the weights
    of all questions in judging order (one row per run, or one for all).
    """
    if weights is None:
        return np.ones(T), np.ones(T)
    w = np.asarray(weights, float)
    if population is None or w.shape[-1:] != (population,) or not np.all(w > 0):
        raise ValueError("sampling weights need the benchmark size and one positive weight per question")
    left = np.flip(np.cumsum(np.flip(w, -1), -1), -1)  # weight of the questions not judged before each one
    lightest = np.flip(np.minimum.accumulate(np.flip(w, -1), -1), -1)
    n = population - np.arange(population)
    return (left / (n * w))[..., :T], (left / (n * lightest))[..., :T]


def _bets(x: np.ndarray, alpha: float, horizon: int | None) -> np.ndarray:
    """(..., T) the size of each bet before its question is seen: the plug-in bet of the betting paper.

    sqrt(2 log(2/alpha) / (v * h)), v the variance of the values seen so far
    (started at HALF^2, the most a difference has, as the paper starts at 1/4
    on [0, 1]) and h = ``horizon``, or t log(1 + t) at question t when None
    (the paper's choice, which spreads the power over every sample size). It
    uses only earlier questions, which is all the guarantee asks of a bet.
    """
    t = np.arange(1, x.shape[-1] + 1)
    running_mean = np.cumsum(x, -1) / (t + 1)
    variance = (HALF ** 2 + np.cumsum((x - running_mean) ** 2, -1)) / (t + 1)
    before = np.concatenate([np.full(x.shape[:-1] + (1,), HALF ** 2), variance[..., :-1]], -1)
    h = t * np.log1p(t) if horizon is None else horizon
    return np.sqrt(2.0 * math.log(2.0 / alpha) / (before * h))


def _remaining_means(d: np.ndarray, m, population: int | None) -> np.ndarray:
    """(..., T) the mean the unjudged questions must have before each question if the whole mean is m."""
    if population is None:
        return np.asarray(m, float) + np.zeros(d.shape)
    t = np.arange(1, d.shape[-1] + 1)
    before = np.cumsum(d, -1) - d
    return (population * np.asarray(m, float) - before) / (population - t + 1)


def bounds_now(d: np.ndarray, population: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(..., T) the range of the mean difference (points) that needs no statistics: each unjudged question's
    difference lies in [-HALF, HALF] too. Exact once every question is in (the sum taken with math.fsum)."""
    if population is None:
        return np.full(d.shape, -HALF), np.full(d.shape, HALF)
    t = np.arange(1, d.shape[-1] + 1)
    seen = np.cumsum(d, -1)
    if d.shape[-1] == population:
        seen[..., -1] = np.apply_along_axis(math.fsum, -1, d) if d.ndim > 1 else math.fsum(d)
    return (seen - HALF * (population - t)) / population, (seen + HALF * (population - t)) / population


@dataclass(frozen=True)
class _Sequence:
    """One or more runs (leading axes) of judged differences, with what testing a candidate mean needs."""
    d: np.ndarray  # (..., T) the differences, points, in judging order
    x: np.ndarray  # (..., T) what is bet on: each difference times its tilt factor
    reach: np.ndarray  # (..., T) the largest |x| any question could have given: HALF times the largest factor
    bets: np.ndarray
    population: int | None
    alpha: float
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, differences, population: int | None, alpha: float, horizon: int | None,
           weights=None) -> "_Sequence":
        d = _checked(differences)
        if population is not None and d.shape[-1] > population:
            raise ValueError(f"{d.shape[-1]} differences for a benchmark of {population} questions")
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
        factor, largest = _tilt(weights, population, d.shape[-1])
        x = d * factor
        low, high = bounds_now(d, population)
        return cls(d, x, HALF * largest, _bets(x, alpha, horizon), population, alpha, low, high)

    def log_wealth(self, m, side: int) -> np.ndarray:
        """(..., T) the best log wealth so far of a gambler betting the mean is above (side +1) or below m.

        Each question multiplies the wealth by 1 + b (x - mu) (side +1) or
        1 - b (x - mu), mu the mean the unjudged questions must have under m,
        b the bet capped at BET_CAP over the most the factor can lose per unit
        bet (reach + mu, or reach - mu), so no factor falls below 1 - BET_CAP.
        Where mu leaves [-HALF, HALF], m is impossible (the plain bounds rule
        it out) and the clipped value only keeps the arithmetic finite.
        """
        mu = np.clip(_remaining_means(self.d, m, self.population), -HALF, HALF)
        with np.errstate(divide="ignore"):  # nothing to lose (mu at the edge): the plug-in bet stands
            b = np.minimum(self.bets, BET_CAP / (self.reach + side * mu))
        return np.maximum.accumulate(np.cumsum(np.log1p(side * b * (self.x - mu)), -1), -1)

    def _won(self, m, side: int) -> np.ndarray:
        """(..., T) that wealth has reached 2/alpha: m is ruled out from that side (Ville's inequality)."""
        return self.log_wealth(m, side) >= math.log(2.0 / self.alpha)

    def above(self, m) -> np.ndarray:
        """(..., T) the interval lies above m points: every value up to m is ruled out."""
        m = np.asarray(m, float)
        return (m < self.low) | ((m <= self.high) & self._won(m, +1))

    def below(self, m) -> np.ndarray:
        """(..., T) the interval lies below m points: every value from m up is ruled out."""
        m = np.asarray(m, float)
        return (m > self.high) | ((m >= self.low) & self._won(m, -1))


def decisions(differences, population: int | None, margin: float = DEFAULT_MARGIN, alpha: float = DEFAULT_ALPHA,
              horizon: int | None = BET_HORIZON, weights=None) -> np.ndarray:
    """(..., T) the decision after each question, as codes: 1 A better, -1 B better, 0 equivalent, 2 undecided.

    ``differences`` (..., T) in points, in the order judged (leading axes are
    separate runs); ``weights`` the sampling weights of all ``population``
    questions in that order when it was drawn by ``weighted_order`` (one row
    per run, or one for all). Equivalent (the interval inside (-margin, margin))
    wins over a winner: a difference the user called too small to matter is
    reported as such even when its sign is known.
    """
    s = _Sequence.of(differences, population, alpha, horizon, weights)
    out = np.full(s.d.shape, 2, np.int8)
    out[s.above(0.0)] = 1
    out[s.below(0.0)] = -1
    out[s.above(-margin) & s.below(margin)] = 0
    return out


DECISION_CODES = {1: Decision.A_BETTER, -1: Decision.B_BETTER, 0: Decision.EQUIVALENT, 2: Decision.UNDECIDED}


def confidence_sequence(differences, population: int | None, alpha: float = DEFAULT_ALPHA,
                        horizon: int | None = BET_HORIZON, after=None, weights=None, tolerance: float = 1e-9
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper): the interval for the benchmark-level difference after each question, in points.

    ``after`` (optional) lists how many questions each wanted interval comes
    after (e.g. the ends of rounds); default every question. Each interval is
    the intersection of all before it (still valid: the guarantee holds at
    every question at once), so they are nested; when all ``population``
    questions are in, lower = upper = the mean difference. An empty interval
    (possible only when the guarantee failed, at most ``alpha`` of the time)
    comes out with lower > upper. ``weights``: as for ``decisions``.
    """
    s = _Sequence.of(np.asarray(differences, float).reshape(-1), population, alpha, horizon, weights)
    last = np.arange(s.d.size) if after is None else np.asarray(after, np.int64) - 1
    if last.size and (last.min() < 0 or last.max() >= s.d.size):
        raise ValueError(f"intervals asked after {last.min() + 1}..{last.max() + 1} of {s.d.size} questions")
    lo, hi = s.low[last], s.high[last]
    return (_bisect(s.above, lo, hi, last, tolerance, rising=True),
            _bisect(s.below, lo, hi, last, tolerance, rising=False))


def _bisect(ruled_out, lo: np.ndarray, hi: np.ndarray, last: np.ndarray, tolerance: float, rising: bool
            ) -> np.ndarray:
    """Per wanted interval, the edge between the candidates ruled out and the rest, within [lo, hi].

    ``ruled_out(m)`` holds below the edge when ``rising`` (the lower end) and
    above it otherwise; candidate k is tested after question ``last[k]``. The
    edge is taken on the kept side, so a collapsed interval (lo = hi) is exact.
    """
    rows = np.arange(len(last))
    while np.any(hi - lo > tolerance):
        mid = (lo + hi) / 2
        out = ruled_out(mid[:, None])[rows, last]
        lo, hi = (np.where(out, mid, lo), np.where(out, hi, mid)) if rising else \
            (np.where(out, lo, mid), np.where(out, mid, hi))
    return hi if rising else lo


def until_decided(differences, population: int, round_size: int = DEFAULT_ROUND, margin: float = DEFAULT_MARGIN,
                  alpha: float = DEFAULT_ALPHA, horizon: int | None = BET_HORIZON, weights=None) -> Rounds:
    """The procedure on differences in judging order: the interval after each round, and the first decided round.

    Rounds hold ``round_size`` questions (the last one the rest). Given the
    differences of more questions than the procedure needed, it still stops at
    the first decided round: the later ones are what it would not have judged.
    """
    d = np.asarray(differences, float).reshape(-1)
    if round_size < 1:
        raise ValueError(f"round size must be at least 1, got {round_size}")
    ends = np.r_[np.arange(round_size, len(d), round_size), len(d)]
    lower, upper = confidence_sequence(d, population, alpha, horizon, after=ends, weights=weights)
    codes = decisions(d, population, margin, alpha, horizon, weights)
    decided = [DECISION_CODES[int(c)] for c in codes[ends - 1]]
    stop = next((i for i, x in enumerate(decided) if x is not Decision.UNDECIDED), len(decided) - 1)
    return Rounds(lower, upper, ends, tuple(decided), stop)
