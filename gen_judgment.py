#!/usr/bin/env python3
"""Step 2: have the judge(s) compare every model's answers with the baseline's, two games per question."""
from __future__ import annotations

from utils.asking.batching import EXIT_BATCHES_RUNNING, BatchOptions, report_running
from utils.asking.diagnostics import print_diagnostics
from utils.asking.judge_inputs import judging_inputs, waiting_for_baselines
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from utils.asking.judging import generate_judgments
from utils.asking.runs import job_lines, print_failures
from utils.cli import JUDGE_SETTINGS, parse_step_arguments, run_cli
from utils.config import check_thinking_budgets, load_api_config, load_judge_settings
from utils.names import question_file
from utils.records import read_questions


def main() -> int:
    args = parse_step_arguments(__doc__, JUDGE_SETTINGS)

    settings, doc = load_judge_settings(args.setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, args.model)
    judges = load_api_config(args.endpoint_file, list(settings.judge_models), wanted_from=doc,
                             wanted_key="judge_model")
    check_thinking_budgets(judges, settings.max_tokens, doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))
    inputs = judging_inputs(settings, questions, args)
    for note in inputs.notes:
        print(note)

    batch = BatchOptions(every_model=args.batch, fallback=args.batch_fallback, wait=args.batch_wait)
    summary = generate_judgments(inputs.settings, judges, questions, inputs.answers, args.data_dir, batch)

    for job in summary.jobs:
        print(*job_lines(job, "judgment"), sep="\n")
    for report in waiting_for_baselines(summary.jobs, inputs, args):
        print(report)
    print_failures(summary.failures)
    print_diagnostics(summary.diagnostics)
    if report_running(summary.batches_running):
        return EXIT_BATCHES_RUNNING
    return 1 if summary.failures else 0


if __name__ == "__main__":
    run_cli(main)
