"""The rating math of Arena-Hard v2.0: weighted win rates, a per-model bootstrap, v2's style features.

Pure functions on numpy arrays (docs/design.md#rating-v2). An
*outcome unit* is one counted game from the model's side: s = 1 for a win,
0.5 for a tie, 0 for a loss, with a count (a strong verdict counts ``weight``
times, which is ``weight`` units). Unlike v0.1 nothing is fitted for the plain
score: it is the model's weighted win rate against its category's baseline.
The style-controlled fit is utils.ranking.rating's Bradley-Terry solver, run with
these features and no penalty (see utils.ranking.leaderboard).
"""
from __future__ import annotations

import numpy as np

from utils.vocabulary.verdicts import UNIT_SCORES

# v2's style features, in its order; which of them each control uses
V2_FEATURES = ("length", "header_density", "list_density", "bold_density")
V2_CONTROLS = {"style": V2_FEATURES, "length": ("length",), "markdown": V2_FEATURES[1:]}

# bootstrap draws of about this many numbers at once (64 MB of int64)
CHUNK_NUMBERS = 2 ** 23


def weighted_win_rates(model, score, count, n_models: int) -> np.ndarray:
    """Per model, sum(count * s) / sum(count) over its units (NaN for a model without units)."""
    model = np.asarray(model, np.int64)
    count = np.asarray(count, float)
    won = np.bincount(model, weights=count * np.asarray(score, float), minlength=n_models)
    total = np.bincount(model, weights=count, minlength=n_models)
    with np.errstate(invalid="ignore", divide="ignore"):
        return won / total


def _kind_counts(model, score, count, n_models: int) -> np.ndarray:
    """(n_models, 3) units per model that scored 0, 0.5 and 1."""
    kind = np.searchsorted(UNIT_SCORES, np.asarray(score, float))
    if not np.array_equal(np.take(UNIT_SCORES, np.minimum(kind, 2)), score):
        raise ValueError("outcome scores must be 0, 0.5 or 1")
    flat = np.asarray(model, np.int64) * 3 + kind
    return np.bincount(flat, weights=np.asarray(count, float), minlength=3 * n_models).reshape(n_models, 3)


def bootstrap_unit_means(model, score, count, n_models: int, rounds: int, rng: np.random.Generator,
                         poisson: bool = False) -> np.ndarray:
    """(rounds, n_models) means of each model's units resampled with replacement, within the model.

    A round draws as many units as the model has (a multinomial over its
    three kinds of unit, 0 / 0.5 / 1), or Poisson(1) copies of every unit;
    the round's value is the mean of the drawn units. NaN where a model has
    no units (or, with Poisson, drew none).
    """
    kinds = _kind_counts(model, score, count, n_models)
    if not np.allclose(kinds, np.round(kinds)):
        raise ValueError("unit counts must be whole numbers")
    kinds = np.round(kinds).astype(np.int64)
    total = kinds.sum(1)
    has = total > 0
    out = np.full((rounds, n_models), np.nan)
    if not has.any():
        return out
    if poisson:
        drawn = rng.poisson(kinds[has], size=(rounds, int(has.sum()), 3))
    else:
        drawn = rng.multinomial(total[has], kinds[has] / total[has, None], size=(rounds, int(has.sum())))
    n = drawn.sum(2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, has] = (drawn @ np.array(UNIT_SCORES)) / n
    return out


