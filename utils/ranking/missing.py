"""The categories of an Arena-Hard v2.0 benchmark that get no table: how many questions, why, and what fixes it.

show_result.py --method arena-hard-v2 accounts for every category of the
question file. One without a counted judgment is a ``MissingCategory``,
which the terminal, the CSV (``missing_reason``), the HTML report and an
error for a --category asked by name all say the same way: its questions wait for their
baseline's answers, or were not judged against that baseline, or were judged
without one counted verdict; and the commands (utils/plumbing/fix_commands.py) that make
what is missing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from utils.ranking.answer_info import AnswerInfo
from utils.vocabulary.verdicts import NO_LABEL_ADVICE

if TYPE_CHECKING:
    from utils.plumbing.fix_commands import RunFiles

NO_BASELINE_ANSWERS = "no baseline answers"
NOT_JUDGED = "not judged"
NO_VERDICTS = "no verdicts"


@dataclass(frozen=True)
class MissingCategory:
    """A category with no counted judgment, and what to run so that it gets a table."""
    category: str
    questions: int  # its questions in the question file
    baseline: str | None  # None: no baseline is known for it
    reason: str  # NO_BASELINE_ANSWERS, NOT_JUDGED or NO_VERDICTS
    why: str  # the reason, with the file or the counts behind it
    fix: tuple[str, ...]  # the command lines to run, in order

    @property
    def text(self) -> str:
        """The whole story in one line (the CSV's ``missing_reason``, an error's message)."""
        return f"{self.reason}: {self.why}; to score it, run: {' ; then: '.join(self.fix)}"

    def lines(self) -> list[str]:
        """As the terminal shows it under the tables: a line, then each command on its own."""
        baseline = f"baseline {self.baseline}" if self.baseline else "no baseline known"
        return [f"NOT SCORED {self.category}: {self.questions} questions ({baseline}): {self.reason}: {self.why}. "
                "To score it, run:", *(f"  {command}" for command in self.fix)]


def missing_category(category: str, questions: list[str], baseline: str | None, dropped_rows: int,
                     answers: dict[str, AnswerInfo | None], files: RunFiles, bench: str, models: list[str],
                     judges: list[str]) -> MissingCategory:
    """Why ``category`` (its question ids ``questions``) has no counted judgment, and its fix.

    ``dropped_rows``: its judgment rows against ``baseline`` that were left out
    (a null game or no accepted label); ``answers``: the answer files read
    (the baseline's among them); ``models`` and ``judges``: those of the
    tables, for the gen_judgment.py command.
    """
    from utils.plumbing.fix_commands import answer_command, answers_missing, judge_command  # loads the configs' YAML
    judge = judge_command(files, bench, models, judges)
    info = answers.get(baseline) if baseline else None
    if baseline and not (info is not None and info.answered & set(questions)):
        why = f"its baseline {baseline} has no answers to them: " + answers_missing(Path(files.data_dir), bench,
                                                                                     baseline, info is not None)
        return MissingCategory(category, len(questions), baseline, NO_BASELINE_ANSWERS, why,
                               (answer_command(files, bench, baseline), judge))
    if dropped_rows:
        why = (f"none of its {dropped_rows} judgment rows has an accepted label in both games (a new run plays "
               f"the games never played; for texts without a label: {NO_LABEL_ADVICE})")
        return MissingCategory(category, len(questions), baseline, NO_VERDICTS, why, (judge,))
    against = f" against {baseline}" if baseline else ""
    return MissingCategory(category, len(questions), baseline, NOT_JUDGED,
                           f"no judgment of its questions{against} by {', '.join(judges)}", (judge,))
