"""Bradley-Terry fits over battle kinds with their bootstrap: v0.1's rating and both methods' style control.

The solver and the resampling weights are utils.ranking.rating's; this adds
the loop that fits every bootstrap round in chunks, and the test of a model
whose battles all went one way.
"""
from __future__ import annotations

import numpy as np

from utils.ranking.rating import (BattleKinds, bootstrap_weights, fit_bradley_terry, per_model,
                                  ratings_from_coefficients)
from utils.ranking.settings import RunSettings
from utils.vocabulary.verdicts import TARGET

def one_sided(kinds: BattleKinds, weights: np.ndarray, n_models: int,
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
        total = battles_per_model(kinds, weights, n_models)
    return (wins == 0) | (wins == total)

def battles_per_model(kinds: BattleKinds, weights: np.ndarray, n_models: int) -> np.ndarray:
    """(R, n_models) weighted battles each model is in."""
    return per_model(kinds.model_a, weights, n_models) + per_model(kinds.model_b, weights, n_models)

def bootstrap_fits(kinds, target, X, fit: dict, theta, settings: RunSettings, M: int, base: int,
               n_questions: int) -> tuple[np.ndarray, np.ndarray]:
    """(rounds, M) bootstrap ratings (NaN where a model is absent) and, per model, the rounds with one outcome.

    Rounds are weight vectors over the battle kinds, solved together in chunks
    that keep the (kinds x rounds) arrays around 8 million numbers (64 MB); each chunk
    starts from the full-data solution, a few Newton steps away.
    """
    if settings.rounds == 0:  # a table whose scores alone are wanted (each judge's own, for judge agreement)
        return np.zeros((0, M)), np.zeros(M, int)
    rng = np.random.default_rng(settings.seed)
    chunk = max(1, min(settings.rounds, int(2 ** 23 // max(1, len(kinds)))))
    parts, one_sided_rounds = [], np.zeros(M, int)
    for start in range(0, settings.rounds, chunk):
        r = min(chunk, settings.rounds - start)
        W = bootstrap_weights(kinds, r, rng, settings.bootstrap_unit, settings.poisson, n_questions=n_questions)
        th = fit_bradley_terry(kinds.model_a, kinds.model_b, target, 2.0 * W, M, X, init=theta, **fit)
        ratings = ratings_from_coefficients(th, M, base)
        # a model missing from a sample has no rating in it (NaN, skipped by the percentiles)
        total = battles_per_model(kinds, W, M)
        absent = total == 0
        ratings[absent] = np.nan
        one_sided_rounds += (one_sided(kinds, W, M, total) & ~absent).sum(0)
        parts.append(ratings)
    return np.vstack(parts), one_sided_rounds
