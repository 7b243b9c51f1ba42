"""The rating math against hand-computed cases and against scikit-learn's logistic regression."""
from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from utils.ranking import rating
from utils.ranking.fitting import gained_and_lost, one_sided
from utils.ranking.rating import (TINY_RIDGE, BattleKinds, battle_kinds, bootstrap_weights, fit_bradley_terry,
                                  group_rows, percentile_interval, rating_from_win_rate, sorted_groups,
                                  ratings_from_coefficients, style_matrix, win_rate)
from utils.vocabulary.verdicts import TARGET, TIE, WINNER_A, WINNER_B

A, B, T = WINNER_A, WINNER_B, TIE


def plain_fit(model_a, model_b, winner, count, n_models, baseline=0):
    kinds = battle_kinds(model_a, model_b, winner, np.zeros(len(model_a)), count, by_question=False)
    theta = fit_bradley_terry(kinds.model_a, kinds.model_b, np.take(TARGET, kinds.winner), 2 * kinds.count, n_models,
                                 l2=TINY_RIDGE, fixed=baseline)
    return ratings_from_coefficients(theta, n_models, baseline)


def test_two_models_have_the_closed_form_win_rate():
    # baseline (0) vs model (1): the model wins 6, loses 2, ties 2. Each battle enters twice and a tie
    # once each way, so the fitted win probability is (6 + 2/2) / 10 = 0.7, i.e. 400 log10(7/3) points.
    ratings = plain_fit([0, 0, 0], [1, 1, 1], [B, A, T], [6, 2, 2], 2)
    assert ratings[0] == pytest.approx(1000.0)
    assert ratings[1] == pytest.approx(1000 + 400 * math.log10(7 / 3), abs=1e-3)
    assert win_rate(ratings[1]) == pytest.approx(0.7, abs=1e-6)  # the tiny ridge moves it by ~1e-8


def test_models_that_only_meet_the_baseline_are_fitted_independently():
    # a star around the baseline: every model's win rate is its own (wins + ties/2) / battles
    wins = {1: (3, 1, 0), 2: (1, 4, 3), 3: (5, 5, 2)}  # (model wins, baseline wins, ties)
    a, b, w, c = [], [], [], []
    for m, (won, lost, tied) in wins.items():
        for winner, n in ((B, won), (A, lost), (T, tied)):
            a.append(0), b.append(m), w.append(winner), c.append(n)
    ratings = plain_fit(a, b, w, c, 4)
    for m, (won, lost, tied) in wins.items():
        assert win_rate(ratings[m]) == pytest.approx((won + tied / 2) / (won + lost + tied), abs=1e-6)  # the tiny ridge moves it by ~1e-8


def _expanded_design(model_a, model_b, winner, count, n_models, features=None):
    """The original's design: every battle repeated by its count, the table doubled, ties split."""
    rep = np.repeat(np.arange(len(count)), count)
    a, b, w = np.asarray(model_a)[rep], np.asarray(model_b)[rep], np.asarray(winner)[rep]
    n = len(rep)
    k = 0 if features is None else features.shape[1]
    X = np.zeros((2 * n, n_models + k))
    X[np.arange(2 * n), np.tile(a, 2)] = math.log(10)
    X[np.arange(2 * n), np.tile(b, 2)] = -math.log(10)
    if k:
        X[:, n_models:] = np.tile(features[rep], (2, 1))
    y = np.zeros(2 * n)
    y[:n][w != B] = 1.0  # first copy: A wins and ties count for A
    y[n:][w == A] = 1.0  # second copy: only A's wins (a tie becomes a win for B)
    return X, y


def _random_battles(rng, n_models, n_rows):
    a = rng.integers(0, n_models, n_rows)
    b = (a + rng.integers(1, n_models, n_rows)) % n_models
    return a, b, rng.integers(0, 3, n_rows), rng.integers(1, 4, n_rows)


def test_unpenalised_fit_matches_scikit_learn_on_a_general_graph():
    rng = np.random.default_rng(3)
    a, b, w, c = _random_battles(rng, 5, 80)
    ours = plain_fit(a, b, w, c, 5, baseline=2)
    X, y = _expanded_design(a, b, w, c, 5)
    coef = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-12, max_iter=10000).fit(X, y).coef_[0]
    theirs = 400 * (coef - coef[2]) + 1000
    assert ours == pytest.approx(theirs, abs=1e-3)


