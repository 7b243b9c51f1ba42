"""The order in which a decision judges the questions: drawn before any verdict, and checked when read back.

The order is drawn from the seed alone (random), or from the seed and
weights computed from the two models' answers (informative: a large length
gap makes a question more likely to come early); either way it never depends
on a verdict, which is what the guarantee rests on (docs/deciding.md#order).
It is drawn over the question ids sorted, so that it does not depend on the
order of the question file either, and a stored order can be checked: it
must be the permutation its seed (and weights) give (``check_drawn``).
"""
from __future__ import annotations

import numpy as np

from utils.deciding.flags import Procedure
from utils.ranking.sequential import random_order, weighted_order
from utils.vocabulary.records import Answer

# --order informative: a question's weight grows from 1 (the answers equally long) to 1 + GAP_BOOST once one is
# FULL_GAP (as a share of the longer answer) shorter than the other; bench/decide_sim.py's length-gap weights
GAP_BOOST, FULL_GAP = 4.0, 0.5


def length_gap_weights(uids: list[str], a: dict[str, Answer], b: dict[str, Answer]) -> np.ndarray:
    """Per question, its sampling weight from how much the two answers' lengths differ (tokens when the answer
    files have them, else characters): known before any verdict."""
    def size(answer: Answer) -> float:
        tokens = (answer.metadata or {}).get("token_len")
        return float(tokens) if isinstance(tokens, (int, float)) and tokens > 0 else float(len(answer.text))
    gaps = []
    for uid in uids:
        x, y = size(a[uid]), size(b[uid])
        gaps.append(abs(x - y) / max(x, y, 1.0))
    return 1.0 + GAP_BOOST * np.minimum(np.array(gaps) / FULL_GAP, 1.0)


def draw_order(uids: list[str], procedure: Procedure, a: dict[str, Answer], b: dict[str, Answer]
               ) -> tuple[list[str], list[float] | None]:
    """The judging order of the questions ``uids``, and its sampling weights in that order (None: random)."""
    ids = sorted(uids)
    if procedure.order == "random":
        return drawn(ids, procedure.seed, None), None
    weights = length_gap_weights(ids, a, b)
    order = drawn(ids, procedure.seed, weights)
    weight_of = dict(zip(ids, weights.tolist()))
    return order, [weight_of[uid] for uid in order]


def drawn(ids: list[str], seed: int, weights: np.ndarray | None) -> list[str]:
    """``ids`` (sorted) in the order the seed draws, with ``weights`` (one per id) when the order is weighted."""
    picks = random_order(len(ids), seed) if weights is None else weighted_order(weights, seed)
    return [ids[i] for i in picks]


def is_drawn(order: list[str], seed: int, weights: list[float] | None) -> bool:
    """Whether ``order`` (with ``weights``, its sampling weights in judging order) is the one ``seed`` draws."""
    ids = sorted(order)
    if weights is None:
        return drawn(ids, seed, None) == order
    weight_of = dict(zip(order, weights))
    return drawn(ids, seed, np.array([weight_of[uid] for uid in ids], float)) == order
