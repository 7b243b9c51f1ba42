"""compute_leaderboard (v0.1) and compute_v2_leaderboard on battles small enough to count by hand.

Each expected number is worked out in the comments from the battles listed
beside it: win rates as shares of battles won (a tie counts half), ratings
as 1000 + 400 * log10 of the odds.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from utils.ranking.battles import Battles, OutcomeRows
from utils.ranking.categories import CategoryIndex
from utils.ranking.methods import method_named
from utils.ranking.methods.v01 import compute_leaderboard
from utils.ranking.methods.v2 import compute_v2_leaderboard
from utils.ranking.settings import RunSettings
from utils.vocabulary.verdicts import TIE, WINNER_A, WINNER_B

BASE_WINS, MODEL_WINS = WINNER_A, WINNER_B  # the baseline is model_a in every battle

# The baseline "base" against "m" on four questions, both games each; a strong verdict counts 3 times.
#   q0: m wins strongly (3), m wins (1)      q1: tie (1), base wins (1)
#   q2: base wins strongly (3), tie (1)      q3: m wins (1), m wins (1)
# m: 3 + 1 + 1 + 1 = 6 won, base: 1 + 3 = 4 won, 2 ties: m's share (6 + 2 / 2) / 12 = 7 / 12.
M_BATTLES = [("m", MODEL_WINS, "q0", 3), ("m", MODEL_WINS, "q0", 1), ("m", TIE, "q1", 1), ("m", BASE_WINS, "q1", 1),
             ("m", BASE_WINS, "q2", 3), ("m", TIE, "q2", 1), ("m", MODEL_WINS, "q3", 1), ("m", MODEL_WINS, "q3", 1)]
M_SHARE = 7 / 12


def battles(rows, judged: dict[str, int] | None = None) -> Battles:
    """Battles of the baseline "base" (model_a) against the model of each row: (model, winner, question, count)."""
    models = ["base", *dict.fromkeys(r[0] for r in rows)]
    questions = list(dict.fromkeys(r[2] for r in rows))
    column = lambda values: np.array(values, np.int64)  # noqa: E731
    return Battles(models, questions, column([0] * len(rows)), column([models.index(r[0]) for r in rows]),
                   column([r[1] for r in rows]), column([questions.index(r[2]) for r in rows]),
                   column([r[3] for r in rows]), ["hand-made"], judged or {})


def test_two_models_score_the_share_of_battles_won_with_ties_halved():
    board = compute_leaderboard(battles(M_BATTLES), RunSettings(baseline="base", rounds=20))
    m, base = board.row("m"), board.row("base")
    assert m.score == pytest.approx(100 * M_SHARE, abs=1e-6)  # 58.33%
    assert m.rating == pytest.approx(1000 + 400 * math.log10(7 / 5), abs=1e-4)  # odds 7/12 : 5/12
    assert (base.score, base.rating, base.is_baseline) == (50.0, 1000.0, True)
    assert (m.battles, base.battles, board.battles) == (12, 12, 12)
    assert [r.model for r in board.rows] == ["m", "base"]  # best first


def test_models_each_compared_with_the_baseline_are_scored_apart_and_flagged():
    # "sweep" wins both its battles, on q0 and q1: no finite share, a finite (flagged) score above m's.
    # "silent" had 3 judgment records, none with a verdict: a row of its own, last, without numbers.
    rows = [*M_BATTLES, ("sweep", MODEL_WINS, "q0", 1), ("sweep", MODEL_WINS, "q1", 1)]
    board = compute_leaderboard(battles(rows, judged={"m": 4, "sweep": 2, "silent": 3}),
                                RunSettings(baseline="base", rounds=20), question_ids=["q0", "q1", "q2", "q3", "q4"])
    assert [r.model for r in board.rows] == ["sweep", "m", "base", "silent"]
    m, sweep, base, silent = (board.row(name) for name in ("m", "sweep", "base", "silent"))
    # only the baseline links m and sweep, and it is fixed: m's score is its share against the baseline alone
    assert m.score == pytest.approx(100 * M_SHARE, abs=1e-6)
    assert 99 < sweep.score < 100 and math.isfinite(sweep.rating)
    unreliable = sweep.flags[-1]  # its bootstrap rounds that hold it hold its wins only, too
    assert unreliable.startswith("unreliable: wins or loses every counted battle; ")
    assert "bootstrap samples hold one outcome only" in unreliable and unreliable.endswith("; only 2 judged questions")
    # coverage out of the five questions of the benchmark: q4 has no battle at all
    assert (m.covered, m.questions, sweep.covered) == (4, 5, 2)
    assert board.missing_questions == {"m": ["q4"], "sweep": ["q2", "q3", "q4"]}
    assert m.flags == ("incomplete-coverage", "unreliable: only 4 judged questions")
    assert (base.battles, base.flags) == (12 + 2, ())
    assert silent.no_verdicts and math.isnan(silent.score) and silent.battles == 0
    assert silent.flags == ("no verdicts: every verdict of its 3 judgment records is missing or unreadable",)


def test_the_bootstrap_interval_holds_the_score_and_the_baseline_has_none():
    settings = RunSettings(baseline="base", rounds=200, seed=3)
    board = compute_leaderboard(battles(M_BATTLES), settings)
    m, base = board.row("m"), board.row("base")
    assert m.lower < m.score < m.upper and m.rating_lower < m.rating < m.rating_upper
    assert len(m.results) == 200 and min(m.results) <= m.lower and m.upper <= max(m.results)
    assert (base.lower, base.upper) == (50.0, 50.0)  # fixed at 50% in every round
    again = compute_leaderboard(battles(M_BATTLES), settings)
    assert again.row("m").results == m.results  # same battles and seed, same rounds


def test_style_control_with_equal_answers_is_the_penalised_share():
    # Every answer has the same features, so the style column is all zero and its coefficient 0. What is left
    # is v0.1's L2 penalty (C = 1) on both ratings: with u = theta_base - theta_m (log10 odds), the penalty
    # is smallest at theta_base = u / 2 = -theta_m, so the loss is
    #     W * softplus(ln10 u) - W_base * ln10 u + u^2 / 4
    # (W: every battle counted twice, W_base: the baseline's wins, a tie half), minimal where
    #     ln10 * (W * sigmoid(ln10 u) - W_base) + u / 2 = 0.
    W, W_base = 2 * 12, 2 * (4 + 2 / 2)
    lo, hi = -5.0, 5.0
    for _ in range(200):  # bisection: the left side grows with u
        mid = (lo + hi) / 2
        if math.log(10) * (W / (1 + math.exp(-math.log(10) * mid)) - W_base) + mid / 2 > 0:
            hi = mid
        else:
            lo = mid
    u = (lo + hi) / 2
    expected = 100 / (1 + 10 ** u)  # m's chance against the baseline
    assert expected != pytest.approx(100 * M_SHARE, abs=0.1)  # the penalty pulls it towards 50%

    same = np.ones((len(M_BATTLES), 4))
    board = compute_leaderboard(battles(M_BATTLES), RunSettings(baseline="base", rounds=20, style="style"),
                                features=(same * [300, 1, 2, 0], same * [300, 1, 2, 0]))
    assert board.row("m").score == pytest.approx(expected, abs=1e-6)
    assert board.style_coefficients == {name: pytest.approx(0, abs=1e-9) for name in board.style_coefficients}
    assert len(board.style_coefficients) == 4


def outcome_rows(rows) -> OutcomeRows:
    """v2 rows of category "hard" from the model's side: (model, question, baseline or None, game shares, counts)."""
    models = list(dict.fromkeys(r[0] for r in rows))
    for r in rows:
        if r[2] and r[2] not in models:
            models.append(r[2])
    questions = list(dict.fromkeys(r[1] for r in rows))
    n = len(rows)
    return OutcomeRows(models, questions, ["hard"], ["judgments.jsonl"], np.array([models.index(r[0]) for r in rows]),
                       np.array([questions.index(r[1]) for r in rows]), np.zeros(n, np.int64),
                       np.array([models.index(r[2]) if r[2] else -1 for r in rows]), np.zeros(n, np.int64),
                       np.array([r[3] for r in rows], float), np.array([r[4] for r in rows], float))