def test_style_fit_matches_scikit_learn_default_l2():
    rng = np.random.default_rng(4)
    a, b, w, c = _random_battles(rng, 4, 120)
    raw_a, raw_b = rng.integers(50, 900, (120, 2)).astype(float), rng.integers(50, 900, (120, 2)).astype(float)
    F = style_matrix(raw_a, raw_b, c)
    kinds_target = np.take(TARGET, w)
    ours = fit_bradley_terry(a, b, kinds_target, 2.0 * c, 4, F, l2=1.0)
    X, y = _expanded_design(a, b, w, c, 4, F)
    theirs = LogisticRegression(fit_intercept=False, C=1.0, tol=1e-12, max_iter=10000).fit(X, y).coef_[0]
    assert ours == pytest.approx(theirs, abs=1e-5)


def _star_with_features(rng, n_models=4, per_pair=300):
    """Every model meets the baseline (0) on many questions, with style features: arena-hard's shape."""
    b = np.repeat(np.arange(1, n_models), per_pair)
    a = np.zeros_like(b)
    w = rng.integers(0, 3, len(b))
    c = rng.integers(1, 4, len(b))
    raw_a, raw_b = rng.integers(50, 900, (len(b), 2)).astype(float), rng.integers(50, 900, (len(b), 2)).astype(float)
    return a, b, w, c, style_matrix(raw_a, raw_b, c)


def test_style_fit_with_many_rows_per_pair_matches_scikit_learn():
    # many rows per model pair: the per-pair matrix products build the model-feature block of the Hessian
    a, b, w, c, F = _star_with_features(np.random.default_rng(8))
    ours = fit_bradley_terry(a, b, np.take(TARGET, w), 2.0 * c, 4, F, l2=1.0)
    X, y = _expanded_design(a, b, w, c, 4, F)
    theirs = LogisticRegression(fit_intercept=False, C=1.0, tol=1e-12, max_iter=10000).fit(X, y).coef_[0]
    assert ours == pytest.approx(theirs, abs=1e-5)


def test_chunked_and_threaded_bootstrap_fits_equal_one_weighting_at_a_time(monkeypatch):
    rng = np.random.default_rng(9)
    a, b, w, c, F = _star_with_features(rng)
    weights = rng.multinomial(int(c.sum()), c / c.sum(), size=12).T.astype(float)
    init = fit_bradley_terry(a, b, np.take(TARGET, w), 2.0 * c, 4, F, l2=1.0)
    alone = np.stack([fit_bradley_terry(a, b, np.take(TARGET, w), 2.0 * weights[:, r], 4, F, l2=1.0, init=init)
                      for r in range(12)])
    monkeypatch.setattr(rating, "CHUNK_ELEMENTS", 2000)  # a few weightings per chunk
    monkeypatch.setattr(rating, "PARALLEL_ELEMENTS", 10 ** 12)
    chunked = fit_bradley_terry(a, b, np.take(TARGET, w), 2.0 * weights, 4, F, l2=1.0, init=init)
    monkeypatch.setattr(rating, "PARALLEL_ELEMENTS", 0)  # the same chunks on several threads
    monkeypatch.setattr(rating, "_cores", lambda: 2)
    threaded = fit_bradley_terry(a, b, np.take(TARGET, w), 2.0 * weights, 4, F, l2=1.0, init=init)
    assert chunked == pytest.approx(alone, abs=1e-9)
    assert (threaded == chunked).all()  # the thread count does not change a single bit


def test_gained_and_lost_add_each_battle_to_both_models_in_any_order_of_kinds():
    # kinds of four models in no particular order, ties among them; three weightings, one leaving model 3 out
    kinds = BattleKinds(np.array([2, 0, 2, 1, 0, 3]), np.array([0, 1, 0, 0, 1, 0]), np.array([A, B, T, A, T, B]),
                        np.full(6, -1), np.ones(6))
    weights = np.array([[1, 2, 0], [3, 0, 1], [2, 2, 2], [0, 1, 1], [1, 1, 0], [4, 1, 0]], float)
    gained, lost = gained_and_lost(kinds, weights, 4)
    share = np.take(TARGET, kinds.winner)
    for r in range(3):
        for m in range(4):
            as_a, as_b = kinds.model_a == m, kinds.model_b == m
            won = (weights[as_a, r] * share[as_a]).sum() + (weights[as_b, r] * (1 - share[as_b])).sum()
            total = weights[as_a | as_b, r].sum()
            assert (gained[r, m], lost[r, m]) == (won, total - won)
    # model 3 lost its one battle in rounds 0 and 1 and sat out round 2; model 1 won or tied every battle
    # against model 0, and round 2 draws none of its ties
    assert one_sided(kinds, weights, 4)[:, 3].tolist() == [True, True, True]
    assert (gained[2, 3], lost[2, 3]) == (0, 0)
    assert one_sided(kinds, weights, 4)[:, 1].tolist() == [False, False, True]


