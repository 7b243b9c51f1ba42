"""What a rating method computes: a ``Leaderboard`` of ``ModelResult`` rows, and what comparisons need beside it.

Every method (utils/ranking/methods/) returns these; the tables and CSVs
(utils/ranking/tables.py), the bootstrap file, the comparisons and the report
only read them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from utils.ranking.settings import RunSettings

FEW_QUESTIONS = 20  # below this many judged questions an interval says little

ZERO_WIDTH = "a zero-width interval (the bootstrap never varied its score)"

@dataclass
class ModelResult:
    model: str
    score: float  # win rate against the baseline, %
    lower: float  # interval bounds of the win rate, %
    upper: float
    rating: float  # Elo scale, baseline = 1000
    rating_lower: float
    rating_upper: float
    avg_tokens: int | None  # None: no answer file, or no answer with a known length
    covered: int  # questions with at least one counted verdict
    questions: int  # questions in the benchmark (after --category)
    battles: int  # counted battles the model is in
    is_baseline: bool = False
    flags: tuple[str, ...] = ()  # "incomplete-coverage", "unreliable: ...", "no verdicts: ..." notes
    # bootstrap win rates in %, one per round; a round without the model (it can happen on tiny data) is left out
    results: list[float] = field(default_factory=list)

    @property
    def unreliable(self) -> bool:
        return any(f.startswith("unreliable") for f in self.flags)

    @property
    def no_verdicts(self) -> bool:
        """Judged, but not one verdict counted: no score, not ranked (its row comes last)."""
        return any(f.startswith(NO_VERDICTS) for f in self.flags)

NO_VERDICTS = "no verdicts"

def no_verdict_row(model: str, why: str, avg_tokens: int | None, questions: int) -> ModelResult:
    """The row of a model whose judgment records hold no counted verdict: every number unknown."""
    nan = math.nan
    return ModelResult(model, nan, nan, nan, nan, nan, nan, avg_tokens, 0, questions, 0,
                       flags=(f"{NO_VERDICTS}: {why}",))

@dataclass
class PairedData:
    """What head-to-head comparisons of a table's models need beyond its rows (utils/ranking/comparison.py).

    ``rounds`` holds every model's bootstrap score by round index, so that
    column i and column j of a row come from the same resampling: NaN where a
    model had no score in a round, or where its saved rounds cannot be lined up
    (our bootstrap file leaves a model's empty rounds out). The baseline is 50
    in every round. ``won`` and ``total`` are each model's weighted wins (a tie
    half) and weighted games per question, for the questions-needed simulation;
    the baseline's are 0, its score being fixed.
    """
    models: list[str]
    rounds: np.ndarray  # (R, M) win rates against the baseline, %
    won: np.ndarray  # (Q, M) over the questions of the table with at least one game
    total: np.ndarray  # (Q, M)
    by_question: bool = False  # its rounds resample whole questions (else single battles or units)

def question_outcomes(question, model, won, games, n_models: int, baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """(won, total), each (Q, M), over the questions with games: the sums of ``won`` and ``games`` per question and
    model (the baseline's set to 0)."""
    present, q = np.unique(np.asarray(question, np.int64), return_inverse=True)
    shape = (len(present), n_models)
    flat = q.reshape(-1) * n_models + np.asarray(model, np.int64)
    out = [np.bincount(flat, weights=np.asarray(x, float), minlength=shape[0] * shape[1]).reshape(shape)
           for x in (won, games)]
    for x in out:
        x[:, baseline] = 0.0
    return out[0], out[1]

@dataclass
class Leaderboard:
    rows: list[ModelResult]  # best first
    settings: RunSettings
    style_coefficients: dict[str, float] = field(default_factory=dict)
    missing_questions: dict[str, list[str]] = field(default_factory=dict)  # model -> question ids
    battles: int = 0  # counted battles (v2: counted outcome units)
    category: str | None = None  # v2: the category this table is for
    dropped_rows: int = 0  # v2: judgment rows left out whole (a null game or no accepted label)
    warnings: list[str] = field(default_factory=list)  # v2: rows not counted, for the script to print
    paired: PairedData | None = None  # for head-to-head comparisons (None: not computed)
    # how its method presents it (utils/ranking/methods/): the line under the table, the method's name in the CSV,
    # the decimals of win rates in the CSVs, what the table counts
    footer: str = ""
    method_text: str = ""
    decimals: int = 2
    unit: str = "battles"

    def row(self, model: str) -> ModelResult:
        return next(r for r in self.rows if r.model == model)
