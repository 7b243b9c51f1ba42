"""What the report shows beyond the computed tables, gathered from what the run read (utils/ranking/run.py).

``report_inputs`` collects the questions, the answer texts of the models in
the tables, both games' labels and judge texts of every judge, each judge's
diagnostics and each model's costs into a ``ReportInputs``; the page itself
is then rendered from it without opening a file (utils/report/html_report.py).

The judge texts shown are the judgments the numbers count
(docs/design.md#judgments): of the records of a (judge, model, question) the
one the judgment store keeps, and none of a question id the question file lacks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from utils.ranking.answer_info import AnswerInfo
from utils.ranking.comparison import PairComparison
from utils.ranking.judges import JudgeAgreement
from utils.ranking.missing import MissingCategory
from utils.ranking.results import Leaderboard
from utils.ranking.run import RunData
from utils.vocabulary.records import Question


@dataclass(frozen=True)
class ShownGame:
    label: str | None  # the label the judge gave (utils.vocabulary.verdicts), None when no single one was found
    text: str  # the judge's text


@dataclass(frozen=True)
class ShownJudgment:
    baseline: str  # the model the record says it was compared with ("" when it names none)
    games: tuple[ShownGame, ...]  # game 1 (the baseline as A) and game 2 (swapped); at most these two


@dataclass
class ReportInputs:
    """The texts behind the tables: everything the page shows that the leaderboards do not hold."""
    questions: list[Question]  # the questions the tables cover (after --category), in file order
    answers: dict[str, dict[str, list[str]]]  # model -> question id -> its reply to each turn
    judgments: dict[str, dict[str, dict[str, ShownJudgment]]]  # judge -> model -> question id -> both games
    diagnostics: dict[str, dict[str, dict]]  # judge -> model -> {metric: value}, from the judge's diagnostics.json
    costs: dict[str, dict] = field(default_factory=dict)  # model -> answer_cost_usd, judge_cost_usd (None: unknown)
    # computed by show_result, not read here: every pair of each table (utils.ranking.comparison), and the pooled
    # judges' figures (utils.ranking.judges); None when not computed
    pairs: list[list[PairComparison]] | None = None
    judges: JudgeAgreement | None = None
    missing: list[MissingCategory] = field(default_factory=list)  # v2: the categories without a table, and why


def report_inputs(boards: list[Leaderboard], run: RunData, pairs: list[list[PairComparison]] | None = None,
                  judges: JudgeAgreement | None = None, missing: list[MissingCategory] | None = None) -> ReportInputs:
    """What the report on ``boards`` (the tables of one run) shows, from what the run read (nothing is read here).

    The judge texts are those of the records the numbers count
    (utils/ranking/judgments.py keeps them when the report is asked for).
    """
    answers = run.answers_of(dict.fromkeys(r.model for b in boards for r in b.rows))
    judgments: dict[str, dict[str, dict[str, ShownJudgment]]] = {judge: {} for judge in run.request.judges}
    records = run.records
    if records is not None:  # battles loaded from another tool's file have no judge texts to show
        for j, model, uid, base in zip(records.judge.tolist(), records.model_names(), records.uids(),
                                       records.baseline_names()):
            games = records.texts.get((j, model, uid), ())
            judgments[records.judges[j]].setdefault(model, {})[uid] = ShownJudgment(
                base, tuple(ShownGame(label, text) for label, text in games))
    texts = {m: info.texts for m, info in answers.items() if info is not None}
    questions = run.questions or _questions_of(answers, judgments)
    categories = set(c for b in boards for c in b.settings.categories)
    if categories:  # a category, or (v2) a subcategory such as coding
        questions = [q for q in questions if q.category in categories or q.cluster in categories]
    shown = {q.uid for q in questions}
    return ReportInputs(
        questions=questions,
        answers={m: {u: turns for u, turns in by_uid.items() if u in shown} for m, by_uid in texts.items()},
        judgments={judge: {m: {u: j for u, j in by_uid.items() if u in shown} for m, by_uid in by_model.items()}
                   for judge, by_model in judgments.items()},
        diagnostics=run.diagnostics,
        costs=run.costs(r.model for b in boards for r in b.rows),
        pairs=pairs, judges=judges, missing=list(missing or ()))


def _questions_of(answers: dict[str, AnswerInfo | None], judgments: dict) -> list[Question]:
    """Without a question file (e.g. battles loaded from elsewhere): every id answered or judged, with the
    prompt an answer file recorded when there is one."""
    prompts: dict[str, tuple[str, ...]] = {}
    for info in answers.values():
        for uid, turns in (info.prompts.items() if info else ()):
            if turns and uid not in prompts:
                prompts[uid] = tuple(turns)
    uids = dict.fromkeys([u for info in answers.values() if info for u in info.texts] +
                         [u for by_model in judgments.values() for by_uid in by_model.values() for u in by_uid])
    return [Question(uid=u, turns=prompts.get(u, ())) for u in uids]
