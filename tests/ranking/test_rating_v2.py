"""The pure v2.0 math of utils/ranking/rating_v2.py on cases small enough to work out by hand."""
from __future__ import annotations

import statistics

import numpy as np
import pytest

from utils.ranking.rating_v2 import (bootstrap_question_means, bootstrap_unit_means, standardise, style_features,
                                     weighted_win_rates)


def test_weighted_win_rate_counts_each_unit():
    # model 0: a strong win (3 units), a loss, a tie -> (3 + 0 + 0.5) / 5; model 1: one tie; model 2: nothing
    rates = weighted_win_rates([0, 0, 0, 1], [1.0, 0.0, 0.5, 0.5], [3, 1, 1, 1], 3)
    assert rates[:2].tolist() == [0.7, 0.5] and np.isnan(rates[2])


def test_style_features_follow_v2s_definitions():
    model, baseline = (100, 2, 4, 0), (300, 0, 4, 2)
    got = style_features(np.array([model], float), np.array([baseline], float))[0]
    header = (2 / 101) / (2 / 101 + 1)
    lists = (4 / 101 - 4 / 301) / (4 / 101 + 4 / 301 + 1)
    bold = (-2 / 301) / (2 / 301 + 1)
    assert got.tolist() == pytest.approx([(100 - 300) / (100 + 300), header, lists, bold], rel=1e-12)
    length_only = style_features(np.array([model], float), np.array([baseline], float), "length")
    markdown_only = style_features(np.array([model], float), np.array([baseline], float), "markdown")
    assert length_only[0].tolist() == pytest.approx([-0.5]) and markdown_only[0].tolist() == pytest.approx(got[1:])


def test_features_are_standardised_over_units_with_the_sample_deviation():
    x = np.array([[0.0, 7.0], [1.0, 7.0], [2.0, 7.0]])
    got = standardise(x, np.array([1, 1, 2]))  # units 0, 1, 2, 2
    units = [0.0, 1.0, 2.0, 2.0]
    mean, sd = statistics.mean(units), statistics.stdev(units)
    assert got[:, 0].tolist() == pytest.approx([(v - mean) / sd for v in (0.0, 1.0, 2.0)])
    assert got[:, 1].tolist() == [0.0, 0.0, 0.0]  # a constant feature


def test_unit_bootstrap_resamples_within_each_model():
    # model 0 always won; model 1 has 4 units 0, 0, 1, 1 (a strong-verdict row counts twice here); model 2 none
    model, score, count = [0, 0, 1, 1], [1.0, 1.0, 0.0, 1.0], [2, 1, 2, 2]
    means = bootstrap_unit_means(model, score, count, 3, 400, np.random.default_rng(0))
    assert (means[:, 0] == 1.0).all() and np.isnan(means[:, 2]).all()
    assert set(np.round(means[:, 1] * 4).tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}  # 4 units drawn per round
    assert means[:, 1].mean() == pytest.approx(0.5, abs=0.05) and means[:, 1].std() > 0.1
    again = bootstrap_unit_means(model, score, count, 3, 400, np.random.default_rng(0))
    assert np.array_equal(means, again, equal_nan=True)


def test_question_bootstrap_moves_whole_questions():
    # one model, question 0: three units all won; question 1: one unit lost
    means = bootstrap_question_means([0, 0], [0, 1], [1.0, 0.0], [3, 1], 1, 300, np.random.default_rng(1))
    # two questions drawn per round: both q0 (1), one of each (3 of 4 units won), both q1 (0)
    assert set(means[:, 0].tolist()) == {0.0, 0.75, 1.0}


def test_poisson_rounds_vary_in_size_but_not_in_expectation():
    model, score, count = [0, 0], [1.0, 0.0], [30, 10]
    means = bootstrap_unit_means(model, score, count, 1, 500, np.random.default_rng(2), poisson=True)
    assert means[:, 0].mean() == pytest.approx(0.75, abs=0.02)
    # a fixed-size round of 40 units could only give multiples of 1/40
    assert any(abs(m * 40 - round(m * 40)) > 1e-9 for m in means[:, 0])
