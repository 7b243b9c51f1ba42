"""Bradley-Terry fits over battle kinds with their bootstrap: v0.1's rating and both methods' style control.

The solver and the resampling weights are utils.ranking.rating's; this adds
the loop that fits every bootstrap round in chunks, and the test of a model
whose battles all went one way.
"""
from __future__ import annotations

import numpy as np

from utils.ranking.rating import (BattleKinds, FitLayout, bootstrap_weights, ratings_from_coefficients,
                                  solve_bradley_terry)
from utils.ranking.settings import RunSettings
from utils.vocabulary.verdicts import TARGET


def gained_and_lost(kinds: BattleKinds, weights: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """(R, n_models) twice: each model's weighted battles won and those lost (a tie counts half in each), for
    each weighting in the columns of ``weights`` (kinds, R).

    Sums over each model pair's run of kinds first, by one small product per
    pair, so no array of ``weights``' size is made (a bootstrap chunk's weights
    are tens of megabytes).
    """
    share = np.take(TARGET, kinds.winner)
    a, b = np.asarray(kinds.model_a, np.int64), np.asarray(kinds.model_b, np.int64)
    pair = a * n_models + b
    if len(pair) and (pair[1:] < pair[:-1]).any():  # battle_kinds' rows come sorted; any others are sorted here
        order = np.argsort(pair, kind="stable")
        share, a, b, pair, weights = share[order], a[order], b[order], pair[order], weights[order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(pair)]
    sides = np.stack([share, 1.0 - share])  # A's share of each kind, B's
    per_pair = np.stack([sides[:, lo:hi] @ weights[lo:hi] for lo, hi in zip(starts.tolist(), ends.tolist())]) \
        if len(starts) else np.zeros((0, 2, weights.shape[1]))  # (pairs, 2, R): what A won, what B won
    gained, lost = np.zeros((n_models, weights.shape[1])), np.zeros((n_models, weights.shape[1]))
    for side, models in ((0, a[starts]), (1, b[starts])):
        np.add.at(gained, models, per_pair[:, side])
        np.add.at(lost, models, per_pair[:, 1 - side])
    return gained.T, lost.T


def one_sided(kinds: BattleKinds, weights: np.ndarray, n_models: int) -> np.ndarray:
    """(R, n_models) True where a model's weighted battles all went one way (or it had none).

    Such a sample has no finite maximum-likelihood rating: the unpenalised fit
    ends at the tiny ridge's bound, which is why the model gets flagged.
    """
    return went_one_way(*gained_and_lost(kinds, weights, n_models))


def went_one_way(gained: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """Where a model won nothing or lost nothing (``gained_and_lost``'s sums; also where it had no battle)."""
    return (gained == 0) | (lost == 0)


def fit_kinds(kinds: BattleKinds, layout: FitLayout) -> np.ndarray:
    """The full-data fit of the battle kinds ``layout`` was built on: every battle enters twice
    (utils.ranking.rating)."""
    return solve_bradley_terry(layout, 2.0 * kinds.count)


def bootstrap_fits(kinds: BattleKinds, layout: FitLayout, theta, settings: RunSettings, M: int, base: int,
                   n_questions: int) -> tuple[np.ndarray, np.ndarray]:
    """(rounds, M) bootstrap ratings (NaN where a model is absent) and, per model, the rounds with one outcome.

    Rounds are weight vectors over the battle kinds, solved on the full-data
    fit's ``layout`` in chunks that keep the (kinds x rounds) arrays around 8
    million numbers (64 MB); each chunk starts from the full-data solution
    ``theta``, a few Newton steps away.
    """
    if settings.rounds == 0:  # a table whose scores alone are wanted (each judge's own, for judge agreement)
        return np.zeros((0, M)), np.zeros(M, int)
    rng = np.random.default_rng(settings.seed)
    chunk = max(1, min(settings.rounds, int(2 ** 23 // max(1, len(kinds)))))
    parts, one_sided_rounds = [], np.zeros(M, int)
    for start in range(0, settings.rounds, chunk):
        r = min(chunk, settings.rounds - start)
        W = bootstrap_weights(kinds, r, rng, settings.bootstrap_unit, settings.poisson, n_questions=n_questions)
        W *= 2.0  # every battle enters twice; in place, since W is large (what is counted below does not scale)
        th = solve_bradley_terry(layout, W, init=theta)
        ratings = ratings_from_coefficients(th, M, base)
        # a model missing from a sample has no rating in it (NaN, skipped by the percentiles)
        gained, lost = gained_and_lost(kinds, W, M)
        absent = (gained == 0) & (lost == 0)
        ratings[absent] = np.nan
        one_sided_rounds += (went_one_way(gained, lost) & ~absent).sum(0)
        parts.append(ratings)
    return np.vstack(parts), one_sided_rounds