def test_many_weightings_solve_like_one_at_a_time():
    rng = np.random.default_rng(5)
    a, b, w, c = _random_battles(rng, 4, 60)
    weights = rng.integers(0, 4, (60, 3)).astype(float)
    together = fit_bradley_terry(a, b, np.take(TARGET, w), weights, 4, l2=TINY_RIDGE, fixed=0)
    for r in range(3):
        alone = fit_bradley_terry(a, b, np.take(TARGET, w), weights[:, r], 4, l2=TINY_RIDGE, fixed=0)
        assert together[r] == pytest.approx(alone, abs=1e-7)


def test_a_clean_sweep_gives_a_finite_extreme_rating():
    # the model wins all 12 battles: no finite maximum likelihood exists; the fit must still end finite
    ratings = plain_fit([0], [1], [B], [12], 2)
    assert np.isfinite(ratings).all()
    assert win_rate(ratings[1]) > 0.999


def test_a_model_absent_from_a_weighting_does_not_break_the_others():
    a, b, w = np.array([0, 0, 0, 0]), np.array([1, 1, 2, 2]), np.array([B, A, B, A])
    weights = np.array([[1.0, 1.0], [3.0, 1.0], [0.0, 1.0], [0.0, 1.0]])  # round 0 has no battle of model 2
    theta = fit_bradley_terry(a, b, np.take(TARGET, w), weights, 3, l2=TINY_RIDGE, fixed=0)
    assert np.isfinite(theta).all()
    assert win_rate(400 * theta[0, 1] + 1000) == pytest.approx(0.25, abs=1e-6)


def test_style_matrix_normalises_then_standardises():
    fa, fb = np.array([[10.0], [30.0], [0.0]]), np.array([[30.0], [10.0], [0.0]])
    raw = np.array([-20 / 41, 20 / 41, 0.0])
    weights = np.array([1.0, 1.0, 2.0])
    mean = (raw * weights).sum() / 4
    std = math.sqrt(((raw - mean) ** 2 * weights).sum() / 4)
    assert style_matrix(fa, fb, weights)[:, 0] == pytest.approx((raw - mean) / std)
    assert (style_matrix(fa, fa, weights) == 0).all()  # a feature that never varies carries nothing


def test_battle_kinds_merge_identical_battles():
    kinds = battle_kinds([0, 0, 0, 0], [1, 1, 1, 2], [B, B, A, B], [7, 8, 7, 7], [1, 3, 1, 1], by_question=False)
    got = sorted(zip(kinds.model_b.tolist(), kinds.winner.tolist(), kinds.count.tolist()))
    assert got == [(1, A, 1.0), (1, B, 4.0), (2, B, 1.0)]
    by_q = battle_kinds([0, 0, 0, 0], [1, 1, 1, 2], [B, B, A, B], [7, 8, 7, 7], [1, 3, 1, 1], by_question=True)
    assert len(by_q) == 4


def test_group_rows_agrees_with_numpy_unique():
    keys = np.random.default_rng(6).integers(0, 3, (200, 3))
    first, group = group_rows(keys)
    uniq = np.unique(keys, axis=0)
    assert len(first) == len(uniq)
    assert (keys[first][group] == keys).all()


@pytest.mark.parametrize("kind", ["integers", "integers too wide for one key", "unsigned integers",
                                  "floats, the rest mostly following the leading columns", "floats",
                                  "floats with NaN"])
