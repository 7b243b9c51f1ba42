"""A quick look at a benchmark's answers and judgments: what would be judged, or was counted, that should not be.

    python -m utils.check_answers --bench-name B [--model M ...] [--judge-name J ...] [--data-dir D]

Per model, its answers that are truncated, empty, refusals, still hold
reasoning, or are mismatched (made for another question), and how many fit
other questions better than their own; per judge and model, the judgments
that are stale, kept no provenance, or were judged on a prompt that does not
hold their question, and whether the answers the judge was shown fit other
questions (utils/vocabulary/answer_checks.py, utils/ranking/judgment_checks.py).
Exit status 1 when something makes the numbers wrong (mismatched answers,
stale or wrongly filed judgments, answers paired with the wrong questions),
else 0; 2 for bad input.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from utils.vocabulary.answer_checks import ALL_CHECKS, MISMATCHED, check_answers, off_question, wrongly_paired
from utils.plumbing.cli import DATA_DIR, run_cli
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_file, check_name, judgment_dir, question_file, stem_to_name
from utils.ranking.judgment_checks import judgment_findings
from utils.ranking.judgments import ReadOptions, read_judgments
from utils.vocabulary.provenance import turns_digest
from utils.vocabulary.records import Answer, read_answers, read_questions

SHOWN_IDS = 5


def _parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m utils.check_answers", description=__doc__.splitlines()[0])
    p.add_argument("--bench-name", required=True, help="the benchmark under --data-dir")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="check this model (repeatable); default: every answer file and judged model")
    p.add_argument("--judge-name", action="append", metavar="JUDGE",
                   help="check this judge's judgments (repeatable); default: every judge's")
    p.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the benchmarks live")
    return p.parse_args(argv)


def _ids(uids: list[str]) -> str:
    return ", ".join(uids[:SHOWN_IDS]) + (f", ... ({len(uids) - SHOWN_IDS} more)" if len(uids) > SHOWN_IDS else "")


def _judges(args: argparse.Namespace) -> list[str]:
    root = args.data_dir / args.bench_name / "model_judgment"
    if args.judge_name:
        for judge in args.judge_name:
            check_name(judge, "--judge-name")
            if not judgment_dir(args.data_dir, args.bench_name, judge).is_dir():
                raise InputError(f"no judgments by judge {judge!r}: directory not found",
                                 judgment_dir(args.data_dir, args.bench_name, judge), key="--judge-name")
        return args.judge_name
    return sorted(stem_to_name(d.name) for d in root.iterdir() if d.is_dir()) if root.is_dir() else []


def _keys(answers: dict[str, Answer]) -> tuple[dict[str, str], dict[str, str]]:
    """question id -> each answer's id, and -> the digest of its text (what stale judgments are told by)."""
    return ({u: a.ans_id for u, a in answers.items() if a.ans_id},
            {u: turns_digest(a.turns) for u, a in answers.items() if a.turns})


def main(argv=None) -> int:
    args = _parse(argv)
    bench = check_name(args.bench_name, "--bench-name")
    questions = read_questions(question_file(args.data_dir, bench))
    judges = _judges(args)
    judged_files = {judge: sorted(judgment_dir(args.data_dir, bench, judge).glob("*.jsonl")) for judge in judges}
    if args.model:
        models = [check_name(m, "--model") for m in args.model]
    else:
        found = sorted((args.data_dir / bench / "model_answer").glob("*.jsonl"))
        models = list(dict.fromkeys([*(stem_to_name(f.stem) for f in found),
                                     *(stem_to_name(f.stem) for files in judged_files.values() for f in files)]))
    answers: dict[str, dict[str, Answer]] = {}
    for model in models:
        path = answer_file(args.data_dir, bench, model)
        if path.is_file():
            answers[model] = read_answers(path)
        elif args.model and not any(f.stem == path.stem for files in judged_files.values() for f in files):
            raise InputError(f"no answers and no judgments of {model!r}", path, key="--model")
    problems = 0

    print(f"answers ({bench}, {len(questions)} questions): model | answers | " + " | ".join(ALL_CHECKS)
          + " | fit another question better")
    for model, by_uid in answers.items():
        counts = check_answers(by_uid, questions)
        off = off_question({uid: a.text for uid, a in by_uid.items()}, questions)
        paired_wrongly = wrongly_paired(len(off), counts.answers)
        print(f"  {model} | {counts.answers} | " + " | ".join(str(n) for n in counts.counts().values())
              + f" | {len(off)}" + (" PAIRED WITH THE WRONG QUESTIONS" if paired_wrongly else ""))
        for check in ALL_CHECKS:
            if counts.failed[check]:
                print(f"    {check}: question {_ids(counts.failed[check])}")
        problems += bool(counts.failed[MISMATCHED]) + paired_wrongly

    for judge, files in judged_files.items():
        chosen = [f for f in files if stem_to_name(f.stem) in models]
        if not chosen:
            continue
        records = read_judgments([judge], [(0, f) for f in chosen], ReadOptions(questions, prompts=True))
        findings = judgment_findings(records, questions, lambda m: _keys(answers.get(m, {})), shown=True)
        print(f"judgments ({judge}): model | judgments | stale | no provenance | kept their prompt | judged prompt "
              "mismatch | answers shown to the judge that fit another question better")
        for model, f in findings.items():
            off = off_question(f.shown, questions)
            paired_wrongly = wrongly_paired(len(off), len(f.shown))
            print(f"  {model} | {f.records} | {len(f.stale_ids)} | {f.unknown} | {f.with_prompt} | "
                  f"{len(f.prompt_mismatch)} | {len(off)} of {len(f.shown)}"
                  + (" PAIRED WITH THE WRONG QUESTIONS" if paired_wrongly else ""))
            if f.stale_ids:
                print(f"    stale: question {_ids(f.stale_ids)}")
            if f.prompt_mismatch:
                print(f"    judged prompt mismatch: question {_ids(f.prompt_mismatch)}")
            problems += bool(f.stale_ids) + bool(f.prompt_mismatch) + paired_wrongly
    return 1 if problems else 0


if __name__ == "__main__":
    run_cli(main)
