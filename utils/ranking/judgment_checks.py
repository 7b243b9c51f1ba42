"""What a table should say about its judgments besides their verdicts: stale ones, and ones judged on another prompt.

Per model, over the judgment records the numbers count (the first of a
judge, model and question, of a question in the question file):

* ``stale``: the record's provenance names answers (``ans_id``,
  ``baseline_ans_id``) other than those in the answer files now, so its
  verdicts are about texts that are no longer there (utils/vocabulary/provenance.py);
  records without provenance are ``unknown``;
* ``prompt_mismatch``: the prompt kept with the record does not hold its
  question's text (utils/answer_checks.judged_prompt_mismatch): the verdict
  was filed under the wrong question id.

show_result.py warns about both and flags the model ("stale: N", "judged
prompt mismatch: N") in the table, the CSV's flags column and the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from utils.ranking.answer_info import AnswerInfo
from utils.ranking.judgments import NO_PROMPT, PROMPT_MISMATCH, JudgmentRecords, OddGame
from utils.ranking.results import Leaderboard
from utils.ranking.run import RunData
from utils.ranking.settings import RunSettings
from utils.vocabulary.provenance import reasons_text, stale_reasons
from utils.vocabulary.records import Question

STALE_FLAG = "stale"
PROMPT_MISMATCH_FLAG = "judged prompt mismatch"
LABEL_FLAG = "label not in its judge text"
INVALID_FLAG = "invalid games"
FLAGS = (STALE_FLAG, PROMPT_MISMATCH_FLAG, LABEL_FLAG, INVALID_FLAG)  # what a table marks beside a model's row
SHOWN_IDS = 3
SHOWN_GAMES = 5  # games a warning lists


@dataclass
class JudgmentFindings:
    """One model's counted judgment records, and what is wrong with them."""
    records: int = 0
    stale: dict[str, int] = field(default_factory=dict)  # STALE_REASONS key -> records
    stale_ids: list[str] = field(default_factory=list)
    unknown: int = 0  # records without provenance
    with_provenance: int = 0
    with_prompt: int = 0  # records that kept the prompt the judge saw
    prompt_mismatch: list[str] = field(default_factory=list)  # question ids
    shown: dict[str, str] = field(default_factory=dict)  # question id -> the model's answer the judge saw (if kept)
    disagreeing: list[OddGame] = field(default_factory=list)  # games whose stored label is not their text's
    invalid: list[OddGame] = field(default_factory=list)  # games whose label, or which, is not one


# model -> (question id -> the ans_id of its answer now, question id -> its text's digest now); {} where none
AnswerIds = Callable[[str], tuple[dict[str, str], dict[str, str]]]


def judgment_findings(records: JudgmentRecords, questions: list[Question] | None, ans_ids: AnswerIds,
                      baseline: str = "", shown: bool = False) -> dict[str, JudgmentFindings]:
    """model -> what its counted records of a question of ``questions`` show; ``baseline`` for records that name none.

    ``shown``: also keep the model's answer as the judge saw it, where both
    games kept their prompts (``records.prompts``; answer_checks.shown_answers),
    for answer_checks.off_question.
    """
    mine = records.on_questions(q.uid for q in questions) if questions is not None else np.ones(len(records), bool)
    chosen = np.flatnonzero(mine)
    out: dict[str, JudgmentFindings] = {}
    _, first, counts = np.unique(records.model[chosen], return_index=True, return_counts=True)
    for f, n in sorted(zip(first.tolist(), counts.tolist())):  # models in order of their first record
        out[records.names[records.model[chosen[f]]]] = JudgmentFindings(records=n)
    provenance = records.provenance
    if provenance.count(None) < len(provenance):  # some records say what they judged (counted in C: the usual no)
        for i in [i for i in chosen.tolist() if provenance[i] is not None]:
            _check_provenance(out[records.names[records.model[i]]], records, i, ans_ids, baseline)
    kept = chosen[records.prompt[chosen] != NO_PROMPT]
    for m, n in zip(*np.unique(records.model[kept], return_counts=True)):
        out[records.names[m]].with_prompt = int(n)
    wrong = kept[records.prompt[kept] == PROMPT_MISMATCH]
    wrong = wrong[np.argsort(records.model[wrong], kind="stable")]  # by model, each in record order
    models, starts = np.unique(records.model[wrong], return_index=True)
    uids = list(map(records.questions.__getitem__, records.question[wrong].tolist()))
    for m, start, end in zip(models.tolist(), starts.tolist(), [*starts[1:].tolist(), len(wrong)]):
        out[records.names[m]].prompt_mismatch.extend(uids[start:end])
    for f in out.values():
        f.unknown = f.records - f.with_provenance
    wanted = set(records.questions[q] for q in np.unique(records.question[chosen]).tolist())
    for odd in records.disagreeing:
        if odd.uid in wanted:
            out[odd.model].disagreeing.append(odd)
    for odd in records.invalid:
        if odd.uid in wanted:
            out[odd.model].invalid.append(odd)
    if shown:
        from utils.vocabulary.answer_checks import shown_answers  # check_answers' question: not show_result's
        for i in chosen.tolist():
            model, uid = records.names[records.model[i]], records.questions[records.question[i]]
            prompts = records.prompts.get((int(records.judge[i]), model, uid))
            answers = shown_answers(*prompts) if prompts else None
            if answers is not None:
                out[model].shown[uid] = answers[1]  # game 1 shows the baseline first, the model second
    return out