def test_sorted_groups_orders_rows_as_a_lexsort_of_all_columns(kind):
    # the result every fit's summation order depends on: the shortcuts (one key for integers, the leading
    # columns first for floats) must give exactly the lexsort's order, ties in the order of the input
    rng = np.random.default_rng(7)
    keys = rng.integers(-2, 4, (3000, 6))
    if kind == "integers too wide for one key":
        keys[:, :4] *= 2 ** 20
    if kind == "unsigned integers":
        keys = (keys + 2).astype(np.uint64)
    if kind.startswith("floats"):
        keys = keys / 4.0
    if kind == "floats, the rest mostly following the leading columns":  # as a style fit's rows are
        keys[:, 3:] = keys[:, 2:3] * [1.0, 0.5, -2.0]
        keys[rng.integers(0, 3000, 20), 5] += 1.0
    if kind == "floats with NaN":  # sorted as equal to each other, though never equal in a comparison (nor grouped)
        keys[rng.integers(0, 3000, 300), 0] = np.nan
    order, starts = sorted_groups(keys)
    expected = np.lexsort(keys.T[::-1])
    assert order.tolist() == expected.tolist()
    ordered = keys[expected]
    assert starts.tolist() == [0, *np.flatnonzero((ordered[1:] != ordered[:-1]).any(axis=1)) + 1]


def _kinds_for_bootstrap():
    # 3 questions; question 1 has two kinds of battles
    return BattleKinds(model_a=np.array([0, 0, 0, 0]), model_b=np.array([1, 1, 1, 2]),
                          winner=np.array([A, B, T, B]), question=np.array([0, 1, 1, 2]),
                          count=np.array([2.0, 1.0, 3.0, 1.0]))


def test_battle_bootstrap_resamples_every_counted_battle():
    kinds = _kinds_for_bootstrap()
    W = bootstrap_weights(kinds, 2000, np.random.default_rng(0), "battle")
    assert (W.sum(0) == 7).all()  # as many battles as there are, each round
    assert W.mean(1) == pytest.approx(kinds.count, rel=0.05)  # each kind in proportion to its count


def test_question_bootstrap_moves_whole_questions():
    kinds = _kinds_for_bootstrap()
    W = bootstrap_weights(kinds, 500, np.random.default_rng(0), "question")
    per_question = W / kinds.count[:, None]
    assert (per_question[1] == per_question[2]).all()  # both kinds of question 1 always travel together
    assert (per_question.round() == per_question).all()
    assert (per_question[[0, 1, 3]].sum(0) == 3).all()  # three questions drawn per round


def test_poisson_bootstrap_has_the_right_mean_and_is_not_fixed_size():
    kinds = _kinds_for_bootstrap()
    W = bootstrap_weights(kinds, 4000, np.random.default_rng(1), "battle", poisson=True)
    assert W.mean(1) == pytest.approx(kinds.count, rel=0.05)
    assert len(set(W.sum(0).tolist())) > 1


def test_percentile_interval_is_the_percentile_and_skips_missing_rounds():
    samples = np.column_stack([np.arange(101.0), np.r_[np.arange(100.0), np.nan]])
    lo, hi = percentile_interval(samples, 95)
    assert lo[0] == pytest.approx(2.5) and hi[0] == pytest.approx(97.5)
    assert np.isfinite([lo[1], hi[1]]).all()
    lo90, hi90 = percentile_interval(samples, 90)
    assert lo90[0] == pytest.approx(5.0) and hi90[0] == pytest.approx(95.0)


@pytest.mark.parametrize("missing", [0.0, 0.2, 1.0])
def test_percentile_interval_gives_exactly_nanpercentiles_numbers(missing):
    # the columns without NaN are taken all at once: the bounds must be nanpercentile's to the last bit, as the
    # parity of every CSV depends on them; a column of NaN only gives NaN bounds
    rng = np.random.default_rng(7)
    samples = np.round(rng.normal(size=(137, 9)) * 40, 1)
    samples[:, 2:5][rng.random((137, 3)) < missing] = np.nan
    for level in (95.0, 90.0, 99.9):
        lo, hi = percentile_interval(samples, level)
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if missing == 1.0 else nullcontext():
            want = np.nanpercentile(samples, (100 - level) / 2, axis=0), \
                np.nanpercentile(samples, 100 - (100 - level) / 2, axis=0)
        assert np.array_equal(lo, want[0], equal_nan=True) and np.array_equal(hi, want[1], equal_nan=True)
    assert np.isnan(percentile_interval(np.zeros((0, 3)))[0]).all()


def test_win_rate_and_its_inverse():
    assert win_rate(1000.0) == pytest.approx(0.5)
    assert win_rate(1400.0) == pytest.approx(10 / 11)
    assert rating_from_win_rate(win_rate(1234.5)) == pytest.approx(1234.5)
