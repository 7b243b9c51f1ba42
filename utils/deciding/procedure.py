"""The order in which a decision judges the questions, and what the sequence says after a prefix of it.

The order is drawn before any verdict, from the seed alone (random), or
from the seed and weights computed from the two models' answers
(informative: a large length gap makes a question more likely to come
early); either way it never depends on a verdict, which is what the
guarantee rests on (docs/deciding.md#order).
"""
from __future__ import annotations

import numpy as np

from utils.deciding.flags import Procedure
from utils.deciding.state import Look
from utils.ranking.sequential import DECISION_CODES, confidence_sequence, decisions, point_estimate, random_order, \
    weighted_order
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
    """The judging order of ``uids`` (question-file order), and its sampling weights in that order (None: random)."""
    if procedure.order == "random":
        return [uids[i] for i in random_order(len(uids), procedure.seed)], None
    weights = length_gap_weights(uids, a, b)
    order = weighted_order(weights, procedure.seed)
    return [uids[i] for i in order], weights[order].tolist()


def population(procedure: Procedure, questions: int) -> int | None:
    """The finite population the sequence is about (the benchmark's questions), or None: an endless one."""
    return questions if procedure.scope == "benchmark" else None


def look(differences: np.ndarray, procedure: Procedure, questions: int, weights: list[float] | None) -> Look:
    """What the sequence says after the judged ``differences`` (the first questions of the order, in points):
    the estimate, the interval (the running intersection: every look before included) and the decision."""
    n = population(procedure, questions)
    w = None if weights is None else np.asarray(weights, float)
    lower, upper = confidence_sequence(differences, n, procedure.alpha, after=[len(differences)], weights=w)
    code = decisions(differences, n, procedure.margin, procedure.alpha, weights=w)[-1]
    return Look(len(differences), point_estimate(differences, n, w), float(lower[0]), float(upper[0]),
                DECISION_CODES[int(code)].value)