def _check_provenance(found: JudgmentFindings, records: JudgmentRecords, i: int, ans_ids: AnswerIds,
                      baseline: str) -> None:
    """Whether record ``i`` judged the answers in the files now (utils/vocabulary/provenance.py)."""
    found.with_provenance += 1
    uid, model = records.questions[records.question[i]], records.names[records.model[i]]
    base = records.names[records.baseline[i]] if records.baseline[i] >= 0 else baseline
    ids, digests = ans_ids(model)
    base_ids, base_digests = ans_ids(base) if base else ({}, {})
    reasons = stale_reasons(records.provenance[i], {"ans_id": ids.get(uid), "answer_digest": digests.get(uid),
                                                    "baseline_ans_id": base_ids.get(uid),
                                                    "baseline_digest": base_digests.get(uid)})
    if reasons:
        found.stale_ids.append(uid)
        for reason in reasons:
            found.stale[reason] = found.stale.get(reason, 0) + 1


def findings_warnings(findings: dict[str, JudgmentFindings], judges: str) -> list[str]:
    """One warning per model and kind of finding: stale judgments, judged prompt mismatches, labels their judge
    texts do not give, invalid games."""
    out = []
    for model, f in findings.items():
        if f.disagreeing:
            out.append(f"warning: {judges} / {model}: {len(f.disagreeing)} games store a label that is not the verdict "
                       f"their judge text gives ({LABEL_FLAG}; {_listing(f.disagreeing, _disagreement)}): the table "
                       "counts the stored labels; were they edited by hand?")
        if f.invalid:
            out.append(f"warning: {judges} / {model}: {len(f.invalid)} {INVALID_FLAG}, counted as no verdict: "
                       f"{_listing(f.invalid, lambda odd: odd.stored)}")
        if f.stale_ids:
            out.append(f"warning: {judges} / {model}: {len(f.stale_ids)} of {f.records} judgments are stale "
                       f"({reasons_text(f.stale)}; e.g. question {', '.join(f.stale_ids[:SHOWN_IDS])}): they judged "
                       "answers no longer in the answer files; gen_judgment.py judges them again")
        if f.prompt_mismatch:
            out.append(f"warning: {judges} / {model}: {len(f.prompt_mismatch)} of {f.with_prompt} judgments that kept "
                       "their prompt were judged on a prompt that does not hold their question's text (judged prompt "
                       f"mismatch; e.g. question {', '.join(f.prompt_mismatch[:SHOWN_IDS])}): they were filed under "
                       "the wrong question ids")
    return out


def _listing(games: list[OddGame], what) -> str:
    """The first few odd games as ``file:line game N: what``."""
    shown = [f"{odd.source}:{odd.line} game {odd.game + 1}: {what(odd)}" for odd in games[:SHOWN_GAMES]]
    return "; ".join(shown) + (f"; and {len(games) - SHOWN_GAMES} more" if len(games) > SHOWN_GAMES else "")


def _disagreement(odd: OddGame) -> str:
    said = f"its text gives {odd.text_label}" if odd.text_label else "its text names several verdicts"
    return f"stores {odd.stored}, {said}"


def finding_flags(found: JudgmentFindings | None) -> tuple[str, ...]:
    """The flags a model's row gets: "stale: N", "judged prompt mismatch: N", "label not in its judge text: N",
    "invalid games: N"."""
    if found is None:
        return ()
    counts = (len(found.stale_ids), len(found.prompt_mismatch), len(found.disagreeing), len(found.invalid))
    return tuple(f"{flag}: {n}" for flag, n in zip(FLAGS, counts) if n)


def flag_board(board: Leaderboard, findings: dict[str, JudgmentFindings]) -> Leaderboard:
    """``board`` with each model's row flagged by ``finding_flags``."""
    rows = [replace(r, flags=(*r.flags, *finding_flags(findings.get(r.model)))) if not r.is_baseline else r
            for r in board.rows]
    return replace(board, rows=rows)


def run_findings(run: RunData, settings: RunSettings) -> dict[str, JudgmentFindings]:
    """The findings of a show_result run's counted records of its questions (after --category, a subcategory
    too); nothing when the battles came from a file. Without a question file there is nothing to check a
    prompt or an answer against: only the labels are checked."""
    if run.records is None:
        return {}
    if not run.questions:
        return judgment_findings(run.records, None, lambda model: ({}, {}), settings.baseline)
    wanted = set(settings.categories)
    questions = [q for q in run.questions if not wanted or q.category in wanted or q.cluster in wanted]

    def ans_ids(model: str) -> tuple[dict[str, str], dict[str, str]]:
        info = run.answers.get(model)
        return (info.ans_ids, info.digests) if isinstance(info, AnswerInfo) else ({}, {})

    return judgment_findings(run.records, questions, ans_ids, settings.baseline)


def flag_boards(boards: list[Leaderboard], findings: dict[str, JudgmentFindings], warn) -> list[Leaderboard]:
    """The boards with each model's findings flagged, after a warning for each."""
    for warning in findings_warnings(findings, "+".join(boards[0].settings.judges)):
        warn(warning)
    return [flag_board(board, findings) for board in boards]
