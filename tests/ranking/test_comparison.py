"""Head-to-head comparisons and Cohen's kappa (utils/ranking/comparison.py), against cases computed by hand."""
from __future__ import annotations

from dataclasses import replace

import math
from statistics import NormalDist

import numpy as np
import pytest

from utils.ranking.battles import Battles, OutcomeRows
from utils.ranking.comparison import (INDISTINGUISHABLE, PairComparison, cohen_kappa, compare_board,
                                      paired_difference, question_residuals, questions_needed)
from utils.ranking.categories import category_index
from utils.ranking.methods import method_named
from utils.ranking.methods.v01 import compute_leaderboard
from utils.ranking.methods.v2 import compute_v2_leaderboard
from utils.ranking.settings import RunSettings
from utils.ranking.tables import needed_text
from utils.vocabulary.verdicts import TIE, WINNER_A, WINNER_B

NAN = math.nan


def test_the_difference_is_taken_round_by_round_leaving_out_rounds_either_model_sat_out():
    a = [52, 55, NAN, 51, 58, 54]
    b = [50, 56, 53, NAN, 52, 50]
    lower, upper, share, rounds = paired_difference(a, b, 50)
    # rounds 0, 1, 4 and 5 hold both: differences 2, -1, 6, 4; sorted -1, 2, 4, 6. At 50 % the bounds are the
    # 25th and 75th percentiles, at positions 0.75 and 2.25 of 0..3: -1 + 0.75 * 3 = 1.25 and 4 + 0.25 * 2 = 4.5.
    # (Dropping each model's empty rounds on its own would pair 55 with 53 and 51 with 52: other numbers.)
    assert (lower, upper, share, rounds) == (1.25, 4.5, 0.75, 4)


def test_a_round_where_both_are_equal_does_not_count_as_a_ahead():
    assert paired_difference([50, 51, 52], [50, 50, 53], 90)[2] == pytest.approx(1 / 3)


def test_without_two_paired_rounds_there_is_no_interval():
    lower, upper, share, rounds = paired_difference([50, NAN, 52], [NAN, 51, 50], 95)
    assert math.isnan(lower) and math.isnan(upper) and share == 1.0 and rounds == 1


def test_significant_means_the_interval_excludes_zero():
    def pair(lo, hi, diff=1.0):
        return PairComparison("a", "b", diff, lo, hi, 0.5, 100)
    assert pair(0.1, 3.0).significant and pair(-3.0, -0.1).significant
    assert not pair(-0.1, 3.0).significant and not pair(0.0, 3.0).significant  # touching 0 is not excluding it
    assert pair(-1.0, 1.0, diff=INDISTINGUISHABLE / 2).indistinguishable
    assert not pair(-1.0, 4.0, diff=1.5).indistinguishable and not pair(0.1, 0.2, diff=0.15).indistinguishable


def test_a_small_difference_is_called_indistinguishable_only_when_its_whole_interval_is_small():
    # the demo's case: 0.0 points apart on 16 questions, with an interval of -13.6 to +12.5
    wide = PairComparison("a", "b", 0.0, -13.6, 12.5, 0.5, 100)
    narrow = PairComparison("a", "b", 0.1, -0.4, INDISTINGUISHABLE, 0.5, 100)
    assert wide.indistinguishable and not wide.equivalent and narrow.equivalent
    assert needed_text(narrow).startswith("indistinguishable:")
    assert not needed_text(wide).startswith("indistinguishable") and "room for either to be better" in needed_text(wide)


def test_cohen_kappa_by_hand():
    a = [0, 0, 1, 1, 2, 2, 0, 1]
    b = [0, 1, 1, 1, 2, 0, 0, 2]
    # alike on items 0, 2, 3, 4, 6: p_o = 5/8. Each rater says 0 three times, 1 three times, 2 twice:
    # p_e = (3*3 + 3*3 + 2*2) / 64 = 22/64. kappa = (5/8 - 22/64) / (1 - 22/64) = (18/64) / (42/64) = 3/7.
    assert cohen_kappa(a, b, 3) == pytest.approx(3 / 7)
    assert cohen_kappa(a, a, 3) == 1.0
    assert cohen_kappa([], [], 3) is None
    assert cohen_kappa([1, 1, 1], [1, 1, 1], 3) is None  # one label from both: chance agreement is 1, kappa undefined
    # one rater always says 0, the other varies: agreement is what chance gives, kappa 0
    assert cohen_kappa([0, 0, 0, 0], [0, 1, 0, 2], 3) == pytest.approx(0.0)


