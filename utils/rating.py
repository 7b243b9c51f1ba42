"""The rating math: Bradley-Terry fits, style control, bootstrap weights, intervals.

Pure functions on numpy arrays, no I/O, so every piece can be checked against
hand-computed cases and timed alone. The numbers follow DESIGN.md ("the rating
math"), which is what Arena-Hard v0.1 computes:

* every battle enters the logistic regression twice; a tie once as a win for
  A and once as a win for B. Here that is one row per *kind* of battle with a
  target share t (1 = A won, 0 = B won, 0.5 = tie) and a weight of twice its
  count, which gives the same likelihood;
* the plain fit is unpenalised; the style-controlled fit carries scikit-learn's
  default L2 penalty (C = 1.0) on every coefficient, as v0.1 did;
* a bootstrap round is a vector of weights over the same rows (multinomial
  counts, or Poisson), so all rounds are solved together by one vectorised
  Newton iteration instead of refitting a resampled table a hundred times.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

LN10 = math.log(10.0)
SCALE = 400.0  # Elo points per factor of 10 in the odds
INIT_RATING = 1000.0  # the baseline's rating

# An unpenalised fit has no finite optimum when a model wins (or loses) every
# battle it is in. This ridge is far too small to move any ordinary estimate
# (counts are in the hundreds) but keeps such fits finite; the caller flags them.
TINY_RIDGE = 1e-6

# Newton steps no longer than this (in log10-odds units) are taken without a
# line search: the logistic loss is smooth enough that they cannot overshoot
# in a way that matters, and skipping the loss evaluations halves the cost.
SAFE_STEP = 0.5

# The style features of v0.1, in its order and with its names (the ``_a`` side
# is the baseline's answer; a positive coefficient means the longer/more
# formatted answer is preferred).
STYLE_FEATURES = {
    "style": ("sum_assistant_a_tokens", "header_count_a", "list_count_a", "bold_count_a"),
    "length": ("sum_assistant_a_tokens",),
    "markdown": ("header_count_a", "list_count_a", "bold_count_a"),
}
FEATURE_COLUMNS = {"sum_assistant_a_tokens": 0, "header_count_a": 1, "list_count_a": 2, "bold_count_a": 3}

WINNER_A, WINNER_B, TIE = 0, 1, 2
TARGET = np.array([1.0, 0.0, 0.5])  # A's share of the win, by winner code


# ---------------------------------------------------------------- battle kinds


@dataclass
class BattleKinds:
    """Distinct battles with how often each occurred: the rows every fit runs on.

    ``count`` is the number of counted battles of this kind (a strong verdict
    counts ``weight`` times); ``question`` is -1 when the kinds were merged over
    questions (plain fit, battle-unit bootstrap), which keeps the plain
    problem at about three rows per model pair.
    """
    model_a: np.ndarray  # int, index into the model list
    model_b: np.ndarray
    winner: np.ndarray  # WINNER_A / WINNER_B / TIE
    question: np.ndarray  # int question index, or -1
    count: np.ndarray  # float, battles of this kind

    def __len__(self) -> int:
        return len(self.count)


def group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical rows of a 2-D key array: (index of each group's first row, group of every row).

    A lexsort over the columns; much faster than ``np.unique(axis=0)``, which
    sorts the rows as opaque byte strings.
    """
    keys = np.asarray(keys)
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    starts = np.ones(n, bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group_sorted = np.cumsum(starts) - 1
    group = np.empty(n, np.int64)
    group[order] = group_sorted
    return order[starts], group


def battle_kinds(model_a, model_b, winner, question, count, by_question: bool) -> BattleKinds:
    """Merge identical battles; keep the question apart only when ``by_question``."""
    model_a, model_b = np.asarray(model_a, np.int64), np.asarray(model_b, np.int64)
    winner, count = np.asarray(winner, np.int64), np.asarray(count, np.float64)
    question = np.asarray(question, np.int64) if by_question else np.full(len(model_a), -1, np.int64)
    first, group = group_rows(np.stack([model_a, model_b, question, winner], axis=1))
    total = np.bincount(group, weights=count, minlength=len(first))
    return BattleKinds(model_a[first], model_b[first], winner[first], question[first], total)


# ---------------------------------------------------------------- style features


def style_matrix(features_a: np.ndarray, features_b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Normalised, standardised feature differences, one row per battle kind.

    ``features_a``/``features_b`` hold raw counts (token length, headers,
    lists, bold) of the baseline's and the model's answers. The difference is
    (a - b) / (a + b + 1), then centred and scaled to unit (population)
    standard deviation over all counted battles, i.e. weighted by ``weights``.
    A feature that never varies gets 0 instead of 0/0.
    """
    fa, fb = np.asarray(features_a, float), np.asarray(features_b, float)
    diff = (fa - fb) / (fa + fb + 1.0)
    w = np.asarray(weights, float)[:, None]
    mean = (w * diff).sum(0) / w.sum()
    std = np.sqrt((w * (diff - mean) ** 2).sum(0) / w.sum())
    return np.divide(diff - mean, std, out=np.zeros_like(diff), where=std > 0)


# ---------------------------------------------------------------- Bradley-Terry


def fit_bradley_terry(model_a, model_b, target, weights, n_models: int, features=None, l2: float = 0.0,
                      fixed: int | None = None, init: np.ndarray | None = None, tol: float = 1e-10,
                      max_iter: int = 200) -> np.ndarray:
    """Maximum-likelihood Bradley-Terry coefficients for one or many weightings at once.

    Rows are battle kinds: ``model_a``/``model_b`` model indices, ``target``
    A's share of the win (0, 0.5 or 1), ``features`` an optional (n, k) matrix
    of style covariates. ``weights`` is (n,) or (n, R): R weightings of the same
    rows (the bootstrap rounds) solved together. The loss per weighting is

        sum_j w_j * [log(1 + e^eta_j) - t_j * eta_j] + l2/2 * |theta|^2,
        eta_j = ln(10) * (theta[a_j] - theta[b_j]) + features_j . beta

    (l2 = 1/C of scikit-learn). Coefficient ``fixed`` is held at 0; use it for
    the unpenalised fit, whose ratings are only defined up to a shift. ``init``
    (d,) starts every weighting from a known solution, e.g. the full-data fit
    for the bootstrap rounds. Damped Newton steps; the Hessian is assembled from
    per-pair sums so its cost grows with the number of model pairs, not with
    the number of rows times models squared. Returns theta with shape
    (R, n_models + k) (or (n_models + k,) for a single weighting).
    """
    a, b = np.asarray(model_a, np.int64), np.asarray(model_b, np.int64)
    W = np.asarray(weights, float)
    single = W.ndim == 1
    if single:
        W = W[:, None]
    n, R = W.shape
    F = np.zeros((n, 0)) if features is None else np.asarray(features, float).reshape(n, -1)
    k, M = F.shape[1], n_models
    d = M + k

    # Rows that differ only in the outcome share their linear predictor, so the
    # loss needs per group only the total weight and the weight A won:
    # sum_j w_j [softplus(eta) - t_j eta] = w softplus(eta) - (sum_j w_j t_j) eta.
    first, group_of_row = group_rows(np.column_stack([a, b, F]))
    to_group = sp.csr_matrix((np.ones(n), (group_of_row, np.arange(n))), shape=(len(first), n))
    Wg = np.asarray(to_group @ W)
    Wt = np.asarray(to_group @ (W * np.asarray(target, float)[:, None]))
    a, b, F = a[first], b[first], F[first]
    n = len(first)

    # D: the model part of the design matrix, +ln10 for A and -ln10 for B, sparse.
    rows = np.concatenate([np.arange(n), np.arange(n)])
    D = sp.csr_matrix((np.concatenate([np.full(n, LN10), np.full(n, -LN10)]), (rows, np.concatenate([a, b]))),
                      shape=(n, M))
    Dt = D.T.tocsr()
    # which model pair each group belongs to, for the model-model block of the Hessian
    pairs, pair_of_row = np.unique(np.stack([a, b], 1), axis=0, return_inverse=True)
    Gt = sp.csr_matrix((np.ones(n), (pair_of_row.ravel(), np.arange(n))), shape=(len(pairs), n))
    pa, pb = pairs[:, 0], pairs[:, 1]
    FF = (F[:, :, None] * F[:, None, :]).reshape(n, k * k)
    free = np.ones(d, bool)
    if fixed is not None:
        free[fixed] = False
    ridge = np.where(free, l2, 0.0)

    def linear(theta):  # theta (R, d) -> eta (n, R)
        return np.asarray(D @ theta[:, :M].T) + F @ theta[:, M:].T

    def loss(theta, eta):
        return (Wg * np.logaddexp(0.0, eta) - Wt * eta).sum(0) + 0.5 * (ridge * theta ** 2).sum(1)

    theta = np.zeros((R, d)) if init is None else np.tile(np.asarray(init, float), (R, 1))
    eta = linear(theta)
    idx = np.flatnonzero(free)
    for _ in range(max_iter):
        p = expit(eta)
        r = Wg * p - Wt
        s = Wg * p * (1.0 - p)
        grad = np.empty((R, d))
        grad[:, :M] = np.asarray(Dt @ r).T
        grad[:, M:] = (F.T @ r).T
        grad += ridge * theta
        H = np.zeros((R, d, d))
        S = np.asarray(Gt @ s).T * LN10 ** 2  # (R, pairs)
        np.add.at(H, (slice(None), pa, pa), S)
        np.add.at(H, (slice(None), pb, pb), S)
        np.add.at(H, (slice(None), pa, pb), -S)
        np.add.at(H, (slice(None), pb, pa), -S)
        for f in range(k):
            cross = np.asarray(Dt @ (s * F[:, f:f + 1])).T  # (R, M)
            H[:, :M, M + f] = cross
            H[:, M + f, :M] = cross
        if k:
            H[:, M:, M:] = (FF.T @ s).T.reshape(R, k, k)
        H[:, np.arange(d), np.arange(d)] += ridge
        Hf = H[:, idx[:, None], idx[None, :]]
        # a model absent from a round has an all-zero row: pin it rather than fail
        empty = np.abs(Hf).sum(2) == 0
        Hf[empty.nonzero()[0], empty.nonzero()[1], empty.nonzero()[1]] = 1.0
        step = np.zeros((R, d))
        step[:, idx] = np.linalg.solve(Hf, grad[:, idx][..., None])[..., 0]
        new_theta = theta - step
        new_eta = linear(new_theta)
        moved = np.abs(step).max()
        if moved <= SAFE_STEP:  # near the optimum a full Newton step is safe: skip the loss evaluations
            theta, eta = new_theta, new_eta
            if moved < tol:
                break
            continue
        # a long step may overshoot: halve it wherever it would not lower the loss
        current = loss(theta, eta)
        scale = np.ones(R)
        new_loss = loss(new_theta, new_eta)
        for _ in range(30):
            worse = new_loss > current + 1e-12 * np.abs(current)
            if not worse.any():
                break
            scale[worse] *= 0.5
            new_theta = theta - scale[:, None] * step
            new_eta = linear(new_theta)
            new_loss = loss(new_theta, new_eta)
        theta, eta = new_theta, new_eta
    return theta[0] if single else theta


def per_model(model_index, values: np.ndarray, n_models: int) -> np.ndarray:
    """Sums of ``values`` (n, R) over the rows of each model: (R, n_models)."""
    n = len(model_index)
    onehot = sp.csr_matrix((np.ones(n), (np.asarray(model_index), np.arange(n))), shape=(n_models, n))
    return np.asarray(onehot @ values).T


def ratings_from_coefficients(theta: np.ndarray, n_models: int, baseline: int) -> np.ndarray:
    """Elo-scale ratings (400 per factor 10 in odds) with the baseline at 1000."""
    w = theta[..., :n_models]
    return SCALE * (w - w[..., baseline:baseline + 1]) + INIT_RATING


def win_rate(rating, baseline_rating=INIT_RATING):
    """Chance to beat the baseline, 1 / (1 + 10^((R_baseline - R) / 400))."""
    return 1.0 / (1.0 + 10.0 ** ((np.asarray(baseline_rating, float) - np.asarray(rating, float)) / SCALE))


def rating_from_win_rate(p, baseline_rating=INIT_RATING):
    """Inverse of ``win_rate`` (p in (0, 1))."""
    p = np.asarray(p, float)
    return baseline_rating + SCALE * np.log10(p / (1.0 - p))


# ---------------------------------------------------------------- bootstrap


def bootstrap_weights(kinds: BattleKinds, rounds: int, rng: np.random.Generator, unit: str = "battle",
                      poisson: bool = False, n_questions: int | None = None) -> np.ndarray:
    """(n, rounds) resampling weights over battle kinds (counts of battles per kind).

    unit "battle": every counted battle is resampled on its own (what the
    original does: a strong verdict's three rows are three independent draws),
    so a kind's count is multinomial over all battles. unit "question": whole
    questions are drawn with replacement and carry all their battles (every
    model, both games, all repeated rows), which respects that battles on one
    question are correlated. ``poisson`` replaces the multinomial draw by
    independent Poisson(1) multiplicities.
    """
    count = kinds.count
    if unit == "battle":
        if poisson:
            return rng.poisson(count[None, :], size=(rounds, len(count))).T.astype(float)
        total = int(round(count.sum()))
        if 10 * len(count) < total or not np.all(count == np.round(count)):
            # few kinds (the plain fit: about three per model): one multinomial per round
            return rng.multinomial(total, count / count.sum(), size=rounds).T.astype(float)
        # many kinds (kept apart by question): drawing the battles themselves and
        # counting them per kind is faster than a multinomial over every kind
        owner = np.repeat(np.arange(len(count), dtype=np.int64), count.astype(np.int64))
        out = np.empty((len(count), rounds))
        step = max(1, int(4e6 // total))  # bounded memory for the draws
        for start in range(0, rounds, step):
            r = min(step, rounds - start)
            drawn = owner[rng.integers(0, total, size=(r, total), dtype=np.int32)]
            drawn += np.arange(r)[:, None] * len(count)
            out[:, start:start + r] = np.bincount(drawn.ravel(), minlength=r * len(count)).reshape(r, -1).T
        return out
    if unit != "question":
        raise ValueError(f"unknown bootstrap unit {unit!r}")
    if (kinds.question < 0).any():
        raise ValueError("question-unit bootstrap needs battle kinds kept apart by question")
    nq = int(n_questions if n_questions is not None else kinds.question.max() + 1)
    present = np.unique(kinds.question)  # draw among questions that have battles
    if poisson:
        drawn = rng.poisson(1.0, size=(rounds, len(present)))
    else:
        drawn = rng.multinomial(len(present), np.full(len(present), 1.0 / len(present)), size=rounds)
    per_question = np.zeros((rounds, nq))
    per_question[:, present] = drawn
    return (per_question[:, kinds.question] * count[None, :]).T


def percentile_interval(samples: np.ndarray, confidence: float = 95.0) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over axis 0, ignoring rounds that are NaN."""
    tail = (100.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN; the caller flags it
        return np.nanpercentile(samples, tail, axis=0), np.nanpercentile(samples, 100.0 - tail, axis=0)