def test_v2_scores_are_weighted_win_rates_of_complete_rows_against_the_category_baseline():
    rows = outcome_rows([
        ("m1", "q0", "base", (1.0, 0.5), (3, 1)),  # a strong win (3 units of 1), a tie (1 unit of 0.5)
        ("m1", "q1", None, (0.0, 1.0), (1, 1)),  # a loss, a win (a 2024 row names no baseline)
        ("m1", "q2", "base", (0.0, 0.0), (0, 0)),  # a game without a label: the row is dropped whole
        ("m1", "q2", "other-base", (1.0, 1.0), (1, 1)),  # judged against another baseline: not counted
        ("m2", "q0", "base", (0.0, 0.0), (3, 1)),  # a strong loss, a loss
    ])
    index = CategoryIndex(["hard"], ["hard"], {}, {"hard": ["q0", "q1", "q2"]}, {})
    settings = replace(method_named("arena-hard-v2").defaults, baseline="base", categories=("hard",), rounds=50)
    board = compute_v2_leaderboard(rows, settings, index, {}, "unused")
    assert [r.model for r in board.rows] == ["m1", "base", "m2"]
    m1, base, m2 = board.rows
    # m1: (3 * 1 + 1 * 0.5 + 1 * 0 + 1 * 1) / (3 + 1 + 1 + 1) = 4.5 / 6 = 75%; m2: 0 of 4 units
    assert m1.score == pytest.approx(75.0, abs=1e-9) and m1.battles == 6
    assert m1.rating == pytest.approx(1000 + 400 * math.log10(0.75 / 0.25), abs=1e-9)
    assert m2.score == 0.0 and m2.battles == 4 and "unreliable: wins or loses every counted game" in m2.flags[-1]
    assert (base.score, base.is_baseline, base.battles) == (50.0, True, 6 + 4)
    assert (board.battles, board.dropped_rows, board.category) == (10, 1, "hard")
    assert board.warnings == ["warning: judgments.jsonl: 1 rows of category 'hard' were judged against "
                              "other-base, not its baseline base: not counted"]
    assert (m1.covered, m1.questions, board.missing_questions["m1"]) == (2, 3, ["q2"])
    assert m1.lower <= m1.score <= m1.upper and len(m1.results) == 50