def test_question_residuals_by_hand():
    won = np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    total = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    # R = 3/6 = 0.5, 2 games per question: u = 100 (won - 0.5 total) / 2 = 50, 0, -50; no games: 0
    assert question_residuals(won, total).tolist() == [[50.0, 0.0], [0.0, 0.0], [-50.0, 0.0]]


def test_questions_needed_agrees_with_the_normal_approximation():
    # residuals of +-40 points (sd 40); a difference of 5 points: a paired interval excludes 0 with probability
    # about Phi(5 sqrt(n) / 40 - 1.96), which reaches 80 % at n = ((1.96 + 0.8416) * 40 / 5)^2 = 502
    z, z80 = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.8)
    expected = ((z + z80) * 40 / 5) ** 2
    residual = np.array([[40.0], [-40.0]] * 50)
    member = np.ones_like(residual, bool)
    sizes = list(range(100, 2001, 20))
    n = questions_needed(residual, member, np.array([5.0]), 95, sizes, np.random.default_rng(7))[0]
    assert 0.85 * expected <= n <= 1.15 * expected
    again = questions_needed(residual, member, np.array([5.0]), 95, sizes, np.random.default_rng(7))[0]
    assert again == n  # seeded
    # twice the difference, about a quarter of the questions; no difference: no size separates them
    half = questions_needed(residual, member, np.array([10.0]), 95, sizes, np.random.default_rng(7))[0]
    assert 0.85 * expected / 4 <= half <= 1.15 * expected / 4
    assert math.isnan(questions_needed(residual, member, np.array([0.0]), 95, sizes, np.random.default_rng(7))[0])


def test_questions_a_pair_has_no_games_on_do_not_count_towards_its_questions():
    # the same pair, its 100 questions among 100 others it was not judged on: a benchmark of n questions holds
    # about n/2 of its own, so it needs about twice as many
    residual = np.array([[40.0], [-40.0]] * 50 + [[0.0]] * 100)
    member = np.array([[True]] * 100 + [[False]] * 100)
    expected = 2 * ((NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)) * 40 / 5) ** 2
    n = questions_needed(residual, member, np.array([5.0]), 95, range(100, 4001, 20), np.random.default_rng(3))[0]
    assert 0.85 * expected <= n <= 1.15 * expected


# ---------------------------------------------------------------- on computed tables


def star_battles(outcomes: dict[str, list[tuple[int, ...]]]) -> Battles:
    """Battles of each model against the baseline "base": per question, the winner codes of its games."""
    models = ["base", *outcomes]
    n_q = max(len(v) for v in outcomes.values())
    a, b, w, q = [], [], [], []
    for m, per_question in enumerate(outcomes.values(), start=1):
        for i, games in enumerate(per_question):
            for winner in games:
                a.append(0), b.append(m), w.append(winner), q.append(i)
    n = len(a)
    return Battles(models, [f"q{i}" for i in range(n_q)], np.array(a), np.array(b), np.array(w), np.array(q),
                   np.ones(n, np.int64))


A, B, T = WINNER_A, WINNER_B, TIE  # baseline won, model won, tie


def test_a_model_against_the_baseline_is_its_own_interval_less_50():
    rng = np.random.default_rng(0)
    outcomes = {"m": [tuple(rng.choice([A, B, T], 2, p=[0.3, 0.5, 0.2])) for _ in range(60)]}
    # 201 rounds: the 2.5th and 97.5th percentiles fall on rounds 5 and 195 exactly, so the table's bounds (taken
    # on ratings) and the difference's (on win rates) are the same rounds
    board = compute_leaderboard(star_battles(outcomes), RunSettings(baseline="base", rounds=201, seed=3))
    c = compare_board(board, [("m", "base")])[0]
    row = board.row("m")
    assert c.diff == pytest.approx(row.score - 50.0)
    assert (c.lower, c.upper) == pytest.approx((row.lower - 50.0, row.upper - 50.0), abs=1e-9)
    assert c.rounds == 201 and c.share_a_better == pytest.approx(np.mean(np.array(row.results) > 50.0))


