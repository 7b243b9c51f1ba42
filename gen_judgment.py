#!/usr/bin/env python3
"""Step 2: have the judge(s) compare every model's answers with the baseline's, two games per question."""
from __future__ import annotations

import argparse

from utils.asking.diagnostics import print_diagnostics
from utils.asking.judge_checks import STALE_POLICIES
from utils.asking.judge_inputs import judging_inputs, waiting_for_baselines
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from utils.asking.judging import generate_judgments
from utils.asking.runs import job_lines, print_failures
from utils.cli import JUDGE_SETTINGS, parse_step_arguments, run_cli
from utils.config import check_thinking_budgets, load_api_config, load_judge_settings
from utils.errors import InputError
from utils.names import question_file
from utils.records import read_questions


def judging_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stale", choices=STALE_POLICIES, default="rejudge",
                        help="stored judgments whose answers or judge prompt changed since: judge them again, keep "
                             "them (with a warning), or stop before any request")
    parser.add_argument("--allow-mismatch", action="store_true",
                        help="judge the other answers when some were made for another question (those are still "
                             "skipped and listed)")
    parser.add_argument("--drift-check", type=int, metavar="N",
                        help="instead of judging: ask each judge again N stored games (a fixed sample) and report "
                             "how many labels changed; nothing is stored")


def main() -> int:
    args = parse_step_arguments(__doc__, JUDGE_SETTINGS, judging_flags)
    if args.drift_check is not None and args.drift_check < 1:
        raise InputError(f"must be at least 1, got {args.drift_check}", key="--drift-check")

    settings, doc = load_judge_settings(args.setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, args.model)
    judges = load_api_config(args.endpoint_file, list(settings.judge_models), wanted_from=doc,
                             wanted_key="judge_model")
    check_thinking_budgets(judges, settings.max_tokens, doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))
    inputs = judging_inputs(settings, questions, args)
    for note in inputs.notes:
        print(note)

    if args.drift_check is not None:
        from utils.asking.drift import drift_check, drift_lines
        results = drift_check(inputs.settings, judges, questions, inputs.answers, args.data_dir, args.drift_check)
        print(*drift_lines(results), sep="\n")
        return 1 if any(r.failed for r in results) else 0

    summary = generate_judgments(inputs.settings, judges, questions, inputs.answers, args.data_dir,
                                 stale=args.stale, allow_mismatch=args.allow_mismatch)

    for job in summary.jobs:
        print(*job_lines(job, "judgment"), sep="\n")
    for report in waiting_for_baselines(summary.jobs, inputs, args):
        print(report)
    print_failures(summary.failures)
    print_diagnostics(summary.diagnostics)
    return 1 if summary.failures else 0


if __name__ == "__main__":
    run_cli(main)
