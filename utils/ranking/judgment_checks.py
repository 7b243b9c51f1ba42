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
from pathlib import Path
from typing import Callable

from utils.vocabulary.answer_checks import judged_prompt_mismatch, shown_answers
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.plumbing.names import stem_to_name
from utils.vocabulary.provenance import reasons_text, stale_reasons
from utils.vocabulary.records import Question, judgment_provenance, record_uid
from utils.ranking.leaderboard import Leaderboard

STALE_FLAG = "stale"
PROMPT_MISMATCH_FLAG = "judged prompt mismatch"
SHOWN_IDS = 3


@dataclass
class JudgmentFindings:
    """One model's counted judgment records, and what is wrong with them."""
    records: int = 0
    stale: dict[str, int] = field(default_factory=dict)  # STALE_REASONS key -> records
    stale_ids: list[str] = field(default_factory=list)
    unknown: int = 0  # records without provenance
    with_prompt: int = 0  # records that kept the prompt the judge saw
    prompt_mismatch: list[str] = field(default_factory=list)  # question ids
    files: set[str] = field(default_factory=set)
    shown: dict[str, str] = field(default_factory=dict)  # question id -> the model's answer the judge saw (if kept)


AnswerIds = Callable[[str], dict[str, str]]  # model -> question id -> the ans_id of its answer now ({} if none)


def judgment_findings(files: list[Path], questions: list[Question], ans_ids: AnswerIds,
                      baseline: str = "", shown: bool = False) -> dict[str, JudgmentFindings]:
    """model -> what its judgment records in ``files`` show; ``baseline`` for records that name none.

    ``shown``: also keep the model's answer as the judge saw it, where both
    games kept their prompts (answer_checks.shown_answers), for
    answer_checks.off_question.
    """
    by_uid = {q.uid: q for q in questions}
    out: dict[str, JudgmentFindings] = {}
    seen: dict[tuple[str, str], set[str]] = {}  # (judge directory, model) -> question ids read: the first counts
    for path in files:
        stem_model = stem_to_name(path.stem)
        for line, obj in iter_jsonl(path):
            record = json_object(obj, path, line)
            uid = record_uid(record)
            model = record.get("model") if isinstance(record.get("model"), str) and record.get("model") else \
                stem_model
            done = seen.setdefault((str(path.parent), model), set())
            if uid is None or uid not in by_uid or uid in done:
                continue
            done.add(uid)
            found = out.setdefault(model, JudgmentFindings())
            found.records += 1
            found.files.add(str(path))
            _check_record(found, record, uid, model, by_uid[uid], ans_ids, baseline, shown)
    return out


def _check_record(found: JudgmentFindings, record: dict, uid: str, model: str, question: Question,
                  ans_ids: AnswerIds, baseline: str, shown: bool) -> None:
    recorded = judgment_provenance(record)
    if recorded is None:
        found.unknown += 1
    else:
        base = record.get("baseline") if isinstance(record.get("baseline"), str) and record.get("baseline") else \
            baseline
        reasons = stale_reasons(recorded, {"ans_id": ans_ids(model).get(uid),
                                           "baseline_ans_id": ans_ids(base).get(uid) if base else None})
        if reasons:
            found.stale_ids.append(uid)
            for reason in reasons:
                found.stale[reason] = found.stale.get(reason, 0) + 1
    games = record.get("games") if isinstance(record.get("games"), list) else []
    prompts = [g.get("user_prompt") for g in games[:2] if isinstance(g, dict) and isinstance(g.get("user_prompt"), str)]
    mismatch = judged_prompt_mismatch(prompts, question)
    if mismatch is not None:
        found.with_prompt += 1
        if mismatch:
            found.prompt_mismatch.append(uid)
    if shown and len(prompts) == 2:
        answers = shown_answers(*prompts)
        if answers is not None:
            found.shown[uid] = answers[1]  # game 1 shows the baseline first, the model second


def findings_warnings(findings: dict[str, JudgmentFindings], judges: str) -> list[str]:
    """One warning per model with stale judgments or judged prompt mismatches."""
    out = []
    for model, f in findings.items():
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


def finding_flags(found: JudgmentFindings | None) -> tuple[str, ...]:
    """The flags a model's row gets: "stale: N", "judged prompt mismatch: N"."""
    if found is None:
        return ()
    return (*([f"{STALE_FLAG}: {len(found.stale_ids)}"] if found.stale_ids else []),
            *([f"{PROMPT_MISMATCH_FLAG}: {len(found.prompt_mismatch)}"] if found.prompt_mismatch else []))


def flag_board(board: Leaderboard, findings: dict[str, JudgmentFindings]) -> Leaderboard:
    """``board`` with each model's row flagged by ``finding_flags``."""
    rows = [replace(r, flags=(*r.flags, *finding_flags(findings.get(r.model)))) if not r.is_baseline else r
            for r in board.rows]
    return replace(board, rows=rows)
