"""A job: one output file of a run and its work, and what asking for one of its items gave (an ``Outcome``).

Both steps that ask models plan their runs as jobs (utils/asking/answering.py,
judging.py); the runner (runs.py) asks for their items, and the accounts
(accounts.py) tally what their files cost. Kept apart from the runner so the
accounts, which show_result.py reads without the HTTP stack, need not load it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from utils.asking.cost import OutputGuess
from utils.plumbing.store import JsonlStore


@dataclass
class LeftOut:
    """Questions of a judgment file left out when the run was planned: an answer to compare is missing.

    An answer file leaves none out.
    """
    no_answer: int = 0  # the model has no answer to the question
    no_baseline: dict[str, int] = field(default_factory=dict)  # baseline -> its questions without its answer
    no_reference: int = 0  # the reference model has no answer to the question
    own_baseline: int = 0  # the model is the question's baseline: nothing to compare


@dataclass
class Job:
    """One output file and its work: the items still to ask for, what the file held, what the run added.

    An answer file holds ``model``'s answers; a judgment file ``judge``'s
    judgments of ``model``'s answers. Each item has the ``uid`` of its question.
    """
    model: str
    store: JsonlStore
    todo: list[Any]
    done_before: int  # records complete before the run
    judge: str | None = None
    left_out: LeftOut = field(default_factory=LeftOut)
    new: int = 0  # records stored whole by this run
    completed: int = 0  # records an earlier run stored with a part missing, now whole
    incomplete: int = 0  # records stored with a part still missing (its request failed): a rerun asks for it
    unlabeled: int = 0  # judgment games stored without a label
    games: int = 0  # judgment games stored
    empty: int = 0  # answers stored with no text outside the model's reasoning (it stopped while thinking)
    held: dict = field(default_factory=dict)  # uid -> the file's record when the run began (the very objects)
    output_guess: OutputGuess | None = None  # completion tokens expected per request (for --max-cost)
    waiting: int = 0  # items whose requests are still in a provider batch (--no-wait): a later run collects them
    checks: Any = None  # what planning found about the inputs (judging: judge_checks.PlanChecks)
    scope: frozenset[str] | None = None  # the question ids the run looked at (--first: fewer than the benchmark's)
    structured: bool = False  # judging: the judge is asked for JSON verdicts (structured_verdicts)

    @property
    def asks(self) -> str:
        """The model the job's requests go to: the judge of a judgment file, else the model itself."""
        return self.judge or self.model

    @property
    def who(self) -> str:
        """The job as its progress and the run summary name it."""
        return f"{self.judge} / {self.model}" if self.judge else self.model

    def count(self, outcome: "Outcome") -> None:
        """Count a record about to be stored."""
        if not outcome.whole:
            self.incomplete += 1
        elif outcome.completes:
            self.completed += 1
        else:
            self.new += 1
        self.unlabeled += outcome.unlabeled
        self.games += outcome.games
        self.empty += outcome.empty


@dataclass
class Outcome:
    """What asking for one item gave: the record to store (None when no request came back), and its error.

    A ``RequestFailed`` error is reported and the run goes on; any other is
    raised, after the record (paid for) is handed to the writer.
    """
    record: Any = None
    whole: bool = True  # False: a part is missing (a judgment game whose request failed)
    completes: bool = False  # it completes a record an earlier run stored with a part missing
    unlabeled: int = 0  # judgment games without a label
    games: int = 0  # judgment games in the record
    empty: int = 0  # answers with no text outside the model's reasoning
    error: BaseException | None = None