def test_rounds_stay_lined_up_when_a_model_sits_some_out():
    # "rare" has one battle among 301: it is absent from about a third of the rounds
    outcomes = {"m": [(B, A)] * 100 + [(B, T)] * 50, "rare": [(B,)]}
    board = compute_leaderboard(star_battles(outcomes), RunSettings(baseline="base", rounds=60, seed=1))
    rounds = board.paired.rounds[:, board.paired.models.index("rare")]
    absent = np.isnan(rounds)
    assert 0 < absent.sum() < 60
    assert rounds[~absent].tolist() == board.row("rare").results  # the table's numbers, in round order
    m = board.paired.rounds[:, board.paired.models.index("m")]
    c = compare_board(board, [("m", "rare")], estimate_needed=False)[0]
    diffs = [m[r] - rounds[r] for r in range(60) if not absent[r]]  # a plain loop over the rounds both are in
    assert c.rounds == len(diffs) and c.share_a_better == pytest.approx(np.mean(np.array(diffs) > 0))


@pytest.mark.parametrize("unit", ["question", "battle"])
def test_two_models_with_the_same_verdicts_on_every_question(unit):
    rng = np.random.default_rng(5)
    verdicts = [tuple(rng.choice([A, B, T], 2)) for _ in range(80)]
    board = compute_leaderboard(star_battles({"x": verdicts, "y": verdicts}),
                                RunSettings(baseline="base", rounds=100, seed=2, bootstrap_unit=unit))
    c = compare_board(board, [("x", "y")])[0]
    assert c.diff == 0 and c.indistinguishable and c.needed is None
    if unit == "question":  # the same questions drawn in a round: the same scores, round by round
        assert (c.lower, c.upper, c.share_a_better) == (0.0, 0.0, 0.0)
    else:  # single battles drawn: the two models' draws differ, and so do their scores
        assert c.lower < 0 < c.upper


def v2_rows(units: dict[str, list[tuple[float, float]]]) -> OutcomeRows:
    """One category "c" against baseline "base": each model's two games per question, as the model's shares."""
    models = ["base", *units]
    model, question, score = [], [], []
    for m, per_question in enumerate(units.values(), start=1):
        for i, games in enumerate(per_question):
            model.append(m), question.append(i), score.append(games)
    n, n_q = len(model), max(len(v) for v in units.values())
    return OutcomeRows(models, [f"q{i}" for i in range(n_q)], ["c"], ["f"], np.array(model), np.array(question),
                       np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64), np.array(score, float),
                       np.ones((n, 2)))


def test_v2_plain_comparisons_resample_the_questions_of_both_models_together():
    rng = np.random.default_rng(4)
    games = [tuple(rng.choice([0.0, 0.5, 1.0], 2)) for _ in range(100)]
    rows = v2_rows({"x": games, "y": games})
    settings = replace(method_named("arena-hard-v2").defaults)
    settings.baseline, settings.categories, settings.rounds = "base", ("c",), 100
    board = compute_v2_leaderboard(rows, settings, category_index([], rows), {}, ".", paired=True)
    # the table's own bootstrap draws each model apart, so the two intervals are two different samples ...
    assert board.row("x").results != board.row("y").results
    # ... but the comparison draws the questions once for both: the same outcomes give the same score every round
    c = compare_board(board, [("x", "y")])[0]
    assert (c.diff, c.lower, c.upper, c.share_a_better, c.rounds) == (0.0, 0.0, 0.0, 0.0, 100)


def test_v2_comparisons_are_only_computed_when_asked_for():
    rows = v2_rows({"x": [(1.0, 0.5)] * 30})
    settings = replace(method_named("arena-hard-v2").defaults)
    settings.baseline, settings.categories = "base", ("c",)
    plain = compute_v2_leaderboard(rows, settings, category_index([], rows), {}, ".")
    assert plain.paired is None
    assert compare_board(plain, [("x", "base")])[0].rounds == 0
