"""Before a decision sends anything: every question of the benchmark can be judged for both models.

The sequence is about the benchmark's questions, all of them; a question
that can never be judged for one model is never scored, the judged start of
the order stops growing there, and the run would pay round after round for
an interval that no longer moves. So what judging would leave out is refused
here, before the first request, as one line (exit status 2): a missing answer
(of either model, the question's baseline or the reference model), an answer
the judge config's ``answer_checks`` skips, and an answer made for another
question (never judged; docs/design.md#answer-checks).
"""
from __future__ import annotations

from pathlib import Path

from utils.plumbing.config import JudgeSettings
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_file
from utils.vocabulary.answer_checks import MISMATCHED, answer_issues, is_mismatched, skipped_checks
from utils.vocabulary.records import Answer, Question

SHOWN = 3  # unjudgeable answers a refusal names before "and N more"


def check_judgeable(settings: JudgeSettings, questions: list[Question], answers: dict[str, dict[str, Answer]],
                    models: tuple[str, str], data_dir: Path, setting_file: Path) -> None:
    """Refuse (InputError) a decision some question of which judging would leave out, or whose model is a
    baseline (it cannot be judged against itself)."""
    for q in questions:
        baseline = settings.prompt_for(q.category).baseline_model
        if baseline in models:
            raise InputError(f"{baseline} is the baseline of category {q.category!r}: it cannot be decided on "
                             "against itself", key="--until-decided")
        for model in (*models, baseline, *([settings.ref_model] if settings.ref_model else [])):
            if q.uid not in answers.get(model, {}):
                raise InputError(f"no answer of {model} to question {q.uid}: every question must be judgeable for "
                                 "both models before deciding", answer_file(data_dir, settings.bench_name, model))
    found = unjudged_answers(settings, questions, answers, models)
    if not found:
        return
    named = "; ".join(f"{model}'s answer to question {uid} ({why})" for model, uid, why in found[:SHOWN])
    more = f", and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    skipped = list(dict.fromkeys(why.removesuffix(": skip") for _, _, why in found if why.endswith(": skip")))
    fix = f"fix those answers, or set {', '.join(f'{check}: judge' for check in skipped)} in answer_checks" \
        if skipped else "make those answers again for their own questions"
    where = (setting_file, "answer_checks") if skipped else \
        (answer_file(data_dir, settings.bench_name, found[0][0]), "messages")
    raise InputError(f"{len(found)} answer(s) would never be judged, so the decision could never be reached: "
                     f"{named}{more}; {fix}", where[0], key=where[1])


def unjudged_answers(settings: JudgeSettings, questions: list[Question], answers: dict[str, dict[str, Answer]],
                     models: tuple[str, str]) -> list[tuple[str, str, str]]:
    """(model, question id, why) of every answer judging would leave out: made for another question (either
    model's, or the baseline's), or failing a check ``answer_checks`` skips."""
    found = []
    for q in questions:
        baseline = settings.prompt_for(q.category).baseline_model
        for model in models:
            issues = answer_issues(answers[model][q.uid], q)
            if MISMATCHED in issues:
                found.append((model, q.uid, "made for another question"))
            found += [(model, q.uid, f"{check}: skip") for check in skipped_checks(issues, settings.answer_checks)]
        if is_mismatched(answers[baseline][q.uid], q):
            found.append((baseline, q.uid, "made for another question"))
    return found
