"""What judging finds about its inputs before the first request: stale judgments, answers failing checks.

Planning (judging.plan) fills one ``PlanChecks`` per judgment file
(``Job.checks``): the stored judgments whose answers or judge prompt changed
since (utils/vocabulary/provenance.py), those that cannot be told (no provenance), and
the model's answers that fail a check (utils/vocabulary/answer_checks.py), with the
questions left unjudged for it. ``plan_report`` says what was found,
``check_plan`` stops the run (exit 2, nothing sent) when ``--stale fail``
meets a stale judgment or an answer is mismatched without
``--allow-mismatch``. ``plan_counts`` is the summary a dry run lists per file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from utils.vocabulary.answer_checks import MISMATCHED, AnswerCounts, answer_issues, is_mismatched, skipped_checks
from utils.asking.jobs import Job
from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl
from utils.plumbing.names import answer_file
from utils.vocabulary.provenance import reasons_text
from utils.vocabulary.records import Answer, Question, record_uid

SHOWN_IDS = 5  # question ids a line lists before "..."


@dataclass
class PlanChecks:
    """What planning found about one judgment file (``Job.checks``)."""
    stale: dict[str, int] = field(default_factory=dict)  # STALE_REASONS key -> stale judgments with that reason
    stale_ids: list[str] = field(default_factory=list)  # the questions whose judgment is stale
    kept_stale: bool = False  # --stale keep: they stay and count
    unknown: int = 0  # stored judgments without provenance: stale or not cannot be told
    answers: AnswerCounts = field(default_factory=AnswerCounts)  # the model's answers to the file's questions
    baseline_mismatched: dict[str, list[str]] = field(default_factory=dict)  # baseline -> its mismatched answers
    skipped: dict[str, int] = field(default_factory=dict)  # check -> questions not judged under answer_checks: skip

    def add_stale(self, uid: str, reasons: list[str]) -> None:
        self.stale_ids.append(uid)
        for reason in reasons:
            self.stale[reason] = self.stale.get(reason, 0) + 1

    def check_answer(self, question: Question, answer: Answer) -> list[str]:
        """The checks the model's answer to ``question`` fails, counted."""
        issues = answer_issues(answer, question)
        self.answers.add(question.uid, issues)
        return issues

    def blocked(self, question: Question, issues: list[str], baseline: Answer, policies: dict[str, str]) -> bool:
        """Whether a pairing is not judged: a mismatched answer (either side), or a check set to skip.

        ``issues`` are the model's answer's (``check_answer``); a skip is counted here.
        """
        if MISMATCHED in issues:
            return True
        if is_mismatched(baseline, question):
            self.baseline_mismatched.setdefault(baseline.model, []).append(question.uid)
            return True
        skipped = skipped_checks(issues, policies)
        for check in skipped:
            self.skipped[check] = self.skipped.get(check, 0) + 1
        return bool(skipped)

    def diagnostics(self) -> dict[str, int]:
        """The answer checks' counts, as columns of diagnostics.json."""
        return self.answers.counts()


def plan_counts(job: Job) -> dict[str, int]:
    """Per judgment file, what a dry run lists: stale judgments and mismatched answers (model's and baseline's)."""
    checks: PlanChecks | None = job.checks
    if checks is None:
        return {"stale": 0, "mismatched": 0}
    baseline = sum(len(ids) for ids in checks.baseline_mismatched.values())
    return {"stale": len(checks.stale_ids), "mismatched": len(checks.answers.failed[MISMATCHED]) + baseline}


def _ids(uids: list[str]) -> str:
    return ", ".join(uids[:SHOWN_IDS]) + (f", ... ({len(uids) - SHOWN_IDS} more)" if len(uids) > SHOWN_IDS else "")


def plan_report(jobs: list[Job], stale_policy: str) -> list[str]:
    """What planning found, to print before the first request: stale judgments per file and why, records of
    unknown provenance (one line for the run), answers failing checks and the questions they leave unjudged."""
    lines = []
    unknown = {job.who: job.checks.unknown for job in jobs if job.checks and job.checks.unknown}
    for job in jobs:
        checks: PlanChecks | None = job.checks
        if checks is None:
            continue
        if checks.stale_ids:
            n = len(checks.stale_ids)
            what = {"rejudge": "judged again", "keep": "kept as they are (--stale keep)",
                    "fail": "not judged: the run stops (--stale fail)"}[stale_policy]
            prefix = "warning: " if stale_policy != "rejudge" else ""
            lines.append(f"{prefix}{job.who}: {n} stale judgment(s), {what}: {reasons_text(checks.stale)} "
                         f"(question {_ids(checks.stale_ids)})")
        counts = checks.answers.counts()
        failed = {check: n for check, n in counts.items() if n}
        if failed:
            shown = ", ".join(f"{n} {check}" for check, n in failed.items())
            lines.append(f"{job.who}: of {checks.answers.answers} answers of {job.model}: {shown}")
        if checks.skipped:
            lines.append("  not judged (answer_checks: skip): " + ", ".join(
                f"{n} {check}" for check, n in checks.skipped.items()))
        if checks.answers.failed[MISMATCHED]:
            lines.append(f"  mismatched answers of {job.model} are never judged: their stored prompt is not their "
                         f"question's (question {_ids(checks.answers.failed[MISMATCHED])})")
        for baseline, uids in checks.baseline_mismatched.items():
            lines.append(f"  {len(uids)} answer(s) of the baseline {baseline} are mismatched and not judged against "
                         f"(question {_ids(uids)})")
    if unknown:
        lines.append(f"note: {sum(unknown.values())} stored judgment(s) record no provenance (written before it "
                     f"was kept: {', '.join(f'{who}: {n}' for who, n in unknown.items())}); whether their answers or "
                     "prompt changed cannot be told, so they are kept")
    return lines


def check_plan(jobs: list[Job], stale_policy: str, allow_mismatch: bool, data_dir: Path, bench: str) -> None:
    """Stop the run before any request (InputError, exit 2) for stale judgments under --stale fail, or for
    mismatched answers without --allow-mismatch."""
    if stale_policy == "fail":
        stale = [job for job in jobs if job.checks and job.checks.stale_ids]
        if stale:
            total = sum(len(job.checks.stale_ids) for job in stale)
            raise InputError(f"{total} stored judgment(s) are stale (listed above; the first: question "
                             f"{stale[0].checks.stale_ids[0]}): run with --stale rejudge to judge them again, or "
                             "--stale keep to keep them", stale[0].store.path, key="--stale")
    if allow_mismatch:
        return
    for job in jobs:
        checks: PlanChecks | None = job.checks
        if checks is None:
            continue
        found = [(job.model, checks.answers.failed[MISMATCHED])] + list(checks.baseline_mismatched.items())
        for model, uids in found:
            if uids:
                path = answer_file(data_dir, bench, model)
                raise InputError(f"{len(uids)} answer(s) of {model} were made for another question: their stored "
                                 f"prompt is not the question's (question {uids[0]}; all listed above). Fix the "
                                 "answer file, or pass --allow-mismatch to judge the other answers",
                                 path, _line_of(path, uids[0]), "messages")


def _line_of(path: Path, uid: str) -> int | None:
    """The line of ``uid``'s answer in an answer file (the last one, as reading keeps the last)."""
    found = None
    if path.is_file():
        for line, obj in iter_jsonl(path):
            if isinstance(obj, dict) and record_uid(obj) == uid:
                found = line
    return found
