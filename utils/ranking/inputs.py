"""What show_result reads before it computes: questions, battles or outcome rows, answers, saved results.

Reading is most of a run's time: the judgment files are parsed on two cores
(utils/ranking/battles.py) while a forked child (utils.plumbing.forked.ForkedChild)
reads the answer files of the models they name. Warnings about what was left
out go to ``warn`` as they arise; bad input is an InputError.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.plumbing.names import question_file, stem_to_name
from utils.ranking.answer_info import (AnswerInfo, answers_of, battle_features, length_warnings, read_answer_info,
                                      read_answers_info)
from utils.ranking.battles import Battles, OutcomeRows, judgment_files, load_battles, read_game_verdicts, \
    read_judgment_battles, read_judgment_outcomes
from utils.ranking.bootstrap_file import read_saved_bootstrap, saved_rounds
from utils.ranking.judgment_checks import JudgmentFindings, judgment_findings
from utils.ranking.leaderboard import V2_BASELINES, RunSettings, check_bootstrap_memory
from utils.vocabulary.records import Question, read_questions

Warn = Callable[[str], None]


@dataclass
class V01Inputs:
    """Everything ``compute_leaderboard`` takes, as read for one v0.1 run."""
    settings: RunSettings  # as asked, with the rounds of saved bootstrap results when they are loaded
    battles: Battles
    question_ids: list[str] | None  # the benchmark's questions after --category (None: no question file)
    answers: dict[str, AnswerInfo | None]  # every model of the table
    features: tuple[np.ndarray, np.ndarray] | None  # both answers' style features per battle row, for style control
    saved_bootstrap: dict[str, np.ndarray] | None  # model -> saved bootstrap ratings (--load-bootstrap)

    @property
    def avg_tokens(self) -> dict[str, int | None]:
        return {m: info.avg_tokens for m, info in self.answers.items() if info}


def read_v01_inputs(settings: RunSettings, data_dir: Path, warn: Warn, battles_from: Path | None = None,
                    bootstrap_from: Path | None = None) -> V01Inputs:
    """The battles (from the judgments, or the battles file ``battles_from``), answers and saved bootstrap results.

    Also refuses a bootstrap that cannot fit in memory, before the answers'
    length warnings, so that a refused run says nothing more.
    """
    qfile = question_file(data_dir, settings.bench)
    questions, all_ids, keep = _v01_selection(settings, data_dir)
    style_from_battles: dict = {}
    read: dict = {}
    if battles_from is not None:
        battles, style_from_battles = load_battles(battles_from)
        if settings.categories and questions:
            battles = battles.only_questions({q.uid for q in questions})
    else:
        files = judgment_files(data_dir, settings.bench, list(settings.judges))
        # the answers of the models the judgment files are named after, read on the other core meanwhile
        expected = [settings.baseline] + [stem_to_name(f.stem) for f in files]
        with ForkedChild(lambda: read_answers_info(data_dir, settings.bench, expected)) as reading_answers:
            battles = read_judgment_battles(files, settings.baseline, settings.weight, settings.first_game_only,
                                            keep, all_ids)
            read = reading_answers.result()
        for warning in battles.skipped.warnings(qfile):
            warn(warning)
    shown = [*battles.models, *battles.judged]
    answers = answers_of(shown, read, data_dir, settings.bench)
    features = None
    if settings.style and len(battles):
        features = battle_features(battles, answers, style_from_battles, data_dir, settings.bench)
    saved = None
    if bootstrap_from is not None:
        if not bootstrap_from.is_file():
            raise InputError("bootstrap results not found (run once without --load-bootstrap)", bootstrap_from)
        saved = read_saved_bootstrap(bootstrap_from, settings.baseline)
        settings = replace(settings, bootstrap_loaded_from=str(bootstrap_from), rounds=saved_rounds(saved))
    else:
        check_memory(settings.rounds, len(battles.models), 1, warn)
    for warning in length_warnings(answers, list(answers), data_dir, settings.bench):
        warn(warning)
    return V01Inputs(settings, battles, [q.uid for q in questions] or None, answers, features, saved)


def _v01_selection(settings: RunSettings, data_dir: Path) -> tuple[list[Question], list[str] | None, Callable | None]:
    """The questions of a v0.1 run (after --category), every id of the question file (None without one), and the
    test of whether a judgment record counts for --category (None: every record)."""
    qfile = question_file(data_dir, settings.bench)
    questions = read_questions(qfile) if qfile.is_file() else []
    all_ids = [q.uid for q in questions] if questions else None  # before --category: every known id
    wanted = set(settings.categories)
    if not wanted:
        return questions, all_ids, None
    known = list(dict.fromkeys(q.category for q in questions))
    unknown = [c for c in settings.categories if c not in known]
    if questions and unknown:
        raise InputError(f"no question of {qfile} is in category {unknown[0]!r} (its categories: "
                         f"{', '.join(known)})", key="--category")
    questions = [q for q in questions if q.category in wanted]
    category_of = {q.uid: q.category for q in questions}
    return questions, all_ids, lambda qid, rec: category_of.get(qid, rec.get("category")) in wanted


def read_judge_battles(settings: RunSettings, data_dir: Path, judge: str) -> Battles:
    """The battles of one of the run's judges alone, selected as ``read_v01_inputs`` selects the pooled ones."""
    _, all_ids, keep = _v01_selection(settings, data_dir)
    return read_judgment_battles(judgment_files(data_dir, settings.bench, [judge]), settings.baseline,
                                 settings.weight, settings.first_game_only, keep, all_ids)


