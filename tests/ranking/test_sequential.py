"""The anytime-valid confidence sequence of utils/ranking/sequential.py, on cases worked out by hand or proved.

The reference wealth below is the formula of docs/deciding.md written as a
plain loop, one question at a time, to hold the vectorised code to it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from utils.ranking import sequential
from utils.ranking.sequential import (BET_CAP, BET_HORIZON, Decision, confidence_sequence, decisions,
                                      point_estimate, question_scores, random_order, until_decided, weighted_order)

LOG_THRESHOLD = math.log(2 / 0.05)  # the wealth that rules a candidate out


def reference_log_wealth(d: list[float], population: int | None, m: float, side: int, weights=None,
                         alpha: float = 0.05, horizon: int = BET_HORIZON) -> list[float]:
    """The best log wealth so far after each question, for candidate m (points), one question at a time."""
    weights = [1.0] * len(d) if weights is None else list(weights)
    wealth, best, seen, bet_on, squares, out = 0.0, -math.inf, 0.0, 0.0, 0.0, []
    for t, diff in enumerate(d, 1):
        left = weights[t - 1:] if population is not None else [1.0]
        tilt = sum(left) / (len(left) * weights[t - 1]) if population is not None else 1.0
        reach = 100 * sum(left) / (len(left) * min(left))
        x = diff * tilt
        variance = (100 ** 2 + squares) / t  # over the t - 1 values before this one, started at 100^2
        bet = math.sqrt(2 * math.log(2 / alpha) / (variance * horizon))
        mu = m if population is None else (population * m - seen) / (population - t + 1)
        mu = min(max(mu, -100.0), 100.0)
        if reach + side * mu > 0:
            bet = min(bet, BET_CAP / (reach + side * mu))
        wealth += math.log(1 + side * bet * (x - mu))
        best = max(best, wealth)
        out.append(best)
        seen += diff
        bet_on += x
        squares += (x - bet_on / (t + 1)) ** 2
    return out


def test_the_wealth_is_the_documented_bet_one_question_at_a_time():
    rng = np.random.default_rng(7)
    d = rng.choice([-100.0, -62.5, -25.0, 0.0, 12.5, 50.0, 100.0], size=40)
    tilted = rng.uniform(1, 4, size=55)
    for population, weights in ((40, None), (55, None), (None, None), (55, tilted)):
        for m in (-30.0, 0.0, 4.0, 25.0):
            for side in (1, -1):
                expected = reference_log_wealth(d.tolist(), population, m, side, weights)
                s = sequential._Sequence.of(d, population, 0.05, BET_HORIZON, weights)
                assert s.log_wealth(m, side).tolist() == pytest.approx(expected, abs=1e-9)


def test_after_the_last_question_the_interval_is_the_exact_mean():
    lower, upper = confidence_sequence([100, -50, 25, 0], 4)
    assert lower[-1] == upper[-1] == 18.75  # (100 - 50 + 25 + 0) / 4


def test_after_one_question_nothing_is_known_beyond_the_plain_bounds():
    # one question cannot win the 40-fold wealth a rejection needs (the first bet is about 0.34), so the interval is
    # the range left when the 9 unjudged questions may lie anywhere in [-100, 100]: (100 -+ 900) / 10
    lower, upper = confidence_sequence([100], 10)
    assert (lower[0], upper[0]) == pytest.approx((-80.0, 100.0), abs=1e-7)


def test_intervals_are_nested_and_never_wider_than_the_plain_bounds():
    rng = np.random.default_rng(3)
    N = 120
    d = rng.choice([-100.0, -50.0, 0.0, 25.0, 75.0, 100.0], size=N)
    lower, upper = confidence_sequence(d, N)
    assert np.all(np.diff(lower) >= -1e-7) and np.all(np.diff(upper) <= 1e-7)
    t = np.arange(1, N + 1)
    seen = np.cumsum(d)
    assert np.all(lower >= (seen - 100 * (N - t)) / N - 1e-7) and np.all(upper <= (seen + 100 * (N - t)) / N + 1e-7)
    assert np.all(upper - lower <= 200 * (N - t) / N + 1e-7)  # so it shrinks to a point


def test_mirrored_data_give_the_mirrored_interval():
    rng = np.random.default_rng(11)
    d = rng.choice([-100.0, -25.0, 0.0, 12.5, 50.0, 100.0], size=80)
    lower, upper = confidence_sequence(d, 100)
    lower_m, upper_m = confidence_sequence(-d, 100)
    assert lower_m == pytest.approx(-upper, abs=1e-7) and upper_m == pytest.approx(-lower, abs=1e-7)


def test_decisions_agree_with_the_intervals():
    rng = np.random.default_rng(5)
    d = rng.choice([-100.0, -50.0, 0.0, 25.0, 50.0, 100.0], size=200)
    lower, upper = confidence_sequence(d, 200)
    codes = decisions(d, 200, margin=5.0)
    clear = (np.abs(lower - 5) > 1e-6) & (np.abs(upper + 5) > 1e-6) & (np.abs(lower) > 1e-6) & \
        (np.abs(upper - 5) > 1e-6) & (np.abs(lower + 5) > 1e-6)  # away from the edges the bisection rounds
    expected = np.where((lower > -5) & (upper < 5), 0, np.where(lower > 0, 1, np.where(upper < 0, -1, 2)))
    assert np.array_equal(codes[clear], expected[clear])
    assert set(codes.tolist()) >= {2, 1}  # the sequence decides somewhere along the way


def test_a_difference_inside_the_margin_is_equivalent_even_when_its_sign_is_known():
    d = [0.0, 0.0, 0.0, 2.0]  # all judged: A ahead by exactly 0.5 points
    assert decisions(d, 4, margin=1.0)[-1] == 0
    assert decisions(d, 4, margin=0.25)[-1] == 1
    assert decisions([0.0] * 4, 4, margin=0.0)[-1] == 2  # exactly 0 with no margin: neither side


def test_a_model_winning_every_question_is_declared_better_in_the_first_round():
    d = [100.0] * 100
    wealth = reference_log_wealth(d, 100, 0.0, +1)
    first = next(t for t, w in enumerate(wealth, 1) if w >= LOG_THRESHOLD)
    codes = decisions(d, 100)
    assert codes[first - 1] == 1 and np.all(codes[:first - 1] == 2)
    assert first <= 25  # well before the plain bounds alone would say it (51 of 100 questions)
    rounds = until_decided(d, 100, round_size=25)
    assert rounds.decision is Decision.A_BETTER and rounds.questions == 25 and rounds.stopped == 0


def test_the_procedure_runs_to_the_end_when_nothing_separates_the_models():
    d = [100.0, -100.0] * 30  # 60 questions, exactly even
    rounds = until_decided(d, 60, round_size=25)
    assert rounds.judged.tolist() == [25, 50, 60]
    assert rounds.decisions[:2] == (Decision.UNDECIDED, Decision.UNDECIDED)
    assert rounds.stopped == 2 and rounds.decision is Decision.EQUIVALENT
    assert rounds.lower[-1] == rounds.upper[-1] == 0.0
    assert np.all(rounds.lower[:2] < 0) and np.all(rounds.upper[:2] > 0)


def test_the_procedure_stops_at_its_first_decided_round_whatever_follows():
    d = [100.0] * 30 + [-100.0] * 70
    rounds = until_decided(d, 100, round_size=10)
    assert rounds.decision is Decision.A_BETTER and rounds.questions == until_decided(d[:30], 100, 10).questions


def test_an_endless_population_never_collapses():
    d = [100, -50, 25, 0] * 10
    lower, upper = confidence_sequence(d, None)
    assert upper[-1] - lower[-1] > 10


def test_the_guarantee_holds_on_random_orders_of_fixed_benchmarks_and_fails_on_sorted_ones():
    # 1000 benchmarks of 100 questions, each taken in a random order: the sequence may rule out the benchmark's true
    # mean difference, at some question, in at most 5 % of them (seeded, so the count is fixed). Taken in the order
    # of a noisy guess of the verdicts instead, the same sequence misses in almost all of them.
    rng = np.random.default_rng(2024)
    values = np.array([-100.0, -50.0, -25.0, 0.0, 25.0, 50.0, 100.0])
    d = rng.choice(values, size=(1000, 100), p=[0.1, 0.1, 0.1, 0.25, 0.15, 0.15, 0.15])
    truth = d.mean(1, keepdims=True)
    s = sequential._Sequence.of(d, 100, 0.05, BET_HORIZON)
    assert (s.above(truth) | s.below(truth)).any(1).mean() <= 0.05
    guessed = np.argsort(-(d + rng.normal(0, 60, d.shape)), 1)
    s = sequential._Sequence.of(np.take_along_axis(d, guessed, 1), 100, 0.05, BET_HORIZON)
    assert (s.above(truth) | s.below(truth)).any(1).mean() >= 0.5
    iid = rng.choice(values, size=(1000, 100), p=[0.1] * 3 + [0.25] + [0.15] * 3)
    mean = float(values @ np.array([0.1] * 3 + [0.25] + [0.15] * 3))
    s = sequential._Sequence.of(iid, None, 0.05, BET_HORIZON)
    assert (s.above(mean) | s.below(mean)).any(1).mean() <= 0.05


def test_question_scores_are_weighted_win_rates_in_points():
    # question 0: a strong win (counts 3) and a tie -> (3 + 0.5) / 4; question 1: no counted game; question 2: a loss
    # and a strong loss -> 0
    scores = question_scores([0, 0, 2, 2], [1.0, 0.5, 0.0, 0.0], [3, 1, 1, 3], 3)
    assert scores.tolist() == [87.5, 50.0, 0.0]


def test_the_order_depends_on_the_seed_alone():
    first = random_order(750, seed=42)
    assert sorted(first.tolist()) == list(range(750))
    assert np.array_equal(first, random_order(750, seed=42)) and not np.array_equal(first, random_order(750, 43))


@pytest.mark.parametrize("bad, message", [
    (dict(differences=[120.0]), "must lie in"),
    (dict(differences=[float("nan")]), "must lie in"),
    (dict(differences=[]), "no paired differences"),
    (dict(differences=[1.0] * 5, population=4), "5 differences for a benchmark of 4"),
    (dict(alpha=1.5), "alpha must lie in"),
])
def test_impossible_input_is_refused(bad, message):
    args = dict(differences=[10.0, -20.0], population=10, alpha=0.05) | bad
    with pytest.raises(ValueError, match=message):
        confidence_sequence(args["differences"], args["population"], args["alpha"])


def test_a_round_holds_at_least_one_question():
    with pytest.raises(ValueError, match="round size"):
        until_decided([1.0], 10, round_size=0)


# ---------------------------------------------------------------- orders drawn with weights (--order informative)


def test_tilt_factors_undo_the_weighted_pick():
    # judging order weights 1, 2, 1: question 1 was picked with probability 1/4 among 3 questions, so its difference
    # counts 4/3 times; question 2 with 2/3 among 2, so 3/4 times; the last one was certain
    factor, largest = sequential._tilt([1.0, 2.0, 1.0], 3, 3)
    assert factor.tolist() == pytest.approx([4 / 3, 3 / 4, 1.0])
    assert largest.tolist() == pytest.approx([4 / 3, 3 / 2, 1.0])  # what the lightest question left would have got


def test_weighted_orders_put_heavy_questions_first_and_depend_on_the_seed_alone():
    weights = np.r_[np.ones(50), np.full(50, 10.0)]
    first = sequential.weighted_order(weights, seed=1)
    assert sorted(first.tolist()) == list(range(100)) and np.array_equal(first, sequential.weighted_order(weights, 1))
    heavy_positions = [np.flatnonzero(sequential.weighted_order(weights, seed) >= 50).mean() for seed in range(20)]
    assert np.mean(heavy_positions) < 35  # 49.5 if the weights were ignored
    with pytest.raises(ValueError, match="positive"):
        sequential.weighted_order([1.0, 0.0], seed=1)


def test_a_weighted_order_keeps_the_guarantee_only_when_the_sequence_is_told_the_weights():
    # weights that favour the questions A wins, as a feature correlated with the verdicts would; 1000 seeded
    # benchmarks of 100 questions, each in its own weighted order. Told the weights, the sequence rules the truth out
    # in at most 5 % of them; treating the order as uniform, in about half.
    rng = np.random.default_rng(99)
    values = np.array([-100.0, -50.0, -25.0, 0.0, 25.0, 50.0, 100.0])
    told, not_told = [], []
    for _ in range(1000):
        d = rng.choice(values, size=100, p=[0.1, 0.1, 0.1, 0.25, 0.15, 0.15, 0.15])
        weights = 1 + 3 * np.maximum(d, 0) / 100 * rng.uniform(0.5, 1, 100)
        order = sequential.weighted_order(weights, int(rng.integers(1 << 30)))
        for misses, w in ((told, weights[order]), (not_told, None)):
            s = sequential._Sequence.of(d[order], 100, 0.05, BET_HORIZON, w)
            misses.append(bool((s.above(d.mean()) | s.below(d.mean())).any()))
    assert np.mean(told) <= 0.05 and np.mean(not_told) >= 0.3
    lower, upper = confidence_sequence(d[order], 100, weights=weights[order])
    assert lower[-1] == pytest.approx(d.mean(), abs=1e-9) and upper[-1] == pytest.approx(d.mean(), abs=1e-9)


def test_the_round_estimate_is_unbiased_under_a_weighted_order_and_the_plain_mean_is_not():
    rng = np.random.default_rng(5)
    d = rng.uniform(-100, 100, 12)
    weights = np.where(d > 0, 5.0, 1.0)  # the winning questions tend to come first: the plain mean leans up
    estimates, plain = [], []
    for seed in range(3000):
        order = weighted_order(weights, seed)
        estimates.append(point_estimate(d[order][:4], 12, weights[order]))
        plain.append(d[order][:4].mean())
    assert np.mean(estimates) == pytest.approx(d.mean(), abs=1.5)
    assert np.mean(plain) > d.mean() + 10
    assert point_estimate(d[:4]) == pytest.approx(d[:4].mean())
