"""Stored judgments -> each question's score for each of the two models, and their paired difference.

A question's score is the rating method's own unit restricted to it
(docs/deciding.md#per-question-score): the count-weighted mean of the
model's shares of its games, every judge's games pooled, in points
(utils.ranking.sequential.question_scores; the method says which games
count and how often: ``RatingMethod.game_units``). Only a record judged
against its question's own baseline (or naming none, the older layout)
counts, so a category with its own baseline is scored against it.

A question is *judged* for a model when every judge has a record of it;
the sequence may only look at a prefix of the order judged for both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.ranking.judgments import JudgmentRecords
from utils.ranking.methods.base import RatingMethod
from utils.ranking.sequential import question_scores


@dataclass
class Paired:
    """The two models' scores on the questions of the order, in judging order."""
    scores: np.ndarray  # (2, N) points; a question without a counted game scores 50
    judged: np.ndarray  # (2, N) bool: every judge has a record of the model on the question
    games: np.ndarray  # (2, N) int: the games of the model's records on the question (two a record)
    unlabelled: np.ndarray  # (2, N) int: those of them without a label (no evidence; they score as ties do)

    @property
    def differences(self) -> np.ndarray:
        return self.scores[0] - self.scores[1]

    def prefix(self) -> int:
        """How many questions from the start of the order are judged for both models."""
        both = self.judged.all(0)
        return int(both.size if both.all() else np.argmin(both))


def paired_scores(records: JudgmentRecords, method: RatingMethod, weight: int, order: list[str],
                  baselines: list[str], models: tuple[str, str]) -> Paired:
    """Each model's scores on ``order``'s questions (``baselines``: each one's baseline, in the same order)."""
    position = {uid: i for i, uid in enumerate(order)}
    pos = np.array([position.get(uid, -1) for uid in records.questions] + [-1], np.int64)[records.question]
    names = [*records.names, ""]
    named = np.array(records.baseline_names(), dtype=object) if len(records) else np.zeros(0, object)
    wanted = np.array(baselines + [""], dtype=object)[pos]
    counted = (pos >= 0) & ((named == "") | (named == wanted))
    share, count = method.game_units(records, weight) if len(records) else (np.zeros((0, 2)), np.zeros((0, 2)))
    scores = np.zeros((2, len(order)))
    judged = np.zeros((2, len(order)), bool)
    games, unlabelled = np.zeros((2, len(order)), int), np.zeros((2, len(order)), int)
    for m, model in enumerate(models):
        mine = counted & (records.model == names.index(model)) if model in records.names else \
            np.zeros(len(records), bool)
        scores[m] = question_scores(np.repeat(pos[mine], 2), share[mine].ravel(), count[mine].ravel(), len(order))
        by_judge = np.zeros((len(records.judges), len(order)), bool)
        by_judge[records.judge[mine], pos[mine]] = True
        judged[m] = by_judge.all(0)
        if mine.any():
            np.add.at(games[m], pos[mine], 2)
            np.add.at(unlabelled[m], pos[mine], (records.labels[mine] < 0).sum(1))  # label codes < 0: no label
    return Paired(scores, judged, games, unlabelled)
