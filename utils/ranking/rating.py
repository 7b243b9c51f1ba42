"""The rating math: Bradley-Terry fits, style control, bootstrap weights, intervals.

Pure functions on numpy arrays, no I/O, so every piece can be checked against
hand-computed cases and timed alone. The numbers follow docs/design.md#rating-v01,
which is what Arena-Hard v0.1 computes:

* every battle enters the logistic regression twice; a tie once as a win for
  A and once as a win for B. Here that is one row per *kind* of battle with a
  target share t (1 = A won, 0 = B won, 0.5 = tie) and a weight of twice its
  count, which gives the same likelihood;
* the plain fit is unpenalised; the style-controlled fit carries scikit-learn's
  default L2 penalty (C = 1.0) on every coefficient, as v0.1 did;
* a bootstrap round is a vector of weights over the same rows (multinomial
  counts, or Poisson), so rounds are solved together by vectorised Newton
  iterations instead of refitting a resampled table a hundred times: a few
  rounds at a time, so that an iteration's arrays stay in cache, and those
  chunks on as many threads as there are cores. Only numpy is used, which
  keeps start-up short (scipy.sparse alone took half a second to import).
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, replace

import numpy as np

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

# Bootstrap weightings are fitted in chunks of about this many (row x
# weighting) numbers (4 MB), which keeps an iteration's arrays in cache.
CHUNK_ELEMENTS = 2 ** 19
# ... and on several threads once there are at least this many in all
PARALLEL_ELEMENTS = 2 ** 21


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1

# The style features of v0.1, in its order and with its names (the ``_a`` side
# is the baseline's answer; a positive coefficient means the longer/more
# formatted answer is preferred).
STYLE_FEATURES = {
    "style": ("sum_assistant_a_tokens", "header_count_a", "list_count_a", "bold_count_a"),
    "length": ("sum_assistant_a_tokens",),
    "markdown": ("header_count_a", "list_count_a", "bold_count_a"),
}
FEATURE_COLUMNS = {"sum_assistant_a_tokens": 0, "header_count_a": 1, "list_count_a": 2, "bold_count_a": 3}


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
    winner: np.ndarray  # WINNER_A / WINNER_B / TIE (utils.vocabulary.verdicts)
    question: np.ndarray  # int question index, or -1
    count: np.ndarray  # float, battles of this kind

    def __len__(self) -> int:
        return len(self.count)


def sorted_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical rows of a 2-D key array, lexicographically sorted: (the sort order, where each group starts in it).

    A lexsort over the columns (or one sort, for integers); much faster than
    ``np.unique(axis=0)``, which sorts the rows as opaque byte strings. In this order every group, and every
    run of groups with the same leading columns, is contiguous.
    """
    keys = np.asarray(keys)
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.ones(n, bool)
    key = _one_key(keys) if keys.dtype.kind == "i" else None
    if key is not None:  # the same order as the lexsort, by one stable sort
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        starts[1:] = ordered[1:] != ordered[:-1]
    else:
        order, ordered = _lead_order(keys, min(LEADING_KEYS, keys.shape[1]))
        starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return order, np.flatnonzero(starts)


