"""What the sequence says after the first questions of a decision's order (utils/deciding/order.py).

The population is the benchmark's questions (--scope benchmark) or an
endless one (--scope general); with --order informative, the order's
sampling weights are undone (docs/deciding.md#order).
"""
from __future__ import annotations

import numpy as np

from utils.deciding.flags import Procedure
from utils.deciding.state import Look
from utils.ranking.sequential import DECISION_CODES, confidence_sequence, decisions, point_estimate


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
