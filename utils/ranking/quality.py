"""The benchmark quality metrics: pure functions on leaderboards (docs/benchmark_quality.md).

Separability, agreement with confidence, strict agreement, the pair-rank Brier
score and the rank correlations, each stated with its formula in
docs/benchmark_quality.md. Every interval comparison uses ``overlap``;
separability also asks that both intervals have width (``separated``).
``python -m utils.benchmark_quality`` computes them on a bootstrap file
(read by utils.ranking.bootstrap_file); show_result prints the separability
of its own table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Collection, Mapping, Sequence

import numpy as np

from utils.plumbing.errors import InputError
from utils.ranking.rating import percentile_interval

FILE_LEVEL = 95.0  # the level of the lower/upper columns stored in bootstrap and leaderboard files


@dataclass
class Entry:
    """One model on a leaderboard: point value, interval, bootstrap samples (may be empty)."""
    model: str
    point: float
    lower: float
    upper: float
    samples: np.ndarray  # finite bootstrap values only
    line: int | None = None  # where it was read, for messages
    exact: bool = False  # the baseline: its value is fixed by definition, so its zero-width interval is exact


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """The one overlap rule: [l1, u1] and [l2, u2] overlap when l1 < u2 and l2 < u1.

    So intervals that only touch do not overlap, and a zero-width interval (the
    baseline's) strictly inside another one does. Every metric here compares
    intervals through this function and nothing else.
    """
    (l1, u1), (l2, u2) = a, b
    return l1 < u2 and l2 < u1


def measured(interval: tuple[float, float], exact: bool = False) -> bool:
    """Whether an interval can tell its model from another: it has width, or its value is exact by definition.

    A bootstrap that gives a model the same score in every round (a judge that
    always names the same position, a model that wins every game) leaves a
    zero-width interval: not certainty but a resampling that saw no variation.
    The baseline's score is 50 % by definition: ``exact``.
    """
    return exact or interval[1] > interval[0]


def separated(a: tuple[float, float], b: tuple[float, float], exact_a: bool = False, exact_b: bool = False) -> bool:
    """The one separation rule: both intervals are ``measured`` and they do not ``overlap``."""
    return measured(a, exact_a) and measured(b, exact_b) and not overlap(a, b)


def unmeasured(intervals: Mapping[str, tuple[float, float]], exact: Collection[str] = ()) -> list[str]:
    """The models whose interval has zero width without being exact: they separate from no model."""
    return [m for m, iv in intervals.items() if not measured(iv, m in exact)]


def separability(intervals: Mapping[str, tuple[float, float]], exact: Collection[str] = ()
                 ) -> tuple[float | None, int]:
    """Share of model pairs that are ``separated``, and the number of pairs (None if no pair).

    ``exact``: the models whose value is fixed by definition (the baseline).
    """
    pairs = list(combinations(intervals, 2))
    if not pairs:
        return None, 0
    apart = sum(separated(intervals[a], intervals[b], a in exact, b in exact) for a, b in pairs)
    return apart / len(pairs), len(pairs)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def agreement_with_confidence(ours: Mapping[str, tuple[float, float, float]],
                              reference: Mapping[str, tuple[float, float, float]]) -> tuple[float | None, int]:
    """Mean score over the pairs the reference orders confidently, and how many such pairs there are.

    Both maps give model -> (point, lower, upper) for the same models. A pair
    the reference separates scores 1 when our intervals are separate too and our
    points order it the same way, 0 when ours are separate and ordered the other
    way, and 0.5 when our intervals overlap (or, degenerate, our points tie).
    """
    scores = []
    for a, b in combinations(sorted(ours), 2):
        ra, rb = reference[a], reference[b]
        if overlap(ra[1:], rb[1:]):
            continue
        oa, ob = ours[a], ours[b]
        ref_order, our_order = _sign(ra[0] - rb[0]), _sign(oa[0] - ob[0])
        if overlap(oa[1:], ob[1:]) or our_order == 0 or ref_order == 0:
            scores.append(0.5)
        else:
            scores.append(1.0 if our_order == ref_order else 0.0)
    if not scores:
        return None, 0
    return sum(scores) / len(scores), len(scores)


def strict_agreement(ours: Mapping[str, float], reference: Mapping[str, float]) -> tuple[float | None, int]:
    """Share of all pairs that the point values order the same way (a tie in both counts as the same)."""
    pairs = list(combinations(sorted(ours), 2))
    if not pairs:
        return None, 0
    same = sum(_sign(ours[a] - ours[b]) == _sign(reference[a] - reference[b]) for a, b in pairs)
    return same / len(pairs), len(pairs)


def prob_ranks_below(mean_a: float, var_a: float, mean_b: float, var_b: float) -> float:
    """P(A ranks below B) = Φ((0 − (μA − μB)) / √(σA² + σB²)); without any spread it is 1, 0 or ½."""
    spread = math.sqrt(var_a + var_b)
    diff = mean_a - mean_b
    if spread == 0.0:
        return 0.5 if diff == 0 else float(diff < 0)
    from statistics import NormalDist  # with fractions behind it: loaded for the few runs that ask
    return NormalDist().cdf(-diff / spread)


def pair_rank_brier(ours: Mapping[str, tuple[float, float]], reference: Mapping[str, float]) -> tuple[float | None, int]:
    """Mean squared error of our P(A below B) against the reference's order, and the number of pairs.

    ``ours`` maps model -> (mean, variance) of its bootstrap scores. Every pair
    is scored in both orientations (A, B) and (B, A): for a pair the reference
    orders, both give the same error; for a reference tie the target is 0 both
    ways, so neither model is favoured by the order the file lists them in.
    """
    errors = []
    for a, b in combinations(sorted(ours), 2):
        for x, y in ((a, b), (b, a)):
            p = prob_ranks_below(*ours[x], *ours[y])
            target = 1.0 if reference[x] < reference[y] else 0.0
            errors.append((p - target) ** 2)
    if not errors:
        return None, 0
    return sum(errors) / len(errors), len(errors) // 2


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, tied values sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of the average ranks (None when a side is constant)."""
    rx, ry = average_ranks(x), average_ranks(y)
    n = len(rx)
    if n < 2:
        return None
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def kendall(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b: (concordant − discordant) / √((pairs − ties in x)(pairs − ties in y))."""
    concordant = discordant = ties_x = ties_y = 0
    for i, j in combinations(range(len(x)), 2):
        sx, sy = _sign(x[i] - x[j]), _sign(y[i] - y[j])
        ties_x += sx == 0
        ties_y += sy == 0
        concordant += sx * sy > 0
        discordant += sx * sy < 0
    pairs = len(x) * (len(x) - 1) // 2
    if pairs == ties_x or pairs == ties_y:
        return None
    return (concordant - discordant) / math.sqrt((pairs - ties_x) * (pairs - ties_y))


def mean_and_variance(samples: np.ndarray, fallback_mean: float) -> tuple[float, float]:
    """Mean and sample variance (n − 1) of bootstrap values; no spread known from fewer than two."""
    if len(samples) == 0:
        return fallback_mean, 0.0
    variance = float(np.var(samples, ddof=1)) if len(samples) > 1 else 0.0
    return float(np.mean(samples)), variance


def interval_at(entry: Entry, level: float, path: object = None) -> tuple[float, float]:
    """The entry's interval at ``level``: the stored one at 95 %, else percentiles of its samples."""
    if level == FILE_LEVEL:
        return entry.lower, entry.upper
    if len(entry.samples) == 0:
        raise InputError(f"no bootstrap values to take a {level:g}% interval from", path, entry.line, "results")
    lo, hi = percentile_interval(entry.samples, level)
    return float(lo), float(hi)


@dataclass
class Quality:
    """All numbers of one evaluation, with how many models and pairs each one used."""
    level: float
    n_models: int
    n_pairs: int
    separability: float | None
    n_models_in_both: int = 0
    n_pairs_in_both: int = 0
    n_reference_confident_pairs: int = 0
    agreement_with_confidence: float | None = None
    strict_agreement: float | None = None
    brier: float | None = None
    spearman: float | None = None
    kendall: float | None = None
    not_in_reference: tuple[str, ...] = ()
    reference_intervals_as_given: bool = False

    def to_json(self) -> dict:
        return {"n_models": self.n_models, "n_pairs": self.n_pairs, "separability": self.separability,
                "agreement_with_confidence": self.agreement_with_confidence,
                "strict_agreement": self.strict_agreement, "brier": self.brier, "spearman": self.spearman,
                "kendall": self.kendall, "level": self.level, "n_models_in_both": self.n_models_in_both,
                "n_pairs_in_both": self.n_pairs_in_both,
                "n_reference_confident_pairs": self.n_reference_confident_pairs,
                "not_in_reference": list(self.not_in_reference)}


def evaluate(ours: list[Entry], reference: list[Entry] | None = None, mapping: Mapping[str, str] | None = None,
             level: float = FILE_LEVEL, ours_path: object = None, reference_path: object = None) -> Quality:
    """Every metric for our leaderboard, and against the reference when one is given."""
    our_iv = {e.model: interval_at(e, level, ours_path) for e in ours}
    sep, n_pairs = separability(our_iv, {e.model for e in ours if e.exact})
    q = Quality(level=level, n_models=len(ours), n_pairs=n_pairs, separability=sep)
    if reference is None:
        return q

    mapping = mapping or {}
    ref_by_name = {e.model: e for e in reference}
    ref_name = {e.model: mapping.get(e.model, e.model) for e in ours}
    both = [e for e in ours if ref_name[e.model] in ref_by_name]
    q.not_in_reference = tuple(e.model for e in ours if ref_name[e.model] not in ref_by_name)
    ref = {e.model: ref_by_name[ref_name[e.model]] for e in both}
    # a reference without samples can only be read at the level it was stored at
    q.reference_intervals_as_given = level != FILE_LEVEL and any(len(r.samples) == 0 for r in ref.values())
    ref_level = FILE_LEVEL if q.reference_intervals_as_given else level

    ours3 = {e.model: (e.point, *our_iv[e.model]) for e in both}
    ref3 = {m: (r.point, *interval_at(r, ref_level, reference_path)) for m, r in ref.items()}
    our_points = {e.model: e.point for e in both}
    ref_points = {m: r.point for m, r in ref.items()}
    q.n_models_in_both = len(both)
    q.agreement_with_confidence, q.n_reference_confident_pairs = agreement_with_confidence(ours3, ref3)
    q.strict_agreement, q.n_pairs_in_both = strict_agreement(our_points, ref_points)
    q.brier, _ = pair_rank_brier({e.model: mean_and_variance(e.samples, e.point) for e in both}, ref_points)
    names = [e.model for e in both]
    q.spearman = spearman([our_points[m] for m in names], [ref_points[m] for m in names])
    q.kendall = kendall([our_points[m] for m in names], [ref_points[m] for m in names])
    return q
