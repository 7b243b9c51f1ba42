"""What the report shows beyond the computed tables, read from the data directory once.

``gather_report_inputs`` reads the questions, the answer texts of the
models in the tables, both games' labels and judge texts of every judge, and
each judge's diagnostics.json and each model's cost files into a ``ReportInputs``; the page itself is
then rendered from it without opening a file (utils/report/html_report.py).

The judge texts shown are the judgments the numbers count
(docs/design.md#judgments): the first record of a (judge, model, question),
and none of a question id the question file lacks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from utils.asking.accounts import model_costs
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_file, diagnostics_file, judgment_dir, question_file, stem_to_name
from utils.ranking.comparison import PairComparison
from utils.ranking.judges import JudgeAgreement
from utils.ranking.leaderboard import Leaderboard
from utils.vocabulary.records import Answer, Question, iter_judgments, read_answers, read_questions


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


def gather_report_inputs(boards: list[Leaderboard], data_dir: Path | str) -> ReportInputs:
    """Read what the report on ``boards`` (the tables of one run) shows; bad files raise InputError."""
    data_dir = Path(data_dir)
    s = boards[0].settings
    path = question_file(data_dir, s.bench)
    listed = read_questions(path) if path.is_file() else None
    known = None if listed is None else {q.uid for q in listed}
    answers = {}
    for model in dict.fromkeys(r.model for b in boards for r in b.rows):
        path = answer_file(data_dir, s.bench, model)
        if path.is_file():
            answers[model] = read_answers(path)
    judgments = {judge: read_counted_judgments(judgment_dir(data_dir, s.bench, judge), known) for judge in s.judges}
    questions = listed if listed is not None else _questions_of(answers, judgments)
    categories = set(c for b in boards for c in b.settings.categories)
    if categories:  # a category, or (v2) a subcategory such as coding
        questions = [q for q in questions if q.category in categories or q.cluster in categories]
    shown = {q.uid for q in questions}
    return ReportInputs(
        questions=questions,
        answers={m: {u: a.turns for u, a in by_uid.items() if u in shown} for m, by_uid in answers.items()},
        judgments={judge: {m: {u: j for u, j in by_uid.items() if u in shown} for m, by_uid in by_model.items()}
                   for judge, by_model in judgments.items()},
        diagnostics={judge: read_diagnostics(diagnostics_file(data_dir, s.bench, judge)) for judge in s.judges},
        costs=model_costs(data_dir, s.bench, s.judges, dict.fromkeys(r.model for b in boards for r in b.rows)))


def read_counted_judgments(directory: Path, known: set[str] | None) -> dict[str, dict[str, ShownJudgment]]:
    """model -> question id -> the labels and texts of the judgment the numbers count, from one judge's directory.

    As utils/ranking/battles.py counts them: files in name order, the model a
    record names (else the one its file is named after), the first record of
    a model and question (the store keeps the first it paid for), nothing of
    a question id outside ``known`` (the question file's ids; None: none).
    """
    out: dict[str, dict[str, ShownJudgment]] = {}
    if not directory.is_dir():  # e.g. --load-battles from another tool: no judge texts to show
        return out
    for path in sorted(directory.glob("*.jsonl")):
        stem_model = stem_to_name(path.stem)
        for j in iter_judgments(path):
            by_uid = out.setdefault(j.model or stem_model, {})
            if (known is None or j.uid in known) and j.uid not in by_uid:
                by_uid[j.uid] = ShownJudgment(j.baseline, tuple(ShownGame(g.label, g.judgment) for g in j.games[:2]))
    return out


def read_diagnostics(path: Path) -> dict[str, dict]:
    """model -> {metric: value} from a judge's diagnostics.json (docs/design.md#diagnostics), {} when there is none."""
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", path) from None
    if isinstance(doc, dict) and isinstance(doc.get("models"), dict):
        doc = doc["models"]
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InputError("expected an object mapping each model to its diagnostics", path)
    return doc


def _questions_of(answers: dict[str, dict[str, Answer]], judgments: dict) -> list[Question]:
    """Without a question file (e.g. battles loaded from elsewhere): every id answered or judged, with the
    prompt an answer file recorded when there is one."""
    prompts: dict[str, tuple[str, ...]] = {}
    for by_uid in answers.values():
        for uid, a in by_uid.items():
            if a.prompts and uid not in prompts:
                prompts[uid] = tuple(a.prompts)
    uids = dict.fromkeys([u for by_uid in answers.values() for u in by_uid] +
                         [u for by_model in judgments.values() for by_uid in by_model.values() for u in by_uid])
    return [Question(uid=u, turns=prompts.get(u, ())) for u in uids]
