#!/usr/bin/env python3
"""Step 2: have the judge(s) compare every model's answers with the baseline's, two games per question.

With --until-decided A B: judge only A and B, a round of questions at a time, until an anytime-valid interval
for A - B decides (docs/deciding.md)."""
from __future__ import annotations

from utils.asking.batching import BatchOptions
from utils.asking.diagnostics import print_diagnostics
from utils.asking.judge_inputs import judging_inputs, waiting_for_baselines
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from utils.asking.judging import estimate_judgments, generate_judgments
from utils.asking.runs import print_summary
from utils.deciding.flags import deciding_flags, procedure_of
from utils.plumbing.cli import JUDGE_SETTINGS, judging_flags, parse_step_arguments, run_cli
from utils.plumbing.config import check_thinking_budgets, load_api_config, load_judge_settings
from utils.plumbing.names import question_file
from utils.vocabulary.records import read_questions


def main() -> int:
    args = parse_step_arguments(__doc__, JUDGE_SETTINGS,
                                lambda parser: (judging_flags(parser), deciding_flags(parser)))
    procedure = procedure_of(args)
    models = list(args.until_decided) if procedure else args.model
    settings, doc = load_judge_settings(args.setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, models,
                                        args.judge)
    judges = load_api_config(args.endpoint_file, list(settings.judge_models), wanted_from="--judge" if args.judge
                             else doc, wanted_key="judge_model", keys_needed=not args.dry_run,
                             other_choice="--judge NAME judges")
    check_thinking_budgets(judges, settings.max_tokens, doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))[:args.first]
    inputs = judging_inputs(settings, questions, args)
    if procedure is not None:
        from utils.deciding.rounds import until_decided  # numpy and the ranking's reader: only when deciding
        return until_decided(args, procedure, judges, questions, inputs)
    if args.dry_run:
        estimate = estimate_judgments(inputs.settings, judges, questions, inputs.answers, args.data_dir,
                                      inputs.notes, stale=args.stale, allow_mismatch=args.allow_mismatch,
                                      max_cost=args.max_cost,
                                      plan_notes=lambda jobs: waiting_for_baselines(jobs, inputs, args),
                                      assumed=inputs.assumed)
        print(estimate.render(args.json))
        return 0
    for note in inputs.notes:
        print(note)

    if args.drift_check is not None:
        from utils.asking.drift import drift_check, drift_lines
        results = drift_check(inputs.settings, judges, questions, inputs.answers, args.data_dir, args.drift_check)
        print(*drift_lines(results), sep="\n")
        return 1 if any(r.failed for r in results) else 0

    batch = BatchOptions(every_model=args.batch, fallback=args.batch_fallback, wait=args.batch_wait)
    summary = generate_judgments(inputs.settings, judges, questions, inputs.answers, args.data_dir,
                                 stale=args.stale, allow_mismatch=args.allow_mismatch, max_cost=args.max_cost,
                                 batch=batch)
    status = print_summary(summary, "judgment", notes=waiting_for_baselines(summary.jobs, inputs, args))
    print_diagnostics(summary.diagnostics)
    return status


if __name__ == "__main__":
    run_cli(main)