def _lead_order(keys: np.ndarray, lead: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.lexsort``'s order of the rows of ``keys`` (and the rows in it), sorting by the leading columns first.

    Rows that tie on the leading columns are mostly equal in the rest too (a
    style fit's: a model pair's battles on one question), and then already in
    their final order; only the runs of ties that differ further are sorted
    again, by the rest, keeping the input's order among equal rows as the
    lexsort does.
    """
    if lead == keys.shape[1] or np.isnan(keys[:, :lead]).any():  # NaN ties NaN in a sort, but not in a comparison
        order = np.lexsort(keys.T[::-1])
        return order, keys[order]
    order = np.lexsort(keys[:, :lead].T[::-1])
    ordered = keys[order]
    tie = ~(ordered[1:, :lead] != ordered[:-1, :lead]).any(axis=1)  # row i + 1 ties row i on the leading columns
    unsorted = tie & (ordered[1:, lead:] != ordered[:-1, lead:]).any(axis=1)
    if unsorted.any():
        run = np.cumsum(np.r_[True, ~tie])  # each row's run of ties
        where = np.flatnonzero(np.isin(run, run[1:][unsorted]))  # the rows of those runs, run by run
        again = np.lexsort((*ordered[where, lead:].T[::-1], run[where]))
        order[where] = order[where[again]]
        ordered[where] = ordered[where[again]]
    return order, ordered


# sorted_groups orders rows of floats by this many leading columns first (_lead_order)
LEADING_KEYS = 3


def _one_key(keys: np.ndarray) -> np.ndarray | None:
    """Each row of the integer columns of ``keys`` as one number that sorts as the row does lexicographically
    (a number in mixed radix, each column's range a digit), or None when such numbers could overflow."""
    low, high = keys.min(0).tolist(), keys.max(0).tolist()
    if math.prod(h - lo + 1 for lo, h in zip(low, high)) >= 2 ** 62:
        return None
    key = np.zeros(len(keys), np.int64)
    for column, lo, h in zip(keys.T, low, high):
        key *= h - lo + 1
        key += column
        key -= lo
    return key


def group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical rows of a 2-D key array: (index of each group's first row, group of every row)."""
    order, starts = sorted_groups(keys)
    group_sorted = np.zeros(len(order), np.int64)
    group_sorted[starts[1:]] = 1
    group = np.empty(len(order), np.int64)
    group[order] = np.cumsum(group_sorted)
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
    for the bootstrap rounds. Returns theta with shape (R, n_models + k) (or
    (n_models + k,) for a single weighting). The same problem solved for
    other weightings later: ``FitLayout.build`` once, then ``solve_bradley_terry``.
    """
    layout = FitLayout.build(model_a, model_b, target, n_models, features, l2, fixed)
    return solve_bradley_terry(layout, weights, init, tol, max_iter)


def solve_bradley_terry(layout: "FitLayout", weights, init: np.ndarray | None = None, tol: float = 1e-10,
                        max_iter: int = 200) -> np.ndarray:
    """``fit_bradley_terry`` on rows already arranged: damped Newton steps (``_newton_step``), chunks of
    weightings solved by ``_solve_weightings``."""
    W = np.asarray(weights, float)
    single = W.ndim == 1
    if single:
        W = W[:, None]
    if len(W) != len(layout.group):
        raise ValueError(f"{len(W)} weights for {len(layout.group)} rows")
    start = np.zeros(layout.d) if init is None else np.asarray(init, float).reshape(layout.d)
    if layout.n == 0:
        theta = np.tile(start, (W.shape[1], 1))
    else:
        theta = _solve_weightings(layout.starting_at(start), W, tol, max_iter)
    return theta[0] if single else theta


@dataclass
class FitLayout:
    """A Bradley-Terry problem's rows arranged once, for every weighting and iteration.

    Rows that differ only in the outcome share their linear predictor, so the
    loss needs per group only the total weight and the weight A won:
    sum_j w_j [softplus(eta) - t_j eta] = w softplus(eta) - (sum_j w_j t_j) eta.
    The groups come sorted by (a, b, features), so each model pair's groups
    are one run of rows (``pair_rows``).
    """
    n_models: int
    group: np.ndarray  # (input rows,) the group of each input row
    target: np.ndarray  # (input rows,) A's share of each input row
    pa: np.ndarray  # (pairs,) model A of each pair run
    pb: np.ndarray  # (pairs,) model B
    pair_start: np.ndarray  # (pairs,) first group of each run
    pair_rows: list[slice]  # each run's groups
    group_pair: np.ndarray  # (groups,) the pair run of each group
    F: np.ndarray  # (groups, k) features of each group
    FT: np.ndarray  # F transposed, contiguous
    FF: np.ndarray  # (groups, k * k) products of every two features
    G: np.ndarray  # (groups, 1 + k): a column of ones, then F
    per_pair_products: bool  # model-feature Hessian block by one matrix product per pair (else a reduceat)
    fixed: int | None  # the coefficient held at 0
    free: np.ndarray  # (d,) indices of the coefficients that move
    ridge: np.ndarray  # (d,) l2 on every coefficient that moves, 0 on the fixed one
    start_theta: np.ndarray  # (d,) where every weighting starts (``starting_at``)
    eta0: np.ndarray  # (1, groups) the linear predictor at start_theta

    @classmethod
    def build(cls, model_a, model_b, target, n_models: int, features=None, l2: float = 0.0,
              fixed: int | None = None) -> "FitLayout":
        """The rows of one problem (``fit_bradley_terry``'s arguments), starting at theta = 0."""
        a, b = np.asarray(model_a, np.int64), np.asarray(model_b, np.int64)
        F = np.zeros((len(a), 0)) if features is None else np.asarray(features, float).reshape(len(a), -1)
        k = F.shape[1]
        d = n_models + k
        first, group = group_rows(np.column_stack([a, b, F]))  # group: each input row's group, in sorted order
        a, b, F = a[first], b[first], F[first]
        n = len(first)
        new_pair = np.ones(n, bool)
        new_pair[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        pair_start = np.flatnonzero(new_pair)
        pair_size = np.diff(np.append(pair_start, n))
        pair_rows = [slice(lo, lo + size) for lo, size in zip(pair_start.tolist(), pair_size.tolist())]
        # with features, per-pair sums of s * F (the model-feature block of the
        # Hessian) are one small matrix product per pair when pairs have many rows
        # (arena-hard: one pair per model, a row per question), else a reduceat per feature
        per_pair_products = k > 0 and len(pair_start) * 64 <= n
        free = np.ones(d, bool)
        if fixed is not None:
            free[fixed] = False
        return cls(n_models, group, np.asarray(target, float), a[pair_start], b[pair_start], pair_start, pair_rows,
                   np.repeat(np.arange(len(pair_start)), pair_size), F, np.ascontiguousarray(F.T),
                   (F[:, :, None] * F[:, None, :]).reshape(n, k * k), np.column_stack([np.ones(n), F]),
                   per_pair_products, fixed, np.flatnonzero(free), np.where(free, l2, 0.0), np.zeros(d),
                   np.zeros((1, n)))

    def starting_at(self, theta: np.ndarray) -> "FitLayout":
        """The same rows, every weighting starting from ``theta`` (d,)."""
        return replace(self, start_theta=theta, eta0=self.linear(theta[None, :]))

    @property
    def n(self) -> int:
        """Groups: the rows every weighting is summed into."""
        return len(self.F)

    @property
    def k(self) -> int:
        return self.F.shape[1]

    @property
    def d(self) -> int:
        return len(self.start_theta)

    def linear(self, theta: np.ndarray, out: np.ndarray | None = None, product: np.ndarray | None = None
               ) -> np.ndarray:
        """theta (c, d) -> eta (c, groups), into ``out`` if given (``product``: scratch of the same shape)."""
        eta = np.take(LN10 * (theta[:, self.pa] - theta[:, self.pb]), self.group_pair, axis=1, out=out, mode="clip")
        if self.k:
            eta += np.matmul(theta[:, self.n_models:], self.FT, out=product)
        return eta

    def to_models(self, per_pair: np.ndarray) -> np.ndarray:
        """(pairs, ...) -> (M, ...): + for model A, - for model B, times ln10."""
        out = np.zeros((self.n_models,) + per_pair.shape[1:])
        np.add.at(out, self.pa, per_pair)
        np.subtract.at(out, self.pb, per_pair)
        return LN10 * out

    def loss(self, Wg: np.ndarray, Wt: np.ndarray, theta: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """(c,) the penalised loss of each weighting; Wg and Wt are the groups' total and won weights."""
        return (Wg * np.logaddexp(0.0, eta) - Wt * eta).sum(1) + 0.5 * (self.ridge * theta ** 2).sum(1)


def _gradient_hessian(layout: FitLayout, Wg: np.ndarray, Wt: np.ndarray, theta: np.ndarray, eta: np.ndarray,
                      rs: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (c, d) and Hessian (c, d, d) of the loss of c weightings at theta; ``rs`` (2c, groups) and ``p``
    (c, groups) are scratch.

    Sums over each model pair's rows first, so the cost grows with the rows
    and the pairs, not with rows times models squared.
    """
    c, M, k, d = Wg.shape[0], layout.n_models, layout.k, layout.d
    r, s = rs[:c], rs[c:]  # r and s of every row, one weighting per line
    # p = 1 / (1 + e^-eta); e^-eta overflows to inf for very negative eta, giving p = 0
    with np.errstate(over="ignore"):
        np.exp(np.negative(eta, out=p), out=p)
    p += 1.0
    np.reciprocal(p, out=p)
    np.multiply(Wg, p, out=s)
    np.subtract(s, Wt, out=r)  # r = w p - w t: each row's gradient in eta
    np.subtract(1.0, p, out=p)
    s *= p  # s = w p (1 - p): its curvature
    grad = np.empty((c, d))
    H = np.zeros((c, d, d))
    if layout.per_pair_products:
        sums = np.stack([rs[:, rows] @ layout.G[rows] for rows in layout.pair_rows])  # (pairs, 2c, 1 + k)
        r_pair, s_pair, sF_pair = sums[:, :c, 0], sums[:, c:, 0], sums[:, c:, 1:]
        grad[:, M:] = sums[:, :c, 1:].sum(0)
    else:
        both = np.add.reduceat(rs, layout.pair_start, axis=1).T  # (pairs, 2c)
        r_pair, s_pair = both[:, :c], both[:, c:]
        if k:
            grad[:, M:] = r @ layout.F
            sF_pair = np.stack([np.add.reduceat(s * layout.FT[f], layout.pair_start, axis=1).T for f in range(k)], 2)
    grad[:, :M] = layout.to_models(r_pair).T
    grad += layout.ridge * theta
    S = s_pair.T * LN10 ** 2  # (c, pairs)
    pa, pb = layout.pa, layout.pb
    np.add.at(H, (slice(None), pa, pa), S)
    np.add.at(H, (slice(None), pb, pb), S)
    np.add.at(H, (slice(None), pa, pb), -S)
    np.add.at(H, (slice(None), pb, pa), -S)
    if k:
        cross = layout.to_models(sF_pair).transpose(1, 0, 2)  # (c, M, k)
        H[:, :M, M:] = cross
        H[:, M:, :M] = cross.transpose(0, 2, 1)
        H[:, M:, M:] = (s @ layout.FF).reshape(c, k, k)
    diag = np.arange(d)
    H[:, diag, diag] += layout.ridge
    return grad, H


def _newton_step(layout: FitLayout, Wg: np.ndarray, Wt: np.ndarray, theta: np.ndarray, eta: np.ndarray,
                 work: "_Scratch") -> np.ndarray:
    """(c, d) the full Newton step of each of c weightings at theta (0 for the fixed coefficient)."""
    grad, H = _gradient_hessian(layout, Wg, Wt, theta, eta, work.rs, work.p)
    idx = layout.free
    Hf = H if layout.fixed is None else H[:, idx[:, None], idx[None, :]]
    # a model absent from a weighting has an all-zero row: pin it rather than fail
    empty = np.abs(Hf).sum(2) == 0
    if empty.any():
        rows_, cols_ = empty.nonzero()
        Hf[rows_, cols_, cols_] = 1.0
    step = np.zeros((Wg.shape[0], layout.d))
    step[:, idx] = np.linalg.solve(Hf, grad[:, idx][..., None])[..., 0]
    return step


@dataclass
class _Scratch:
    """The (weightings x groups) arrays of a chunk's Newton iterations, made once for all the chunks one thread
    solves: a fresh array of megabytes costs a page fault per 4 kB, and making them anew for every chunk and
    iteration was a fifth of a style-controlled run's time."""
    rs: np.ndarray  # (2c, groups): r and s of _gradient_hessian
    Wg: np.ndarray  # the groups' total weights
    Wt: np.ndarray  # ... and the weights A won
    p: np.ndarray  # each row's win probability, then 1 - it
    eta: np.ndarray  # the linear predictor, in turn with the next one
    next_eta: np.ndarray
    product: np.ndarray  # the feature part of eta

    @classmethod
    def make(cls, c: int, n: int) -> "_Scratch":
        return cls(np.empty((2 * c, n)), *np.empty((6, c, n)))

    def rows(self, c: int) -> "_Scratch":
        """The first ``c`` weightings' rows of every array."""
        return _Scratch(self.rs[:2 * c], *(a[:c] for a in (self.Wg, self.Wt, self.p, self.eta, self.next_eta,
                                                          self.product)))


def _solve_chunk(layout: FitLayout, work: _Scratch, tol: float, max_iter: int) -> np.ndarray:
    """Newton iterations for the c weightings in the rows of ``work.Wg`` / ``work.Wt`` (c, groups): theta (c, d)."""
    Wg, Wt = work.Wg, work.Wt
    c = Wg.shape[0]
    theta = np.tile(layout.start_theta, (c, 1))
    eta = layout.eta0  # every weighting starts at the same point: one row of eta serves them all
    last_moved = math.inf
    for _ in range(max_iter):
        step = _newton_step(layout, Wg, Wt, theta, eta, work)
        spare = work.next_eta if eta is work.eta else work.eta
        new_theta = theta - step
        new_eta = layout.linear(new_theta, spare, work.product)
        moved = np.abs(step).max()
        if moved <= SAFE_STEP:  # near the optimum a full Newton step is safe: skip the loss evaluations
            theta, eta = new_theta, new_eta
            # Done when the step is below tol, or when it is below sqrt(tol) and at most
            # a hundredth of the one before: then Newton is converging quadratically and
            # the error left after this step is of the order of its square.
            if moved < tol or (moved < math.sqrt(tol) and moved < 0.01 * last_moved):
                break
            last_moved = moved
            continue
        last_moved = moved
        theta, eta = _line_search(layout, Wg, Wt, theta, eta, step, new_theta, new_eta, work.product)
    return theta


def _line_search(layout: FitLayout, Wg, Wt, theta, eta, step, new_theta, new_eta, product
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A long step may overshoot: halve it wherever it would not lower the loss. The new (theta, eta), eta in
    ``new_eta``'s array."""
    current = layout.loss(Wg, Wt, theta, eta)
    scale = np.ones(Wg.shape[0])
    new_loss = layout.loss(Wg, Wt, new_theta, new_eta)
    for _ in range(30):
        worse = new_loss > current + 1e-12 * np.abs(current)
        if not worse.any():
            break
        scale[worse] *= 0.5
        new_theta = theta - scale[:, None] * step
        new_eta = layout.linear(new_theta, new_eta, product)
        new_loss = layout.loss(Wg, Wt, new_theta, new_eta)
    return new_theta, new_eta


def _solve_weightings(layout: FitLayout, W: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """theta (R, d) of every weighting in the columns of W (input rows, R), a chunk at a time."""
    n, R, d = layout.n, W.shape[1], layout.d
    theta = np.empty((R, d))
    # weightings are solved a few at a time, so that the (weightings x rows)
    # arrays of an iteration stay in the processor's cache
    chunk = max(1, min(R, int(CHUNK_ELEMENTS // max(n, d * d))))
    bounds = [(lo, min(R, lo + chunk)) for lo in range(0, R, chunk)]

    def solve_chunks(part: list[tuple[int, int]]) -> None:
        scratch = _Scratch.make(chunk, n)
        for lo, hi in part:
            work = scratch.rows(hi - lo)
            # a column of W at a time: no transposed copy of all of W, nor of its product with the targets
            for i, j in enumerate(range(lo, hi)):
                column = np.ascontiguousarray(W[:, j])
                work.Wg[i] = np.bincount(layout.group, weights=column, minlength=n)
                work.Wt[i] = np.bincount(layout.group, weights=column * layout.target, minlength=n)
            theta[lo:hi] = _solve_chunk(layout, work, tol, max_iter)

    workers = min(len(bounds), _cores())
    if workers > 1 and n * R >= PARALLEL_ELEMENTS:
        # numpy releases the GIL inside its array loops, so chunks solved on
        # several threads run side by side; each chunk's arithmetic is the same
        # as on one thread, so the result does not depend on the thread count.
        # The BLAS library's own threads would only compete with ours: one each.
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits
        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            list(pool.map(solve_chunks, [bounds[i::workers] for i in range(workers)]))
    else:
        solve_chunks(bounds)
    return theta


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
        owner = np.repeat(np.arange(len(count), dtype=np.intp), count.astype(np.int64))
        out = np.empty((rounds, len(count)))  # returned transposed: each round's weights contiguous
        step = max(1, int(3e5 // total))  # a few rounds at a time: the draws stay in cache
        for start in range(0, rounds, step):
            r = min(step, rounds - start)
            # battle -> its kind, as the index type bincount counts without a conversion
            kind = np.take(owner, rng.integers(0, total, size=(r, total), dtype=np.int32))
            if r > 1:
                kind += (np.arange(r) * len(count))[:, None]
            out[start:start + r] = np.bincount(kind.ravel(), minlength=r * len(count)).reshape(r, -1)
        return out.T
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
    """Lower and upper percentile bounds over axis 0, ignoring rounds that are NaN.

    ``np.nanpercentile`` takes a column at a time; the columns without NaN
    (usually all) go to ``np.percentile`` at once, which gives the same
    numbers (the same interpolation between the same sorted values).
    """
    tail = (100.0 - confidence) / 2.0
    samples = np.asarray(samples, float)
    if samples.ndim != 2 or not len(samples):  # no rounds: NaN bounds, as nanpercentile gives them
        return _nan_percentiles(samples, tail)
    whole = ~np.isnan(samples).any(axis=0)
    lo, hi = np.empty(samples.shape[1]), np.empty(samples.shape[1])
    if whole.any():
        lo[whole], hi[whole] = np.percentile(samples[:, whole], [tail, 100.0 - tail], axis=0)
    if not whole.all():
        lo[~whole], hi[~whole] = _nan_percentiles(samples[:, ~whole], tail)
    return lo, hi


def _nan_percentiles(samples: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column gives NaN; the caller flags it
        return np.nanpercentile(samples, tail, axis=0), np.nanpercentile(samples, 100.0 - tail, axis=0)