def bootstrap_question_means(model, question, score, count, n_models: int, rounds: int,
                             rng: np.random.Generator, poisson: bool = False) -> np.ndarray:
    """(rounds, n_models) like ``bootstrap_unit_means``, but resampling each model's questions.

    A round draws as many of the model's questions as it has, with
    replacement, and every drawn question brings all its units (both games,
    every judge); the round's value is the weighted mean over the drawn units.
    """
    model, question = np.asarray(model, np.int64), np.asarray(question, np.int64)
    count = np.asarray(count, float)
    # per (model, question): its won units and all its units, one padded row per model
    pairs, pair_of_unit = np.unique(np.stack([model, question], 1), axis=0, return_inverse=True)
    pair_of_unit = pair_of_unit.reshape(-1)
    won = np.bincount(pair_of_unit, weights=count * np.asarray(score, float), minlength=len(pairs))
    units = np.bincount(pair_of_unit, weights=count, minlength=len(pairs))
    per_model = np.bincount(pairs[:, 0], minlength=n_models)
    out = np.full((rounds, n_models), np.nan)
    present = np.flatnonzero(per_model)
    if not len(present):
        return out
    width = int(per_model.max())
    slot = np.arange(len(pairs)) - np.searchsorted(pairs[:, 0], pairs[:, 0])  # position within its model
    row = np.searchsorted(present, pairs[:, 0])
    W = np.zeros((len(present), width))
    U = np.zeros((len(present), width))
    W[row, slot], U[row, slot] = won, units
    n_q = per_model[present]
    p = (np.arange(width)[None, :] < n_q[:, None]) / n_q[:, None]
    step = max(1, CHUNK_NUMBERS // max(1, len(present) * width))
    for start in range(0, rounds, step):
        r = min(step, rounds - start)
        if poisson:
            drawn = rng.poisson(1.0, size=(r, len(present), width)) * (p > 0)
        else:
            drawn = rng.multinomial(n_q, p, size=(r, len(present)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + r, present] = (drawn * W).sum(2) / (drawn * U).sum(2)
    return out


def bootstrap_joint_question_means(model, question, score, count, n_models: int, rounds: int,
                                   rng: np.random.Generator, poisson: bool = False) -> np.ndarray:
    """(rounds, n_models) every model's weighted win rate on the same resampled questions.

    A round draws the questions that have units with replacement (as many as
    there are), or Poisson(1) copies of each, and takes each model's weighted
    mean over the units of the drawn questions. Unlike
    ``bootstrap_question_means`` one draw serves every model, so two models'
    values in a round are paired. NaN where a model has no unit on the drawn
    questions.
    """
    present, q = np.unique(np.asarray(question, np.int64), return_inverse=True)
    Q = len(present)
    flat = q.reshape(-1) * n_models + np.asarray(model, np.int64)
    count = np.asarray(count, float)
    won = np.bincount(flat, weights=count * np.asarray(score, float), minlength=Q * n_models).reshape(Q, n_models)
    units = np.bincount(flat, weights=count, minlength=Q * n_models).reshape(Q, n_models)
    out = np.full((rounds, n_models), np.nan)
    if Q == 0:
        return out
    step = max(1, CHUNK_NUMBERS // Q)
    for start in range(0, rounds, step):
        r = min(step, rounds - start)
        if poisson:
            drawn = rng.poisson(1.0, size=(r, Q)).astype(float)
        else:
            drawn = rng.multinomial(Q, np.full(Q, 1.0 / Q), size=r).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + r] = (drawn @ won) / (drawn @ units)
    return out


def style_features(model_meta: np.ndarray, baseline_meta: np.ndarray, control: str = "style") -> np.ndarray:
    """v2's raw style features of each unit, model minus baseline, for ``control`` in V2_CONTROLS.

    ``*_meta`` are (n, 4) counts: token length, headers, lists, bold. Length:
    (m - b) / (m + b). Markdown: densities d = count / (token_len + 1), then
    (d_m - d_b) / (d_m + d_b + 1).
    """
    m, b = np.asarray(model_meta, float), np.asarray(baseline_meta, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        length = (m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0])
    length = np.where(np.isfinite(length), length, 0.0)  # two empty answers: no difference
    dm, db = m[:, 1:] / (m[:, :1] + 1.0), b[:, 1:] / (b[:, :1] + 1.0)
    columns = dict(zip(V2_FEATURES, [length, *((dm - db) / (dm + db + 1.0)).T]))
    return np.column_stack([columns[name] for name in V2_CONTROLS[control]])


def standardise(features: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Each column centred and divided by its sample standard deviation over the units.

    Row j stands for ``count[j]`` identical units; n - 1 (n = all units) is the
    divisor, as v2 computes it over its exploded table. A constant column
    becomes 0.
    """
    x = np.asarray(features, float)
    w = np.asarray(count, float)[:, None]
    n = w.sum()
    mean = (w * x).sum(0) / n
    std = np.sqrt((w * (x - mean) ** 2).sum(0) / max(n - 1.0, 1.0))
    return np.divide(x - mean, std, out=np.zeros_like(x), where=std > 1e-12 * np.maximum(1.0, np.abs(mean)))