def read_judge_verdicts(settings: RunSettings, data_dir: Path, judge: str, shown: set[str] | None = None
                        ) -> dict[tuple[str, str, int], tuple[int, bool]]:
    """One judge's verdict of every game it judged (``read_game_verdicts``), for judge agreement.

    v0.1 selects records as its battles do (--category, --first-game-only);
    ``shown`` (v2: the questions of the tables shown) keeps only those questions.
    """
    files = judgment_files(data_dir, settings.bench, [judge])
    if settings.v2:
        qfile = question_file(data_dir, settings.bench)
        ids = [q.uid for q in read_questions(qfile)] if qfile.is_file() else None
        keep = None if shown is None else (lambda qid, rec: qid in shown)
        return read_game_verdicts(files, ids, keep, 2)
    _, all_ids, keep = _v01_selection(settings, data_dir)
    return read_game_verdicts(files, all_ids, keep, 1 if settings.first_game_only else 2)


def check_memory(rounds: int, models: int, tables: int, warn: Warn) -> None:
    """Refuse a bootstrap that cannot fit in this machine's memory; warn about one that takes much of it."""
    warning = check_bootstrap_memory(rounds, models, tables)
    if warning:
        warn(warning)


@dataclass
class V2Inputs:
    """What the v2.0 tables are computed from: every judgment row, the questions, the answers read in advance."""
    rows: OutcomeRows
    questions: list[Question]
    read: dict  # model -> AnswerInfo, None or the InputError of its answer file (``read_answers_info``)


def read_v2_inputs(settings: RunSettings, data_dir: Path, warn: Warn) -> V2Inputs:
    """The judgment rows of every category, with the answers of their models and the official baselines."""
    qfile = question_file(data_dir, settings.bench)
    questions = read_questions(qfile) if qfile.is_file() else []
    files = judgment_files(data_dir, settings.bench, list(settings.judges))
    expected = [*V2_BASELINES.values(), *(stem_to_name(f.stem) for f in files)]
    with ForkedChild(lambda: read_answers_info(data_dir, settings.bench, expected)) as reading_answers:
        rows = read_judgment_outcomes(files, settings.weight, {q.uid: q.category for q in questions},
                                      [q.uid for q in questions] if questions else None)
        read = reading_answers.result()
    for warning in rows.skipped.warnings(qfile):
        warn(warning)
    return V2Inputs(rows, questions, read)


def read_judgment_findings(settings: RunSettings, data_dir: Path, answers: dict) -> dict[str, JudgmentFindings]:
    """Per model, the stale and wrongly filed judgments among those the table counts (judgment_checks.py).

    ``answers`` (model -> AnswerInfo, None or an InputError) are the answer
    files read already; the others a record names (another baseline) are read
    here. Without a question file there is nothing to check a prompt against,
    and nothing is reported.
    """
    qfile = question_file(data_dir, settings.bench)
    if not qfile.is_file():
        return {}
    questions = read_questions(qfile)
    if settings.categories:
        wanted = set(settings.categories)
        questions = [q for q in questions if q.category in wanted or q.cluster in wanted]
    known = dict(answers)

    def ans_ids(model: str) -> dict[str, str]:
        if model not in known:
            try:
                known[model] = read_answer_info(data_dir, settings.bench, model)
            except InputError as err:  # a broken answer file is reported where the table needs it
                known[model] = err
        info = known[model]
        return info.ans_ids if isinstance(info, AnswerInfo) else {}

    files = judgment_files(data_dir, settings.bench, list(settings.judges))
    return judgment_findings(files, questions, ans_ids, settings.baseline)
